-- n1 is cut off from n2, n3 and the new n4 while n4 replaces n3 (pause_minority: n1 pauses):
-- the gate before growing the quorum queues onto n4 refuses, nothing is shrunk or forgotten.
-- On real RabbitMQ: a devcluster with a host per node (network namespaces, ssh start/stop).
-- Its simulator twin is drills/partition-during-replace-node.lua: both end the same way (a test checks it).
return {
  target = {
    devcluster = { hosts = 3, spares = 1 }, partition_handling = "pause_minority",
    queues = { { name = "orders", type = "quorum", node = "n2", group_size = 3, messages = 20 } },
  },
  runbook = "replace-node",
  params = { old = "n3", new = "n4", timeout = "30" },
  faults = { { before = "grow-quorum-queues-onto-rabbit-n4", fault = "partition", a = { "n1" }, b = { "n2", "n3", "n4" } } },
  expect = {
    stopped_at = "grow-quorum-queues-onto-rabbit-n4",
    resumable = true,
    check = function(state)
      for _, p in ipairs(state.primitives) do
        if p:match("^forget") or p:match("^shrink") or p == "stop_app rabbit@n3" then
          return false, "changed the cluster during the partition: " .. p
        end
      end
      return true
    end,
  },
}
