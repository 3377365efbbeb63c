-- The leader stops with a majority left: a follower is elected, no message is lost.
runbook { name = "failover" }
local n1, n2, n3 = table.unpack(cluster.nodes{ all = true })

local function q()
  for _, x in ipairs(cluster.queues{ type = "quorum" }) do if x.name == "d.q" then return x end end
end

step("observe", function()
  cluster.declare_queue{ name = "d.q", type = "quorum", node = n1 }
  note("obs.leader_before", q().leader)
  cluster.publish("d.q", 10, { mandatory = true })
  confirm("Stop n1?")
  n1:stop{ unsafe = true }
  wait_until(function() local x = q(); return x and x.leader and x.leader ~= n1.name end,
    { timeout = 60, every = 1, what = "a new leader" })
  local x = q()
  note("obs.available", x.available)
  note("obs.leader_moved", x.leader ~= n1.name)
  n1:start()
  n1:await_running{ timeout = 120 }
  note("obs.consumed", cluster.consume("d.q", 100))
end)
