-- Happy path: a spare node joins and gets quorum queue replicas.
return {
  target = { nodes = 3, spares = 1, seed = 12 },
  runbook = "add-node",
  params = { node = "n4" },
  expect = {
    completed = true, converged = true,
    check = function(state)
      if #state.status.members ~= 4 then return false, "expected 4 members, got " .. #state.status.members end
      for _, m in ipairs(state.queues.orders.members) do if m == "rabbit@n4" then return true end end
      return false, "orders has no replica on rabbit@n4"
    end,
  },
}
