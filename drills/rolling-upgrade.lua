-- 3.13.7 to 4.0.5 on five nodes; warren crashes right after n2's new release is installed (in the
-- mixed-version window) and resumes from its journal: every node ends on 4.0.5, each upgraded once.
return {
  target = { nodes = 5, seed = 5, version = "3.13.7" },
  runbook = "rolling-upgrade",
  params = { to = "4.0.5" },
  faults = {
    { after = { primitive = "upgrade", node = "n2", nth = 1 }, fault = "crash" },
  },
  expect = {
    completed = true,
    converged = true,
    check = function(state)
      for _, short in ipairs({ "n1", "n2", "n3", "n4", "n5" }) do
        if state.nodes[short].version ~= "4.0.5" then return false, short .. " runs " .. tostring(state.nodes[short].version) end
      end
      local upgrades = 0
      for _, p in ipairs(state.primitives) do
        if p == "upgrade rabbit@n2" then upgrades = upgrades + 1 end
      end
      return upgrades == 1, "n2 upgraded " .. upgrades .. " times"
    end,
  },
}
