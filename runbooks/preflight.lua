runbook {
  name = "preflight",
  summary = "Check the source document's requirements: node count, cookie, hostnames, ports, versions, partitions, alarms",
}

step("check the requirements", function()
  local failed = {}
  for _, c in ipairs(cluster.preflight()) do
    local mark = ({ pass = "ok  ", warn = "WARN", fail = "FAIL" })[c.outcome] or c.outcome
    say(mark .. " " .. c.name .. ": " .. c.detail)
    if c.outcome == "fail" then failed[#failed + 1] = c.name end
  end
  if #failed > 0 then error("preflight failed: " .. table.concat(failed, ", ")) end
end)
