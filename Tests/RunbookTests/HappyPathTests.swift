import Foundation
import Cluster
import Testing
@testable import Runbook
import Simulator

@Suite("Every runbook completes on the simulator, converged, with no invariant broken")
struct HappyPathTests {
    func expectConverged(_ d: Drill, _ r: RunResult, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.error == nil, "\(r.error?.description ?? "")\n\(d.lastConsole.text)", sourceLocation: sourceLocation)
        let inv = d.sim.invariants()
        #expect(inv.converged, "\(inv.convergenceProblems)", sourceLocation: sourceLocation)
        #expect(inv.safe, "\(inv)", sourceLocation: sourceLocation)
    }

    @Test("rolling-restart restarts every node once and ends converged")
    func rollingRestart() throws {
        let d = Drill()
        let r = try d.run("rolling-restart")
        expectConverged(d, r)
        #expect(d.primitives.filter { $0.hasPrefix("stop ") }.count == 3)
        #expect(d.primitives.filter { $0.hasPrefix("start ") }.count == 3)
        #expect(d.doneSteps == ["check-the-cluster-is-healthy-before-starting", "restart-n1", "restart-n2", "restart-n3", "rebalance-quorum-queue-leaders"])
    }

    @Test("full-shutdown records the order and full-startup starts the last-stopped node first")
    func fullShutdownStartup() throws {
        let d = Drill()
        let r1 = try d.run("full-shutdown", answers: "stop-n2#unsafe: yes\nstop-n1#unsafe: yes\n")
        #expect(r1.error == nil, "\(d.lastConsole.text)")
        #expect(try d.sim.status().running.isEmpty || (try d.sim.nodes()).allSatisfy { $0.state == .stopped })
        let d2 = Drill(sim: d.sim)
        try? FileManager.default.copyItem(atPath: d.memoryPath, toPath: d2.memoryPath)
        let r2 = try d2.run("full-startup")
        // A full shutdown takes every majority away on purpose: only convergence and messages count.
        #expect(r2.error == nil, "\(d2.lastConsole.text)")
        #expect(d2.sim.invariants().converged && d2.sim.invariants().lostMessages.values.allSatisfy { $0 == 0 })
        let starts = d2.primitives.filter { $0.hasPrefix("start ") }
        #expect(starts.first == "start rabbit@n1", "\(starts)")
    }

    @Test("add-node joins a spare and grows quorum queues onto it")
    func addNode() throws {
        let d = Drill(sim: Simulator(nodes: 3, seed: 3, spares: 1))
        let r = try d.run("add-node", params: ["node": "n4"])
        expectConverged(d, r)
        #expect(try d.sim.status().members.contains("rabbit@n4"))
        #expect(try d.sim.queues(type: .quorum).allSatisfy { $0.members.contains("rabbit@n4") })
    }

    @Test("remove-node takes a node out and shrinks its quorum queues")
    func removeNode() throws {
        let d = Drill(sim: Simulator(nodes: 4, seed: 3))
        let r = try d.run("remove-node", params: ["node": "n4"])
        expectConverged(d, r)
        #expect(!(try d.sim.status().members.contains("rabbit@n4")))
        #expect(try d.sim.queues(type: .quorum).allSatisfy { !$0.members.contains("rabbit@n4") })
    }

    @Test("replace-node grows onto the new node before shrinking the old one")
    func replaceNode() throws {
        let d = Drill(sim: Simulator(nodes: 3, seed: 5, spares: 1))
        let r = try d.run("replace-node", params: ["old": "n3", "new": "n4"])
        expectConverged(d, r)
        let members = try d.sim.status().members
        #expect(members.contains("rabbit@n4") && !members.contains("rabbit@n3"))
        let p = d.primitives
        let grow = p.firstIndex { $0.hasPrefix("grow ") }, forget = p.firstIndex { $0.hasPrefix("forget ") }
        #expect(grow != nil && forget != nil && grow! < forget!)
    }

    @Test("replace-node replaces a node that has already failed: it is forgotten without a stop, after the new one has its replicas")
    func replaceFailedNode() throws {
        let d = Drill(sim: Simulator(nodes: 3, seed: 5, spares: 1))
        try d.sim.kill("n3")
        let r = try d.run("replace-node", params: ["old": "n3", "new": "n4"])
        expectConverged(d, r)
        #expect(Set(try d.sim.status().members) == ["rabbit@n1", "rabbit@n2", "rabbit@n4"])
        #expect(d.lastConsole.text.contains("gate cluster_healthy (all but rabbit@n3): ok"))
        #expect(d.lastConsole.text.contains("rabbit@n3 is not running: it is replaced as a failed node"))
        let p = d.primitives
        #expect(!p.contains { $0.hasPrefix("stop_app rabbit@n3") })
        let grow = p.firstIndex { $0.hasPrefix("grow ") }, forget = p.firstIndex { $0.hasPrefix("forget ") }
        #expect(grow != nil && forget != nil && grow! < forget!)
        #expect(try d.sim.queues(type: .quorum).allSatisfy { $0.members.contains("rabbit@n4") && !$0.members.contains("rabbit@n3") })
    }

    @Test("replace-node refuses a failed node when another member is down too, before touching anything")
    func replaceFailedNodeWithAnotherDown() throws {
        let d = Drill(sim: Simulator(nodes: 5, seed: 5, spares: 1))
        try d.sim.kill("n5")
        try d.sim.kill("n4")
        let r = try d.run("replace-node", params: ["old": "n5", "new": "n6", "timeout": "5"])
        #expect(r.error?.description.contains("not running: rabbit@n4") == true, "\(r.error?.description ?? "no error")")
        #expect(d.primitives.isEmpty, "\(d.primitives)")
    }

    @Test("reset-node exports definitions before resetting")
    func resetNode() throws {
        let d = Drill()
        let backup = d.dir + "/defs.json"
        let r = try d.run("reset-node", params: ["node": "n3", "backup": backup])
        #expect(r.error == nil, "\(d.lastConsole.text)")
        #expect(FileManager.default.fileExists(atPath: backup))
        let p = d.primitives
        #expect(p.firstIndex { $0.hasPrefix("export_definitions") }! < p.firstIndex { $0.hasPrefix("reset ") }!)
    }

    @Test("form-cluster joins standalone nodes into one cluster")
    func formCluster() throws {
        let d = Drill(sim: Simulator(nodes: 3, seed: 9, formed: false))
        let r = try d.run("form-cluster")
        expectConverged(d, r)
        #expect(Set(try d.sim.status().members) == ["rabbit@n1", "rabbit@n2", "rabbit@n3"])
    }

    @Test("rebalance and preflight complete")
    func rebalanceAndPreflight() throws {
        let d = Drill()
        expectConverged(d, try d.run("rebalance"))
        let d2 = Drill()
        expectConverged(d2, try d2.run("preflight"))
        #expect(d2.lastConsole.text.contains("ok "))
    }
}

@Suite("The quorum interlock")
struct InterlockTests {
    static let stopper = tempRunbook("""
        runbook { name = "stopper" }
        step("stop n1 without a gate", function()
          confirm("Stop n1?")
          cluster.node("n1"):stop()
        end)
        """)

    @Test("a node that is already down passes the interlock: stopping it takes nothing more away")
    func downNodePasses() throws {
        let d = Drill()
        try d.sim.kill("n1")
        let r = try d.run("stopper", source: InterlockTests.stopper)
        #expect(r.error == nil, "\(r.error?.description ?? "")")
        #expect(d.primitives == ["stop rabbit@n1"])
    }
}
