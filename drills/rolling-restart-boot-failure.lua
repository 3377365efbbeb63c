-- n2 fails to boot in the middle of a rolling restart: the run stops at n2's step and no later
-- node is touched.
return {
  target = { nodes = 3, seed = 21 },
  runbook = "rolling-restart",
  faults = { { before = "restart-n2", fault = "fail_next_boot", node = "n2" } },
  expect = {
    stopped_at = "restart-n2",
    error = "rabbit@n2",
    resumable = true,
    check = function(state)
      for _, p in ipairs(state.primitives) do
        if p:match("rabbit@n3$") then return false, "rabbit@n3 was touched: " .. p end
      end
      return true
    end,
  },
}
