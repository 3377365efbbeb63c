-- Happy path: every node stopped in order; the stops past the majority are unsafe and answered
-- by keyed answers (--yes never covers them). Majorities are lost on purpose.
return {
  target = { nodes = 3, seed = 17 },
  runbook = "full-shutdown",
  answers = { ["stop-n2#unsafe"] = "yes", ["stop-n1#unsafe"] = "yes" },
  expect = {
    completed = true,
    majority_loss_ok = true,
    converged = false,
    check = function(state)
      if #state.status.running ~= 0 then return false, "nodes still running: " .. table.concat(state.status.running, ", ") end
      return state.notes.stopped_3 == "rabbit@n1", "rabbit@n1 should stop last"
    end,
  },
}
