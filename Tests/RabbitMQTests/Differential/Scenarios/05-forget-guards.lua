-- forget_cluster_node of a node whose app runs is refused by the server (69); after stop_app it
-- works and shrinks quorum queues; forgetting it again: not in the cluster (69).
runbook { name = "forget-guards" }
local n1, n2, n3 = table.unpack(cluster.nodes{ all = true })

step("observe", function()
  cluster.declare_queue{ name = "d.q", type = "quorum", node = n1 }
  confirm("Forget n3?")
  local ok, err = pcall(function() n1:forget(n3, { unsafe = true }) end)
  note("obs.forget_running", ok and "ok" or err.code)
  n3:stop_app{ unsafe = true }
  n1:forget(n3, { unsafe = true })
  for _, q in ipairs(cluster.queues{ type = "quorum" }) do
    if q.name == "d.q" then note("obs.members_after_forget", #q.members) end
  end
  local ok2, err2 = pcall(function() n1:forget(n3, { unsafe = true }) end)
  note("obs.forget_again", ok2 and "ok" or err2.code)
  -- Back into the cluster: a forgotten node must be reset before it can rejoin.
  local okr, errr = pcall(function() n3:reset() end)
  note("obs.reset_after_forget", okr and "ok" or errr.code)
  if not okr then n3:force_reset() end
  n3:join(n1)
  n3:start_app()
  n3:await_running{ timeout = 120 }
  cluster.grow(n3, "all")
end)
