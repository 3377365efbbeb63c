-- The last-stopped node (n1) lost its disk: full-startup force-boots another node only after its
-- separate confirmation, answered yes by a keyed answer.
return {
  target = { nodes = 3, seed = 7 },
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
    -- n1's disk is gone: its classic queue's messages with it (the fault's doing, checked below).
    invariants = false,
    check = function(state)
      for q, n in pairs(state.invariants.lost_messages) do
        if q ~= "reports" then return false, n .. " confirmed messages lost from " .. q end
      end
      if state.notes.force_booted ~= "rabbit@n2" then return false, "rabbit@n2 should be force-booted" end
      return state.nodes.n2.state == "running" and state.nodes.n3.state == "running", "n2 and n3 should run"
    end,
  },
}
