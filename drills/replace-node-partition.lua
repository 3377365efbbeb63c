-- A network partition while n4 replaces n3: the next gate refuses, nothing is shrunk.
return {
  target = { nodes = 3, spares = 1, seed = 14 },
  runbook = "replace-node",
  params = { old = "n3", new = "n4", timeout = "60" },
  faults = { { before = "grow-quorum-queues-onto-rabbit-n4", fault = "partition", a = { "n1" }, b = { "n2", "n3", "n4" } } },
  expect = {
    stopped_at = "grow-quorum-queues-onto-rabbit-n4",
    error = "partition",
    resumable = true,
    check = function(state)
      for _, p in ipairs(state.primitives) do
        if p:match("^forget") or p == "stop_app rabbit@n3" then return false, "changed the cluster during the partition: " .. p end
      end
      return true
    end,
  },
}
