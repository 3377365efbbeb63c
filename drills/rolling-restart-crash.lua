-- warren itself crashes right after stopping n2; `warren resume` (from the journal, on the saved
-- cluster state) completes, each step done once and n2 stopped once.
return {
  target = { nodes = 3, seed = 11 },
  runbook = "rolling-restart",
  faults = {
    { after = { primitive = "stop", node = "n2" }, fault = "crash" },
    { before = "rebalance-quorum-queue-leaders", fault = "crash" },
  },
  expect = {
    completed = true, converged = true,
    check = function(state)
      local stops = 0
      for _, p in ipairs(state.primitives) do if p == "stop rabbit@n2" then stops = stops + 1 end end
      if stops ~= 1 then return false, "rabbit@n2 stopped " .. stops .. " times" end
      return #state.steps_done == 5, "expected 5 steps done once each, got " .. #state.steps_done
    end,
  },
}
