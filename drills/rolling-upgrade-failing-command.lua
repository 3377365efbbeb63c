-- The upgrade command fails on n2: the run stops there with n2 started again on 3.12.13 and the
-- cluster healthy; n3 is not touched. Resumed once the command works, it finishes.
return {
  target = { nodes = 3, seed = 3, version = "3.12.13" },
  runbook = "rolling-upgrade",
  params = { to = "3.13.7" },
  faults = {
    { before = "upgrade-n2", fault = "fail_next_upgrade", node = "n2" },
  },
  resume = { answers = { "yes" } },
  expect = {
    completed = true,
    converged = true,
    check = function(state)
      for _, short in ipairs({ "n1", "n2", "n3" }) do
        if state.nodes[short].version ~= "3.13.7" then return false, short .. " runs " .. tostring(state.nodes[short].version) end
      end
      return true
    end,
  },
}
