-- Happy path: leaders spread over the running nodes.
return {
  target = { nodes = 3, seed = 18,
             queues = { { name = "extra-1", node = "n1", messages = 10 }, { name = "extra-2", node = "n1" } } },
  runbook = "rebalance",
  expect = {
    completed = true, converged = true,
    check = function(state)
      for _, n in ipairs(state.status.nodes) do
        if n.leaders == 0 then return false, n.name .. " leads no queue after a rebalance" end
      end
      return state.queues["extra-1"].messages == 10, "extra-1 lost messages"
    end,
  },
}
