-- Refused at n2, then resumed with a yes: completes, every step done once.
return {
  target = { nodes = 3, seed = 11 },
  runbook = "rolling-restart",
  answers = { ["restart-n2"] = "no" },
  resume = { answers = { "yes" } },
  expect = {
    completed = true, converged = true,
    check = function(state) return #state.steps_done == 5, "expected 5 steps done, got " .. #state.steps_done end,
  },
}
