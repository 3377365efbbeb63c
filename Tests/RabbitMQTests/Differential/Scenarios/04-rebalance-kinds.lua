-- rebalance takes all, classic and quorum; stream is refused with 69.
runbook { name = "rebalance-kinds" }

step("observe", function()
  for _, kind in ipairs({ "all", "classic", "quorum", "stream" }) do
    local ok, err = pcall(function() cluster.rebalance(kind) end)
    note("obs.rebalance_" .. kind, ok and "ok" or err.code)
  end
end)
