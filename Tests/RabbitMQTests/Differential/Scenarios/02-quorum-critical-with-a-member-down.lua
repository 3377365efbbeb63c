-- A node is quorum-critical for a 3-replica queue when only 2 replicas are online.
runbook { name = "quorum-critical-with-a-member-down" }
local n1, n2, n3 = table.unpack(cluster.nodes{ all = true })

step("observe", function()
  cluster.declare_queue{ name = "d.q", type = "quorum", node = n1 }
  local before = n1:quorum_critical()
  note("obs.critical_healthy", before)
  confirm("Stop the app on n3?")
  n3:stop_app{ unsafe = true }
  local critical, queues = n1:quorum_critical()
  local mine = false
  for _, q in ipairs(queues) do if q == "d.q" then mine = true end end
  note("obs.critical_with_n3_down", critical and mine)
  n3:start_app()
  n3:await_running{ timeout = 120 }
end)
