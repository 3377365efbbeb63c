runbook {
  name = "replace-node",
  summary = "Replace a node, running or failed: add the new one and grow queues onto it first, then remove the old one, then rebalance",
  params = {
    { name = "old", required = true, help = "the node to retire (it may already be down)" },
    { name = "new", required = true, help = "the node that takes its place (running, not yet a member)" },
    { name = "timeout", default = "300", help = "seconds to wait for nodes and the cluster" },
  },
}
local common = require "lib.common"
local timeout = common.seconds("timeout")
local old = cluster.node(param("old"))
local new = cluster.node(param("new"))
if old.name == new.name then error("old and new name the same node: " .. old.name) end

-- Until it is forgotten, the old node is the one member allowed to be down: a failed node is
-- replaced the same way, as long as every other member runs and every quorum queue keeps a
-- majority without it.
local function healthy() gate.cluster_healthy{ timeout = timeout, except = old } end

step("check the cluster is healthy", function()
  healthy()
  if old:state() ~= "running" then
    say(old.name .. " is not running: it is replaced as a failed node, and its replicas are dropped, not handed over")
  end
end)

step{ id = "join-new", title = "join " .. new.name, run = function()
  local seed = common.other_running(old)
  common.join(new, seed, timeout, "Reset " .. new.name .. " and join it to the cluster through " .. seed.name ..
    "? Everything stored on " .. new.name .. " is erased.", healthy)
  healthy()
end }

step("grow quorum queues onto " .. new.name, function()
  -- Never shrink before growing: the new replicas exist before the old ones go.
  healthy()
  local grown = cluster.grow(new, "all")
  say(#grown .. " quorum queue(s) grown onto " .. new.name)
  healthy()
end)

step("stop the app on " .. old.name, function()
  -- Already stopped (by this step before an interruption, by the operator, or a failed node).
  if old:state() ~= "running" then return end
  healthy()
  gate.quorum_safe(old, { timeout = timeout })
  confirm("Stop RabbitMQ on " .. old.name .. " to retire it? Its clients reconnect elsewhere.")
  old:stop_app()
end)

step("forget " .. old.name, function()
  local via = common.other_running(old)
  if not common.contains(via:info().members, old.name) then return end
  confirm("Remove " .. old.name .. " from the cluster? Its quorum queue replicas are removed.")
  via:forget(old)
end)

step("rebalance quorum queue leaders", function()
  gate.cluster_healthy{ timeout = timeout }
  cluster.rebalance("quorum")
  gate.cluster_healthy{ timeout = timeout }
end)
