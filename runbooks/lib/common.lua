-- Helpers shared by warren's runbooks: `local common = require "lib.common"`.
local common = {}

--- Nodes named by a parameter: "all" (every member) or a comma-separated list of names.
function common.select_nodes(spec)
  if spec == nil or spec == "" or spec == "all" then return cluster.nodes() end
  local nodes = {}
  for name in string.gmatch(spec, "[^,%s]+") do nodes[#nodes + 1] = cluster.node(name) end
  return nodes
end

--- Whether a list of names contains a name.
function common.contains(list, name)
  for _, v in ipairs(list or {}) do if v == name then return true end end
  return false
end

--- Whether the node is a running member of the cluster.
function common.running_member(node)
  local s = cluster.status()
  return common.contains(s.members, node.name) and common.contains(s.running, node.name)
end

--- A running member other than `node`, to act from (forget, join seed).
function common.other_running(node)
  for _, n in ipairs(cluster.nodes()) do
    if n.name ~= node.name and n:state() == "running" then return n end
  end
  error("no other running member of the cluster than " .. node.name)
end

--- Seconds, from a parameter.
function common.seconds(name)
  local v = tonumber(param(name))
  if not v or v <= 0 then error("parameter '" .. name .. "' must be a positive number of seconds, got '" .. tostring(param(name)) .. "'") end
  return v
end

--- Stops and starts `node` the documented way: drain, stop, start, await. Safe to re-run after
--- an interruption: what this step already did is not done again.
function common.restart(node, timeout, question)
  if not previously("stop", node) and node:ping() then
    gate.quorum_safe(node, { timeout = timeout })
    confirm(question)
    if not node:info().maintenance then node:drain() end
    node:stop()
  end
  if not node:ping() then node:start() end
  node:await_running{ timeout = timeout }
  gate.node_running(node, { timeout = timeout })
end

--- Joins `node` to the cluster through `seed` (stop_app, reset, join_cluster, start_app).
--- A stopped node is started first; a booting one is let finish before its app is stopped.
--- `check` (a gate) runs first, unless this step already joined the node before an
--- interruption: then only starting its app is left (the gate would see the joined node down).
function common.join(node, seed, timeout, question, check)
  if common.running_member(node) and common.contains(seed:info().members, node.name) then
    say(node.name .. " is already a running member")
    return
  end
  if previously("join", node) then
    say(node.name .. " joined before the interruption: starting its app")
    if node:state() ~= "running" then node:start_app() end
    node:await_running{ timeout = timeout }
    return
  end
  if check then check() end
  confirm(question)
  if not node:ping() then node:start() end
  -- Always stop the app (a standalone node is not in the cluster's view, so its app may look
  -- stopped while it runs; stop_app on a stopped app does nothing). A node that has just started
  -- refuses until its boot is done: retry until then.
  wait_until(function() return (pcall(function() node:stop_app() end)) end,
    { timeout = timeout, every = 3, what = node.name .. " to finish booting and stop its app" })
  node:reset()
  node:join(seed)
  node:start_app()
  node:await_running{ timeout = timeout }
end

return common
