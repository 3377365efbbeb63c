runbook {
  name = "rebalance",
  summary = "Spread queue leaders evenly over the running nodes",
  params = { { name = "kind", default = "quorum", help = "quorum, stream or all" } },
}

local function leaders()
  local parts = {}
  for _, n in ipairs(cluster.nodes()) do
    local info = n:info()
    parts[#parts + 1] = n.name .. "=" .. info.leaders
  end
  return table.concat(parts, " ")
end

step("rebalance " .. param("kind") .. " leaders", function()
  say("leaders before: " .. leaders())
  cluster.rebalance(param("kind"))
  say("leaders after: " .. leaders())
end)
