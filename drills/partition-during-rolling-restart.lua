-- n3 is cut off from n1 and n2 just before n1's restart (pause_minority: n3 pauses). The gate
-- refuses to stop n1, whose quorum queues would lose their majority, and the run stops there.
-- The partition heals; the resumed run completes, every message kept.
-- The simulator twin of drills/real/partition-during-rolling-restart.lua: both end the same way.
return {
  target = {
    nodes = 3, seed = 31, demo = false, partition_handling = "pause_minority",
    queues = {
      { name = "orders", type = "quorum", node = "n1", group_size = 3, messages = 20 },
      { name = "payments", type = "quorum", node = "n2", group_size = 3, messages = 20 },
    },
  },
  runbook = "rolling-restart",
  params = { timeout = "30" },
  faults = {
    { before = "restart-n1", fault = "partition", a = { "n1", "n2" }, b = { "n3" } },
    { at = "resume", fault = "heal" },
  },
  resume = true,
  expect = {
    completed = true, converged = true,
    check = function(state)
      if #state.stops ~= 1 or state.stops[1].step ~= "restart-n1" then
        return false, "expected one stop, at restart-n1, before the resume"
      end
      local stops = 0
      for _, p in ipairs(state.primitives) do if p == "stop rabbit@n1" then stops = stops + 1 end end
      return stops == 1, "rabbit@n1 stopped " .. stops .. " times"
    end,
  },
}
