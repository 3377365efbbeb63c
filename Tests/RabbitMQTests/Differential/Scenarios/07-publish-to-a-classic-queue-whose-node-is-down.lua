-- Publishing to a classic queue whose node is down is no error: unroutable, confirmed and
-- dropped; with mandatory the message comes back.
runbook { name = "publish-to-a-classic-queue-whose-node-is-down" }
local n1, n2, n3 = table.unpack(cluster.nodes{ all = true })

step("observe", function()
  cluster.declare_queue{ name = "d.c", type = "classic", node = n2 }
  confirm("Stop n2?")
  n2:stop{ unsafe = true }
  local ok, confirmed = pcall(function() return cluster.publish("d.c", 3) end)
  note("obs.publish_ok", ok)
  note("obs.confirmed", ok and confirmed or -1)
  local ok2, routed = pcall(function() return cluster.publish("d.c", 2, { mandatory = true }) end)
  note("obs.routed_mandatory", ok2 and routed or -1)
  n2:start()
  n2:await_running{ timeout = 120 }
  note("obs.consumed_after_restart", cluster.consume("d.c", 100))
end)
