-- The operator refuses to restart n2: the run stops there, resumable, with n2 and n3 untouched.
return {
  target = { nodes = 3, seed = 11 },
  runbook = "rolling-restart",
  answers = { ["restart-n2"] = "no" },
  expect = {
    stopped_at = "restart-n2",
    error = "refused",
    resumable = true,
    converged = true,
    check = function(state)
      for _, p in ipairs(state.primitives) do
        if p:match("rabbit@n[23]$") then return false, "touched after the refusal: " .. p end
      end
      return true
    end,
  },
}
