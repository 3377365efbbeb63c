runbook {
  name = "full-startup",
  summary = "Start a stopped cluster: the node stopped last first, then the others (force_boot only if it is lost)",
  params = {
    { name = "first", help = "the node stopped last, if warren did not record the shutdown" },
    { name = "timeout", default = "300", help = "seconds to wait for each node" },
  },
}
local common = require "lib.common"
local timeout = common.seconds("timeout")

local order = memory.get("shutdown_order")

-- The cluster is up: the shutdown's record is done with.
local function last_step()
  step("check the cluster is healthy", function()
    gate.cluster_healthy{ timeout = timeout }
    memory.set("shutdown_order", nil)
    memory.set("metadata_store", nil)
  end)
end

-- Khepri (the metadata store of 4.2's new clusters): a node finishes booting once a majority of
-- the members run, whichever stopped last, and force_boot does nothing
-- (docs/metadata-store/clustering.md@0acf2a4 L93-103). So: start them all, then wait for each.
if (memory.get("metadata_store") or cluster.metadata_store()) == "khepri" then
  local members = {}
  for _, name in ipairs(order or cluster.status().members) do members[#members + 1] = cluster.node(name) end
  local majority = #members // 2 + 1
  step("start every node (Khepri: each finishes booting once " .. majority .. " of " .. #members .. " run)", function()
    if param("first") then say("first=" .. param("first") .. " is not needed with Khepri: which node stopped last does not matter") end
    for _, node in ipairs(members) do
      if not node:ping() then node:start() end
    end
  end)
  for _, node in ipairs(members) do
    step("wait for " .. node.name .. " to boot", function()
      local ok, err = pcall(function() node:await_running{ timeout = timeout } end)
      if not ok then
        error(node.name .. " did not finish booting (" .. tostring(err) .. "). With Khepri a majority of the members (" .. majority ..
          " of " .. #members .. ") must run for any to boot, and force_boot does nothing: start more members, or restore the lost ones", 0)
      end
    end)
  end
  last_step()
  return
end

local first_name = param("first") or (order and order[#order])
if not first_name then
  -- Nothing recorded and the cluster already runs: there is nothing to start (this is also what a
  -- resume finds after the last step cleared the record and warren stopped before finishing it).
  local ok, status = pcall(cluster.status)
  if ok and status.healthy then
    step("check the cluster is healthy", function() gate.cluster_healthy{ timeout = timeout } end)
    return
  end
  error("the shutdown order of this cluster is unknown (no full-shutdown was recorded by warren): pass --param first=NODE, the node that was stopped last")
end
local first = cluster.node(first_name)
-- Every member: the recorded shutdown order, else the members a node still lists.
local others = {}
local names = order or cluster.status().members
for _, name in ipairs(names) do
  if name ~= first.name then others[#others + 1] = cluster.node(name) end
end
-- Start the others in reverse stop order: the most recently stopped have the freshest data.
if order then
  table.sort(others, function(a, b)
    local ia, ib = 0, 0
    for i, name in ipairs(order) do
      if name == a.name then ia = i end
      if name == b.name then ib = i end
    end
    return ia > ib
  end)
end

step("start " .. first.name .. " (stopped last)", function()
  if not first:ping() then
    local ok, err = pcall(function() first:start() end)
    if not ok then say(first.name .. " did not start: " .. tostring(err)) end
  end
  local ok, err = pcall(function() first:await_running{ timeout = timeout } end)
  if ok then return end
  -- The last-stopped node cannot start: another node may boot without waiting for it, losing the
  -- changes made after it stopped. Only with a separate, explicit confirmation.
  local fallback = others[1]
  if not fallback then error(first.name .. " cannot start and there is no other node: " .. tostring(err)) end
  say(first.name .. " cannot start (" .. tostring(err) .. ")")
  confirm("FORCE BOOT: " .. first.name .. " (stopped last) cannot start. Force-boot " .. fallback.name ..
    " instead? It will boot without waiting for its peers; changes made after it stopped are lost.")
  if fallback:ping() then fallback:stop() end
  fallback:force_boot()
  fallback:start()
  fallback:await_running{ timeout = timeout }
  note("force_booted", fallback.name)
end)

for _, node in ipairs(others) do
  step("start " .. node.name, function()
    if not node:ping() then node:start() end
    -- While the cluster comes up, ping (the VM) is the gate: check_running would wait for peers.
    wait_until(function() return node:ping() end, { timeout = timeout, every = 2, what = node.name .. " to answer ping" })
    node:await_running{ timeout = timeout }
  end)
end

last_step()
