-- After a full stop, a node that did not stop last waits for its peers (ping answers, the app
-- does not run); the last one stopped boots at once, and the waiting one follows.
runbook { name = "start-order" }
local n1, n2, n3 = table.unpack(cluster.nodes{ all = true })

step("observe", function()
  confirm("Stop every node, n1 last?")
  n3:stop{ unsafe = true }
  n2:stop{ unsafe = true }
  n1:stop{ unsafe = true }
  n2:start()
  local waited = pcall(function() n2:await_running{ timeout = 15 } end)
  note("obs.n2_runs_alone", waited)
  note("obs.n2_answers_ping", n2:ping())
  n1:start()
  n1:await_running{ timeout = 120 }
  n2:await_running{ timeout = 120 }
  n3:start()
  n3:await_running{ timeout = 120 }
  note("obs.all_running", #cluster.status().running)
end)
