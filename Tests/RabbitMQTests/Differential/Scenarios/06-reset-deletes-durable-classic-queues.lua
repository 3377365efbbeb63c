-- A graceful reset deletes the durable classic queues homed on the node, with their messages.
runbook { name = "reset-deletes-durable-classic-queues" }
local n1, n2, n3 = table.unpack(cluster.nodes{ all = true })

local function present(name)
  for _, q in ipairs(cluster.queues()) do if q.name == name then return true end end
  return false
end

step("observe", function()
  cluster.declare_queue{ name = "d.c", type = "classic", node = n3 }
  cluster.publish("d.c", 3, { mandatory = true })
  note("obs.present_before", present("d.c"))
  confirm("Reset n3?")
  n3:stop_app{ unsafe = true }
  n3:reset{ unsafe = true }
  note("obs.present_after_reset", present("d.c"))
  n3:join(n1)
  n3:start_app()
  n3:await_running{ timeout = 120 }
  note("obs.present_after_rejoin", present("d.c"))
  cluster.grow(n3, "all")
end)
