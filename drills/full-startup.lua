-- Happy path: a cluster left by full-shutdown (the setup) starts, the last-stopped node first.
return {
  target = { nodes = 3, seed = 17 },
  setup = { runbook = "full-shutdown", answers = { ["stop-n2#unsafe"] = "yes", ["stop-n1#unsafe"] = "yes" } },
  runbook = "full-startup",
  expect = {
    completed = true, converged = true,
    check = function(state)
      return state.primitives[1] == "start rabbit@n1", "rabbit@n1 (stopped last) must start first, got " .. tostring(state.primitives[1])
    end,
  },
}
