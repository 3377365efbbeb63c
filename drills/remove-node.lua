-- Happy path: n4 leaves a four-node cluster.
return {
  target = { nodes = 4, seed = 13 },
  runbook = "remove-node",
  params = { node = "n4" },
  expect = {
    completed = true,
    check = function(state)
      for _, m in ipairs(state.status.members) do
        if m == "rabbit@n4" then return false, "rabbit@n4 is still a member" end
      end
      return true
    end,
  },
}
