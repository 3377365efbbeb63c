runbook {
  name = "rolling-restart",
  summary = "Restart every node in turn without losing quorum (gate, drain, stop, start, await, health)",
  params = {
    { name = "nodes", default = "all", help = "comma-separated node names, or all" },
    { name = "timeout", default = "300", help = "seconds to wait for a node to boot and for the cluster to heal" },
  },
}
local common = require "lib.common"
local timeout = common.seconds("timeout")

step("check the cluster is healthy before starting", function()
  gate.cluster_healthy{ timeout = timeout }
end)

for _, node in ipairs(common.select_nodes(param("nodes"))) do
  step{
    id = "restart-" .. node.short,
    title = "restart " .. node.name,
    run = function()
      common.restart(node, timeout, "Restart " .. node.name .. "? It is drained first: its clients reconnect to other nodes.")
      gate.cluster_healthy{ timeout = timeout }
    end,
  }
end

step("rebalance quorum queue leaders", function()
  gate.cluster_healthy{ timeout = timeout }
  cluster.rebalance("quorum")
end)
