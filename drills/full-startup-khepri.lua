-- On Khepri (4.2's new clusters) full-startup starts every node and waits for a majority; it
-- never force-boots (force_boot does nothing on Khepri).
return {
  target = { nodes = 3, seed = 7, version = "4.2.0" },
  setup = { runbook = "full-shutdown", answers = { ["stop-n2#unsafe"] = "yes", ["stop-n1#unsafe"] = "yes" } },
  runbook = "full-startup",
  expect = {
    completed = true,
    converged = true,
    majority_loss_ok = true,
    check = function(state)
      for _, p in ipairs(state.primitives) do
        if p:find("^force_boot") then return false, "force_boot was called" end
      end
      return true
    end,
  },
}
