-- Happy path: every node restarted in turn, quorum kept throughout.
return {
  target = { nodes = 3, seed = 11 },
  runbook = "rolling-restart",
  expect = {
    completed = true,
    invariants = true,   -- no quorum queue lost its majority, no confirmed message lost
    converged = true,
    check = function(state)
      for _, n in ipairs(state.status.nodes) do
        if n.state ~= "running" or n.maintenance then return false, n.name .. " is " .. n.state end
      end
      return state.queues.orders.available and state.queues.orders.messages == 100,
        "orders should be available with its 100 messages"
    end,
  },
}
