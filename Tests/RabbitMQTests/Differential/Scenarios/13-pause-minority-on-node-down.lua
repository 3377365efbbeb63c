-- partition_handling: pause_minority
-- pause_minority reacts to node-down events (rabbit_node_monitor:handle_dead_rabbit): with one of
-- three members stopped the others run on; with two stopped the last one pauses (its app stops,
-- its VM runs) and resumes once a peer's VM is back.
runbook { name = "pause-minority-on-node-down" }
local n1, n2, n3 = table.unpack(cluster.nodes{ all = true })

step("observe", function()
  confirm("Stop n3, then n2?")
  n3:stop{ unsafe = true }
  note("obs.n1_one_peer_down", n1:state())
  n2:stop{ unsafe = true }
  wait_until(function() return n1:state() ~= "running", n1:state() end, { timeout = 60, every = 1, what = "n1 to pause" })
  note("obs.n1_two_peers_down", n1:state())
  n2:start()
  n2:await_running{ timeout = 180 }
  n1:await_running{ timeout = 180 }
  note("obs.n1_peer_back", n1:state())
  n3:start()
  n3:await_running{ timeout = 180 }
end)
