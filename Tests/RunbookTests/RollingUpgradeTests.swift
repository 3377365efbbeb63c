import Cluster
import Foundation
import Testing
@testable import Runbook
import Simulator

@Suite("rolling-upgrade: preflight, node by node, refusals before any change, a failing upgrade command")
struct RollingUpgradeTests {
    func sim(_ version: String, nodes: Int = 3, spares: Int = 0) -> Simulator {
        Simulator(nodes: nodes, seed: 7, spares: spares, version: try! RabbitMQVersion(parsing: version))
    }

    func releases(_ d: Drill) throws -> [String] {
        try d.sim.nodes().filter { !$0.name.hasSuffix("n4") }.map { $0.versions?.rabbitmq ?? "?" }
    }

    func notes(_ d: Drill) -> [String: [String]] {
        var out: [String: [String]] = [:]
        for e in d.journal { if case .note(let n) = e.event { out[n.key, default: []].append(n.value) } }
        return out
    }

    @Test("3.12.13 to 3.13.7: every node stopped once and upgraded, the new flags enabled, the window opened and closed, definitions backed up")
    func upgrades() throws {
        let d = Drill(sim: sim("3.12.13"))
        let r = try d.run("rolling-upgrade", params: ["to": "3.13.7"])
        #expect(r.error == nil, "\(d.lastConsole.text)")
        #expect(try releases(d) == ["3.13.7", "3.13.7", "3.13.7"])
        #expect(d.primitives.filter { $0.hasPrefix("stop ") }.count == 3)
        #expect(d.primitives.filter { $0.hasPrefix("upgrade ") }.count == 3)
        #expect(try d.sim.featureFlags().filter { $0.stability == .stable }.allSatisfy { $0.state == .enabled })
        #expect(d.sim.invariants().converged && d.sim.invariants().safe)
        let window = notes(d)["mixed_version_window"] ?? []
        #expect(window.count == 2 && window[0].hasPrefix("opened") && window[1].hasPrefix("closed after"), "\(window)")
        #expect(FileManager.default.fileExists(atPath: d.paths.session(d.session!) + "/definitions-before-upgrade.json"))
    }

    @Test("a stable flag left disabled refuses before any change, naming the flag")
    func disabledFlag() throws {
        let s = sim("3.13.7")
        s.setFeatureFlag("message_containers", enabled: false)
        let d = Drill(sim: s)
        let r = try d.run("rolling-upgrade", params: ["to": "4.0.5"])
        guard case .failed(let m)? = r.error else { Issue.record("\(String(describing: r.error))"); return }
        #expect(m.contains("message_containers") && m.contains("Nothing was changed"))
        #expect(d.primitives.isEmpty, "\(d.primitives)")
        #expect(try releases(d) == ["3.13.7", "3.13.7", "3.13.7"])
    }

    @Test("an upgrade command that fails stops the run at that node, started again on its old release, the cluster healthy; resume finishes")
    func failingUpgradeCommand() throws {
        let d = Drill(sim: sim("3.12.13"))
        let r = try d.run("rolling-upgrade", params: ["to": "3.13.7"], beforeStep: { step in
            if step == "upgrade-n2" { try d.sim.failNextUpgrade("n2") }
        })
        guard case .failed(let m)? = r.error else { Issue.record("\(String(describing: r.error))"); return }
        #expect(m.contains("upgrade command failed on rabbit@n2") && m.contains("runs its old release 3.12.13 again"))
        #expect(try releases(d) == ["3.13.7", "3.12.13", "3.12.13"])
        #expect(try d.sim.status().healthy)
        #expect(!d.primitives.contains("stop rabbit@n3"))
        let resumed = try d.run("rolling-upgrade", resume: true)
        #expect(resumed.error == nil, "\(d.lastConsole.text)")
        #expect(try releases(d) == ["3.13.7", "3.13.7", "3.13.7"])
    }

    @Test("bad input stops before the first step: not a release, an unknown one, one older than the cluster, a node reporting an unknown release")
    func badInput() throws {
        for (to, words) in [("3.13", "is not a RabbitMQ version"), ("5.0.0", "is not in warren's version table"),
                            ("3.12.0", "is older than 3.12.13")] {
            let d = Drill(sim: sim("3.12.13"))
            let r = try d.run("rolling-upgrade", params: ["to": to])
            guard case .usage(let m)? = r.error else { Issue.record("\(to): \(String(describing: r.error))"); continue }
            #expect(m.contains(words) && m.contains("nothing was changed"), "\(m)")
            #expect(d.primitives.isEmpty)
        }
        let s = sim("3.12.13")
        try s.setVersions("n2", rabbitmq: "3.9.29", erlang: "26.2")
        let d = Drill(sim: s)
        let r = try d.run("rolling-upgrade", params: ["to": "3.13.7"])
        guard case .usage(let m)? = r.error else { Issue.record("\(String(describing: r.error))"); return }
        #expect(m.contains("rabbit@n2 reports a version warren cannot plan with"))
    }

    @Test("a mixed-version cluster: refused with no unfinished upgrade known; accepted, and said so, while one is")
    func mixedCluster() throws {
        let s = sim("3.12.13")
        try s.stop("n1")
        try s.upgrade("n1", to: try RabbitMQVersion(parsing: "3.13.7"))
        try s.start("n1")
        try s.awaitRunning("n1", timeout: 300)
        let refused = Drill(sim: s)
        let r = try refused.run("rolling-upgrade", params: ["to": "3.13.7"])
        guard case .failed(let m)? = r.error else { Issue.record("\(String(describing: r.error))"); return }
        #expect(m.contains("mixed versions") && m.contains("no unfinished rolling upgrade"))

        // warren stops (a crash) once n1 runs 3.13.7; a new run on the same cluster goes on.
        let d = Drill(sim: sim("3.12.13"))
        let crashed = try d.run("rolling-upgrade", params: ["to": "3.13.7"], afterPrimitive: { call in
            if call.name == "await_running" && call.node == "rabbit@n1" { throw SimulatedCrash() }
        })
        #expect(crashed.crashed)
        let first = d.session
        let again = try d.run("rolling-upgrade", params: ["to": "3.13.7"])
        #expect(again.error == nil, "\(d.lastConsole.text)")
        #expect(d.lastConsole.text.contains("the cluster runs mixed versions, as expected: the rolling upgrade to 3.13.7 of session \(first!) is unfinished"))
        #expect(!d.primitives.contains("stop rabbit@n1"), "n1 already runs 3.13.7")
        #expect(try releases(d) == ["3.13.7", "3.13.7", "3.13.7"])
    }

    @Test("a mixed-version window longer than its limit is said and journaled")
    func windowLimit() throws {
        let d = Drill(sim: sim("3.13.7"))
        let r = try d.run("rolling-upgrade", params: ["to": "4.0.5", "window": "20"])
        #expect(r.error == nil, "\(d.lastConsole.text)")
        #expect(notes(d)["mixed_version_window_exceeded"]?.isEmpty == false)
        #expect(notes(d)["mixed_version_window"]?.last?.contains("EXCEEDED") == true)
    }

    @Test("reinstall=true installs the release again on nodes that run it; without it they are left alone")
    func reinstall() throws {
        let d = Drill(sim: sim("4.0.5"))
        #expect(try d.run("rolling-upgrade", params: ["to": "4.0.5", "reinstall": "true"]).error == nil, "\(d.lastConsole.text)")
        #expect(d.primitives.filter { $0.hasPrefix("upgrade ") }.count == 3)
        let left = Drill(sim: sim("4.0.5"))
        #expect(try left.run("rolling-upgrade", params: ["to": "4.0.5"]).error == nil)
        #expect(!left.primitives.contains { $0.hasPrefix("upgrade ") || $0.hasPrefix("stop ") })
    }
}

@Suite("Runbooks branch on Khepri where the procedure differs")
struct KhepriRunbookTests {
    let khepri = try! RabbitMQVersion(parsing: "4.2.0")

    @Test("full-startup on Khepri starts every node, then waits for each: no last-stopped node, no force_boot")
    func fullStartup() throws {
        let d = Drill(sim: Simulator(nodes: 3, seed: 7, version: khepri))
        #expect(try d.run("full-shutdown", answers: "stop-n2#unsafe: yes\nstop-n1#unsafe: yes\n").error == nil, "\(d.lastConsole.text)")
        let r = try d.run("full-startup")
        #expect(r.error == nil, "\(d.lastConsole.text)")
        #expect(d.doneSteps.first == "start-every-node-khepri-each-finishes-booting-once-2-of-3-run")
        #expect(!d.primitives.contains { $0.hasPrefix("force_boot") })
        #expect(d.sim.invariants().converged)
    }

    @Test("full-startup on Khepri with a majority lost stops and says a majority is needed and force_boot does nothing")
    func fullStartupWithoutMajority() throws {
        let d = Drill(sim: Simulator(nodes: 3, seed: 7, version: khepri))
        #expect(try d.run("full-shutdown", answers: "stop-n2#unsafe: yes\nstop-n1#unsafe: yes\n").error == nil)
        try d.sim.failNextBoot("n2")
        try d.sim.failNextBoot("n3")
        let r = try d.run("full-startup", params: ["timeout": "400"])
        guard case .failed(let m)? = r.error else { Issue.record("\(String(describing: r.error))"); return }
        #expect(m.contains("a majority of the members (2 of 3) must run") && m.contains("force_boot does nothing"), "\(m)")
    }

    @Test("reset-node refuses force on Khepri before touching the node; remove-node does not reset a node forget reset already")
    func resetAndRemove() throws {
        let d = Drill(sim: Simulator(nodes: 3, seed: 7, version: khepri))
        let r = try d.run("reset-node", params: ["node": "n3", "force": "true"])
        guard case .usage(let m)? = r.error else { Issue.record("\(String(describing: r.error))"); return }
        #expect(m.contains("force_reset is not supported with Khepri"))
        let removed = try d.run("remove-node", params: ["node": "n3"])
        #expect(removed.error == nil, "\(d.lastConsole.text)")
        #expect(!d.primitives.contains("reset rabbit@n3"))
        #expect(d.lastConsole.text.contains("forget_cluster_node reset rabbit@n3 already"))
        #expect(try d.sim.status().members == ["rabbit@n1", "rabbit@n2"])
    }
}
