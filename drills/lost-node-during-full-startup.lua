-- After a full shutdown, the last-stopped node (n1) has lost its disk and does not boot:
-- full-startup force-boots n2 only after its own confirmation (answered yes), n2 and n3 run, and
-- the run stops at the final health check naming rabbit@n1. Quorum queues keep every message.
-- The simulator twin of drills/real/lost-node-during-full-startup.lua: both end the same way.
return {
  target = {
    nodes = 3, seed = 33, demo = false, partition_handling = "pause_minority",
    queues = { { name = "orders", type = "quorum", node = "n2", group_size = 3, messages = 20 } },
  },
  setup = { runbook = "full-shutdown", answers = { ["stop-n2#unsafe"] = "yes", ["stop-n1#unsafe"] = "yes" } },
  runbook = "full-startup",
  params = { timeout = "60" },
  yes = false,
  answers = { ["start-rabbit-n1-stopped-last"] = "yes" },
  faults = {
    { before = "start-rabbit-n1-stopped-last", fault = "lose_disk", node = "n1" },
    { before = "start-rabbit-n1-stopped-last", fault = "fail_next_boot", node = "n1" },
  },
  expect = {
    stopped_at = "check-the-cluster-is-healthy",
    error = "rabbit@n1",
    majority_loss_ok = true,
    check = function(state)
      if state.notes.force_booted ~= "rabbit@n2" then return false, "rabbit@n2 should be force-booted" end
      return state.nodes.n2.state == "running" and state.nodes.n3.state == "running", "n2 and n3 should run"
    end,
  },
}
