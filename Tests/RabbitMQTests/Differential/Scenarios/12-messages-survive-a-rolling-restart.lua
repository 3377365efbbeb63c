-- A quorum queue keeps every confirmed message through the restart of each of its members.
runbook { name = "messages-survive-a-rolling-restart" }
local n1, n2, n3 = table.unpack(cluster.nodes{ all = true })

step("observe", function()
  cluster.declare_queue{ name = "d.q", type = "quorum", node = n1 }
  note("obs.confirmed", cluster.publish("d.q", 20, { mandatory = true }))
  confirm("Restart n2?")
  n2:drain()
  n2:stop()
  n2:start()
  n2:await_running{ timeout = 120 }
  gate.node_running(n2, { timeout = 60 })
  gate.cluster_healthy{ timeout = 60 }
  note("obs.consumed", cluster.consume("d.q", 100))
end)
