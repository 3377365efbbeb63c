runbook {
  name = "remove-node",
  summary = "Remove a node from the cluster (stop_app, forget_cluster_node from a member, reset)",
  params = {
    { name = "node", required = true, help = "the node to remove" },
    { name = "via", help = "the running member that forgets it; default: any other running member" },
    { name = "timeout", default = "300", help = "seconds to wait for the cluster" },
  },
}
local common = require "lib.common"
local timeout = common.seconds("timeout")
local node = cluster.node(param("node"))
local via = param("via") and cluster.node(param("via")) or common.other_running(node)
-- On Khepri, forget_cluster_node resets a node it can reach (rabbit_khepri remove_member).
local khepri = cluster.metadata_store() == "khepri"

step("check the cluster is healthy and " .. node.name .. " can leave", function()
  gate.cluster_healthy{ timeout = timeout }
  if node:ping() and node:state() == "running" then gate.quorum_safe(node, { timeout = timeout }) end
end)

step("stop the app on " .. node.name, function()
  if node:state() == "running" then
    confirm("Stop RabbitMQ on " .. node.name .. " so it can be removed? Its clients reconnect elsewhere.")
    node:stop_app()
  end
end)

step("forget " .. node.name .. " from " .. via.name, function()
  if not via:ping() or via:state() ~= "running" then error(via.name .. " (which forgets " .. node.name .. ") is not running") end
  if not common.contains(via:info().members, node.name) then
    say(node.name .. " is no longer a member")
    return
  end
  confirm("Remove " .. node.name .. " from the cluster (forget_cluster_node on " .. via.name ..
    ")? Its quorum queue replicas are removed.")
  via:forget(node)
  for _, q in ipairs(cluster.queues{ type = "stream" }) do
    if common.contains(q.members, node.name) then
      say("stream " .. q.name .. " still lists " .. node.name .. ": run rabbitmq-streams delete_replica " .. q.name .. " " .. node.name)
    end
  end
end)

step("reset " .. node.name .. " so it cannot rejoin by accident", function()
  if khepri and node:ping() then
    say("with Khepri, forget_cluster_node reset " .. node.name .. " already: it is a standalone node")
  elseif node:ping() then
    confirm("Reset " .. node.name .. "? It becomes a standalone node with no data.")
    node:reset()
  else
    say(node.name .. " is stopped: reset it before it boots again, or it fails with inconsistent_cluster")
  end
end)

step("check the cluster is healthy", function()
  gate.cluster_healthy{ timeout = timeout }
end)
