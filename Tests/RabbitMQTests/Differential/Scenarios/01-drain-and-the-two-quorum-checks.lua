-- After drain: check_if_node_is_quorum_critical exempts the drained node, while
-- await_online_quorum_plus_one counts its stopped replicas and times out (69).
runbook { name = "drain-and-the-two-quorum-checks" }
local n1, n2, n3 = table.unpack(cluster.nodes{ all = true })

step("observe", function()
  cluster.declare_queue{ name = "d.q", type = "quorum", node = n2 }
  local ok = pcall(function() n1:await_online_quorum_plus_one{ timeout = 5 } end)
  note("obs.await_before_drain_ok", ok)
  confirm("Drain n1?")
  n1:drain()
  local critical = n1:quorum_critical()
  note("obs.critical_after_drain", critical)
  local ok2, err = pcall(function() n1:await_online_quorum_plus_one{ timeout = 5 } end)
  note("obs.await_after_drain", ok2 and "ok" or err.code)
  n1:revive()
  note("obs.await_after_revive_ok", (pcall(function() n1:await_online_quorum_plus_one{ timeout = 30 } end)))
end)
