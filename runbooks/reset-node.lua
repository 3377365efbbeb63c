runbook {
  name = "reset-node",
  summary = "Reset a node (destructive): export definitions first, then stop_app, reset, start_app",
  params = {
    { name = "node", required = true, help = "the node to reset" },
    { name = "backup", default = "", help = "where to export the definitions first (mode 600; default: definitions-backup.json in the session's directory)" },
    { name = "force", default = "false", help = "true: force_reset (when its peers are unreachable)" },
    { name = "timeout", default = "300", help = "seconds to wait for the node" },
  },
}
local common = require "lib.common"
local timeout = common.seconds("timeout")
local node = cluster.node(param("node"))
local force = param("force") == "true"
-- On Khepri force_reset fails (4.0.7+, 4.1+: "Forced reset is unsupported with Khepri") and a
-- graceful reset needs a majority of the members running (docs/metadata-store/clustering.md).
local khepri = cluster.metadata_store() == "khepri"
if force and khepri then
  error("force=true: force_reset is not supported with Khepri, this cluster's metadata store (it fails from 4.0.7 and 4.1, and is deprecated); " ..
    "reset gracefully, with a majority of the members running. Nothing was changed", 0)
end

local backup = param("backup") ~= "" and param("backup") or session.file("definitions-backup.json")
step("export the definitions", function()
  cluster.export_definitions(backup)
  say("definitions saved to " .. backup .. " (a reset is irreversible)")
end)

step("reset " .. node.name, function()
  if not previously(force and "force_reset" or "reset", node) then
    if node:state() == "running" then gate.quorum_safe(node, { timeout = timeout }) end
    if khepri then gate.cluster_healthy{ timeout = timeout } end
    -- A graceful reset deletes the durable classic queues homed on the node, with their messages.
    local doomed = {}
    for _, q in ipairs(cluster.queues{ type = "classic" }) do
      if q.leader == node.name then doomed[#doomed + 1] = q.name .. " (" .. q.messages .. " messages)" end
    end
    local warning = #doomed == 0 and "" or " The classic queues on it are deleted with their messages: " .. table.concat(doomed, ", ") .. "."
    confirm("Reset " .. node.name .. "? All its data (queues, users, messages) is erased and it leaves the cluster." .. warning)
    if node:state() == "running" then node:stop_app() end
    if force then node:force_reset() else node:reset() end
  end
  if node:state() ~= "running" then node:start_app() end
  node:await_running{ timeout = timeout }
end)

step("check the cluster is healthy", function()
  -- The others must run: a member that is down missed the reset and still lists the node.
  gate.cluster_healthy{ timeout = timeout }
end)
