-- Happy path: n4 takes n3's place; queues grow onto n4 before n3 is forgotten.
return {
  target = { nodes = 3, spares = 1, seed = 14 },
  runbook = "replace-node",
  params = { old = "n3", new = "n4" },
  expect = {
    completed = true,
    check = function(state)
      local grown, forgotten
      for i, p in ipairs(state.primitives) do
        if p == "grow rabbit@n4" then grown = i end
        if p:match("^forget") then forgotten = i end
      end
      if not (grown and forgotten and grown < forgotten) then return false, "queues must grow before the old node is forgotten" end
      for _, m in ipairs(state.status.members) do if m == "rabbit@n3" then return false, "rabbit@n3 is still a member" end end
      return true
    end,
  },
}
