runbook {
  name = "form-cluster",
  summary = "Form a cluster from standalone nodes: each joins the first (stop_app, reset, join_cluster, start_app)",
  params = {
    { name = "nodes", default = "all", help = "comma-separated nodes, the first is the seed; all: every node of the target" },
    { name = "timeout", default = "300", help = "seconds to wait for each node" },
  },
}
local common = require "lib.common"
local timeout = common.seconds("timeout")
local nodes = {}
if param("nodes") == "all" then nodes = cluster.nodes{ all = true } else nodes = common.select_nodes(param("nodes")) end
local seed = nodes[1]

step("check " .. seed.name .. " (the seed) is running", function()
  if not seed:ping() then seed:start() end
  seed:await_running{ timeout = timeout }
end)

for i = 2, #nodes do
  local node = nodes[i]
  step{ id = "join-" .. node.short, title = "join " .. node.name .. " to " .. seed.name, run = function()
    if not node:ping() then node:start() end
    common.join(node, seed, timeout, "Reset " .. node.name .. " and join it to " .. seed.name .. "? Everything stored on it is erased.")
  end }
end

step("check the cluster is healthy", function()
  gate.cluster_healthy{ timeout = timeout }
end)
