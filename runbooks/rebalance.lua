runbook {
  name = "rebalance",
  summary = "Spread queue leaders evenly over the running nodes",
  params = {
    { name = "kind", default = "quorum", help = "quorum, classic or all (3.10 refuses stream)" },
    { name = "timeout", default = "300", help = "seconds to wait for a healthy cluster first" },
  },
}

local common = require "lib.common"
local timeout = common.seconds("timeout")

local function leaders()
  local parts = {}
  for _, n in ipairs(cluster.nodes()) do
    local info = n:info()
    parts[#parts + 1] = n.name .. "=" .. info.leaders
  end
  return table.concat(parts, " ")
end

step("rebalance " .. param("kind") .. " leaders", function()
  -- Leaders spread over the nodes that run: with a member down they would pile up on the others.
  gate.cluster_healthy{ timeout = timeout }
  say("leaders before: " .. leaders())
  cluster.rebalance(param("kind"))
  say("leaders after: " .. leaders())
end)
