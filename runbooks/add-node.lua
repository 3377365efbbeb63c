runbook {
  name = "add-node",
  summary = "Join a node to the cluster (stop_app, reset, join_cluster, start_app) and grow quorum queues onto it",
  params = {
    { name = "node", required = true, help = "the node to add" },
    { name = "seed", help = "a running member to join through; default: any running member" },
    { name = "grow", default = "all", help = "grow quorum queues onto the node: all, even, or none" },
    { name = "timeout", default = "300", help = "seconds to wait for the node" },
  },
}
local common = require "lib.common"
local timeout = common.seconds("timeout")
local node = cluster.node(param("node"))
local seed = param("seed") and cluster.node(param("seed")) or common.other_running(node)

step("check the cluster is healthy", function()
  gate.cluster_healthy{ timeout = timeout }
end)

step{ id = "join", title = "join " .. node.name .. " through " .. seed.name, run = function()
  common.join(node, seed, timeout, "Reset " .. node.name .. " and join it to the cluster through " .. seed.name ..
    "? Everything stored on " .. node.name .. " is erased.", function() gate.cluster_healthy{ timeout = timeout } end)
end }

step("check " .. node.name .. " is a member on every node", function()
  wait_until(function()
    for _, n in ipairs(cluster.nodes()) do
      if n:state() ~= "running" or not common.contains(n:info().members, node.name) then return false end
    end
    return true
  end, { timeout = timeout, every = 2, what = node.name .. " in every member's view" })
  gate.cluster_healthy{ timeout = timeout }
end)

if param("grow") ~= "none" then
  step("grow quorum queues onto " .. node.name, function()
    gate.cluster_healthy{ timeout = timeout }
    local grown = cluster.grow(node, param("grow"))
    say(#grown .. " quorum queue(s) grown onto " .. node.name)
  end)
end
