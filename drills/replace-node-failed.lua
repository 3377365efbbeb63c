-- n3 has failed (its VM is gone) before the replacement starts: n4 joins and gets replicas while
-- n3 stays down, then n3 is forgotten without anyone trying to stop it.
return {
  target = { nodes = 3, spares = 1, seed = 14 },
  runbook = "replace-node",
  params = { old = "n3", new = "n4" },
  faults = { { at = "start", fault = "kill", node = "n3" } },
  expect = {
    completed = true,
    check = function(state)
      local grown, forgotten
      for i, p in ipairs(state.primitives) do
        if p == "grow rabbit@n4" then grown = i end
        if p:match("^forget") then forgotten = i end
        if p:match("rabbit@n3$") and not p:match("^forget") then return false, "the failed node was acted on: " .. p end
      end
      if not (grown and forgotten and grown < forgotten) then return false, "queues must grow before the old node is forgotten" end
      for _, m in ipairs(state.status.members) do if m == "rabbit@n3" then return false, "rabbit@n3 is still a member" end end
      return true
    end,
  },
}
