-- rabbitmq-queues grow onto a node whose app is stopped exits 0 and grows nothing.
runbook { name = "grow-onto-a-stopped-app" }
local n1, n2, n3 = table.unpack(cluster.nodes{ all = true })

step("observe", function()
  cluster.declare_queue{ name = "d.q", type = "quorum", node = n1, group_size = 2 }
  confirm("Stop the app on n3?")
  n3:stop_app{ unsafe = true }
  local ok, grown = pcall(function() return cluster.grow(n3, "all") end)
  local mine = 0
  if ok then for _, q in ipairs(grown) do if q == "d.q" then mine = mine + 1 end end end
  note("obs.grow_ok", ok)
  note("obs.grown_d_q", mine)
  n3:start_app()
  n3:await_running{ timeout = 120 }
  local grown2 = cluster.grow(n3, "all")
  local again = 0
  for _, q in ipairs(grown2) do if q == "d.q" then again = again + 1 end end
  note("obs.grown_after_start", again)
end)
