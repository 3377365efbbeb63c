-- Happy path: three standalone nodes form a cluster.
return {
  target = { nodes = 3, formed = false, seed = 16 },
  runbook = "form-cluster",
  expect = {
    completed = true, converged = true,
    check = function(state)
      return #state.nodes.n3.members == 3, "n3 should list 3 members"
    end,
  },
}
