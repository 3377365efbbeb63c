-- n2's VM is killed (kill -9) right after its start command, while warren awaits its boot: the
-- step stops at n2. The resumed run starts n2 again (it does not stop it twice) and completes,
-- every message kept.
-- The simulator twin of drills/real/kill-during-rolling-restart.lua: both end the same way.
return {
  target = {
    nodes = 3, seed = 32, demo = false, partition_handling = "pause_minority",
    queues = { { name = "orders", type = "quorum", node = "n1", group_size = 3, messages = 20 } },
  },
  runbook = "rolling-restart",
  params = { timeout = "30" },
  faults = { { after = { primitive = "start", node = "n2" }, fault = "kill", node = "n2" } },
  resume = true,
  expect = {
    completed = true, converged = true,
    check = function(state)
      if #state.stops ~= 1 or state.stops[1].step ~= "restart-n2" then
        return false, "expected one stop, at restart-n2, before the resume"
      end
      local stops, starts = 0, 0
      for _, p in ipairs(state.primitives) do
        if p == "stop rabbit@n2" then stops = stops + 1 end
        if p == "start rabbit@n2" then starts = starts + 1 end
      end
      return stops == 1 and starts == 2, "rabbit@n2: " .. stops .. " stop(s), " .. starts .. " start(s); expected 1 and 2"
    end,
  },
}
