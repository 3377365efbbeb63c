runbook {
  name = "full-shutdown",
  summary = "Stop every node one at a time and record the order: the last one stopped must start first",
  params = {
    { name = "last", help = "the node to stop last (it will start first); default: the first member" },
  },
}
local common = require "lib.common"

local members = cluster.nodes()
local last = param("last") and cluster.node(param("last")) or members[1]
local order = {}
for i = #members, 1, -1 do
  if members[i].name ~= last.name then order[#order + 1] = members[i] end
end
order[#order + 1] = last

step("record the plan", function()
  local names = {}
  for _, n in ipairs(order) do names[#names + 1] = n.name end
  say("stop order: " .. table.concat(names, ", ") .. "; " .. last.name .. " stops last and must start first")
  note("planned_order", table.concat(names, ","))
  -- full-startup follows another procedure on Khepri, and cannot ask a stopped cluster which it uses.
  memory.set("metadata_store", cluster.metadata_store())
end)

for i, node in ipairs(order) do
  step{
    id = "stop-" .. node.short,
    title = "stop " .. node.name .. " (" .. i .. " of " .. #order .. ")",
    run = function()
      if node:ping() then
        confirm("Stop " .. node.name .. " (" .. i .. " of " .. #order .. ")? Its clients lose this node.")
        -- Once a majority is gone every remaining node is quorum-critical: a full shutdown takes the
        -- cluster down on purpose, so these stops are explicitly unsafe (asked separately).
        node:stop{ unsafe = true }
      end
      local stopped = memory.get("shutdown_order") or {}
      if i == 1 then stopped = {} end
      if not common.contains(stopped, node.name) then stopped[#stopped + 1] = node.name end
      memory.set("shutdown_order", stopped)
      note("stopped_" .. i, node.name)
    end,
  }
end
