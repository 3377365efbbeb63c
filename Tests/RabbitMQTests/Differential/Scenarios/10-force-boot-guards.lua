-- force_boot is refused while the app runs (64); on a stopped node it works, and the node boots.
runbook { name = "force-boot-guards" }
local n1, n2, n3 = table.unpack(cluster.nodes{ all = true })

step("observe", function()
  confirm("force_boot n3?")
  local ok, err = pcall(function() n3:force_boot() end)
  note("obs.force_boot_running", ok and "ok" or err.code)
  n3:stop{ unsafe = true }
  local ok2, err2 = pcall(function() n3:force_boot() end)
  note("obs.force_boot_stopped", ok2 and "ok" or err2.code)
  n3:start()
  n3:await_running{ timeout = 120 }
  note("obs.running_after", n3:state())
end)
