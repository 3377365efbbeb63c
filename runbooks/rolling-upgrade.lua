runbook {
  name = "rolling-upgrade",
  summary = "Upgrade every node to another release in turn (preflight and backup; per node: gate, drain, stop, upgrade, start, check), then enable the feature flags and rebalance",
  params = {
    { name = "to", required = true, help = "the release to install, e.g. 3.13.7: one rolling upgrade from the cluster's (`warren upgrade-plan` shows the way)" },
    { name = "window", default = "10800", help = "seconds the cluster may run mixed versions before warren warns (the release notes: no more than a few hours)" },
    { name = "reinstall", default = "false", help = "true: install the release again on nodes that already run it" },
    { name = "timeout", default = "300", help = "seconds to wait for a node to boot and for the cluster to heal" },
  },
}
local common = require "lib.common"
local timeout = common.seconds("timeout")
local limit = common.seconds("window")
if param("reinstall") ~= "true" and param("reinstall") ~= "false" then
  error("parameter 'reinstall' must be true or false, got '" .. tostring(param("reinstall")) .. "'")
end
local reinstall = param("reinstall") == "true"

-- Input that is wrong (not a release, one warren's version table does not know, older than the
-- cluster, a node on an unknown release) stops here, before any step: nothing is changed.
local check = cluster.upgrade_check(param("to"))
local to = check.to
-- Whether this run moves nodes to another release (rather than reinstalling the same one).
local changing = check.kind ~= "none"

local function version_of(node) return cluster.versions()[node.name] end

local function all_on_target()
  local versions = cluster.versions()
  for _, name in ipairs(cluster.status().members) do
    if versions[name] ~= to then return false end
  end
  return true
end

local function duration(seconds)
  seconds = math.floor(seconds + 0.5)
  if seconds < 120 then return seconds .. "s" end
  if seconds < 7200 then return string.format("%dm%02ds", seconds // 60, seconds % 60) end
  return string.format("%dh%02dm", seconds // 3600, (seconds % 3600) // 60)
end

-- The mixed-version window: from the first node stopped to install the release until every node
-- runs it. Kept in the cluster's memory, so that a resume (or another run) measures it all.
local WINDOW = "rolling_upgrade_window"
local function window_open()
  if memory.get(WINDOW) then return end
  memory.set(WINDOW, { opened = cluster.now(), to = to })
  note("mixed_version_window", "opened (limit " .. duration(limit) .. ")")
end
local function window_check()
  local w = memory.get(WINDOW)
  if not w then return end
  local open = cluster.now() - w.opened
  if open > limit then
    say("WARNING: the cluster has run mixed versions for " .. duration(open) .. ", longer than the limit of " .. duration(limit) ..
      ": finish the upgrade (the release notes: no more than a few hours)")
    note("mixed_version_window_exceeded", duration(open) .. " > " .. duration(limit))
  end
end
local function window_close()
  local w = memory.get(WINDOW)
  if not w then return end
  local open = cluster.now() - w.opened
  note("mixed_version_window", "closed after " .. duration(open) .. " (limit " .. duration(limit) .. (open > limit and ", EXCEEDED" or "") .. ")")
  memory.set(WINDOW, nil)
end

step{
  id = "preflight",
  title = "preflight: the upgrade path, feature flags, quorum, definitions backup",
  run = function()
    local c = cluster.upgrade_check(to)
    if c.kind == "none" then
      say("every node runs " .. to .. (reinstall and ": each gets it installed again" or ": no node needs it installed"))
    else
      say("rolling upgrade " .. c.from .. " -> " .. to .. (c.source and (" (" .. c.source .. ")") or ""))
    end
    for _, change in ipairs(c.changes) do say("with " .. to .. ": " .. change) end
    if c.under_way then say("the cluster runs mixed versions, as expected: " .. c.under_way_text) end
    if #c.problems > 0 then
      error("preflight refused the upgrade to " .. to .. ": " .. table.concat(c.problems, "; ") .. ". Nothing was changed", 0)
    end
    gate.cluster_healthy{ timeout = timeout }
    local backup = session.file("definitions-before-upgrade.json")
    cluster.export_definitions(backup)
    say("definitions backed up to " .. backup)
  end,
}

for _, node in ipairs(cluster.nodes()) do
  step{
    id = "upgrade-" .. node.short,
    title = "upgrade " .. node.name .. " to " .. to,
    run = function()
      window_check()
      if not previously("upgrade", node) then
        if node:ping() then
          if not reinstall and version_of(node) == to then
            say(node.name .. " already runs " .. to)
            gate.node_running(node, { timeout = timeout })
            return
          end
          gate.quorum_safe(node, { timeout = timeout })
          confirm("Upgrade " .. node.name .. " to " .. to .. "? It is drained (its clients reconnect to other nodes), stopped, " ..
            "its upgrade command installs " .. to .. ", and it starts again.")
          if not node:info().maintenance then node:drain() end
          node:stop()
        end
        if changing then window_open() end
        local ok, err = pcall(function() node:upgrade(to) end)
        if not ok then
          -- Nothing was installed: the node starts again on the release it has.
          say("the upgrade command failed on " .. node.name .. ": " .. tostring(err))
          local started, why = pcall(function()
            node:start()
            node:await_running{ timeout = timeout }
          end)
          if not started then
            error("the upgrade command failed on " .. node.name .. " (" .. tostring(err) .. ") and it did not start again on its old release (" ..
              tostring(why) .. "). No further node was touched", 0)
          end
          gate.cluster_healthy{ timeout = timeout }
          error("the upgrade command failed on " .. node.name .. " (" .. tostring(err) .. "); it runs its old release " ..
            tostring(version_of(node)) .. " again and the cluster is healthy. No further node was touched: fix the command, then `warren resume`", 0)
        end
      end
      if not node:ping() then node:start() end
      node:await_running{ timeout = timeout }
      gate.node_running(node, { timeout = timeout })
      local now = version_of(node)
      if now ~= to then
        error(node.name .. " runs " .. tostring(now) .. " after its upgrade, not " .. to .. ": check its upgrade command. No further node was touched", 0)
      end
      say(node.name .. " runs RabbitMQ " .. now)
      gate.cluster_healthy{ timeout = timeout }
      if all_on_target() then window_close() end
    end,
  }
end

step{
  id = "enable-feature-flags",
  title = "enable the stable feature flags of " .. to,
  run = function()
    if not all_on_target() then error("not every node runs " .. to .. " yet: feature flags are enabled once all do", 0) end
    local disabled = {}
    for _, f in ipairs(cluster.feature_flags()) do
      if f.stability == "stable" and f.state == "disabled" then disabled[#disabled + 1] = f.name end
    end
    if #disabled == 0 then
      say("every stable feature flag is enabled")
      return
    end
    local khepri = common.contains(disabled, "khepri_db") and " khepri_db moves the cluster's metadata from Mnesia to Khepri." or ""
    confirm("Enable the stable feature flags " .. table.concat(disabled, ", ") .. "? Enabled flags cannot be disabled: " ..
      "the cluster cannot go back to an older release afterwards." .. khepri)
    cluster.enable_feature_flags()
  end,
}

step("rebalance queue leaders", function()
  gate.cluster_healthy{ timeout = timeout }
  cluster.rebalance("all")
end)

step{
  id = "verify",
  title = "verify every node runs " .. to,
  run = function()
    gate.cluster_healthy{ timeout = timeout }
    local versions = cluster.versions()
    local wrong = {}
    for _, name in ipairs(cluster.status().members) do
      if versions[name] ~= to then wrong[#wrong + 1] = name .. " (" .. tostring(versions[name]) .. ")" end
    end
    if #wrong > 0 then error("not every node runs " .. to .. ": " .. table.concat(wrong, ", "), 0) end
    for _, f in ipairs(cluster.feature_flags()) do
      if f.stability == "stable" and f.state ~= "enabled" then error("feature flag " .. f.name .. " is " .. f.state .. " after the upgrade", 0) end
    end
    window_close()
    say("every node runs RabbitMQ " .. to .. ", every stable feature flag is enabled")
  end,
}
