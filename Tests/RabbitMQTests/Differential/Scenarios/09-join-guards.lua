-- join_cluster needs the app stopped (64); joining a node to itself fails (70); joining a
-- cluster it is already a member of succeeds.
runbook { name = "join-guards" }
local n1, n2, n3 = table.unpack(cluster.nodes{ all = true })

step("observe", function()
  confirm("Try joins on n2?")
  local ok, err = pcall(function() n2:join(n1) end)
  note("obs.join_app_running", ok and "ok" or err.code)
  n2:stop_app{ unsafe = true }
  local ok2, err2 = pcall(function() n2:join(n2) end)
  note("obs.join_itself", ok2 and "ok" or err2.code)
  local ok3, err3 = pcall(function() n2:join(n1) end)
  note("obs.join_already_member", ok3 and "ok" or err3.code)
  n2:start_app()
  n2:await_running{ timeout = 120 }
end)
