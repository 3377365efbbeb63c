import Cluster
import Foundation
import Testing
@testable import Runbook
import Simulator

/// Runbooks and the simulator each needs, with parameters.
let catalogue: [(name: String, params: [String: String], sim: () -> Simulator, answers: String)] = [
    ("rolling-restart", [:], { Simulator(nodes: 3, seed: 11) }, ""),
    ("add-node", ["node": "n4"], { Simulator(nodes: 3, seed: 12, spares: 1) }, ""),
    ("remove-node", ["node": "n4"], { Simulator(nodes: 4, seed: 13) }, ""),
    ("replace-node", ["old": "n3", "new": "n4"], { Simulator(nodes: 3, seed: 14, spares: 1) }, ""),
    ("reset-node", ["node": "n3"], { Simulator(nodes: 3, seed: 15) }, ""),
    ("form-cluster", [:], { Simulator(nodes: 3, seed: 16, formed: false) }, ""),
    ("full-shutdown", [:], { Simulator(nodes: 3, seed: 17) }, "stop-n2#unsafe: yes\nstop-n1#unsafe: yes\n"),
    ("rebalance", [:], { Simulator(nodes: 3, seed: 18) }, ""),
]

@Suite("Refused confirmations stop the run and resume to completion")
struct RefusalTests {
    @Test("a refused confirmation at each step stops with nothing further changed, and resume completes every step exactly once",
          arguments: catalogue.map(\.name).filter { $0 != "rebalance" })
    func refuseThenResume(_ name: String) throws {
        let entry = catalogue.first { $0.name == name }!
        // How many confirmations does a happy run ask?
        let probe = Drill(sim: entry.sim())
        let params = name == "reset-node" ? entry.params.merging(["backup": probe.dir + "/defs.json"]) { $1 } : entry.params
        _ = try probe.run(name, params: params, answers: entry.answers)
        let confirmations = probe.journal.filter { if case .question(let q) = $0.event { return !q.unsafe } else { return false } }.count
        #expect(confirmations > 0)
        let allSteps = Set(probe.doneSteps)
        for k in 1...max(confirmations, 1) {
            let d = Drill(sim: entry.sim())
            let console = ScriptedConsole(answers: Array(repeating: "y", count: k - 1) + ["n"])
            let r = try d.run(name, params: params, yes: false, answers: entry.answers, console: console)
            guard case .refused? = r.error else {
                Issue.record("\(name): refusal #\(k) did not stop the run: \(String(describing: r.error))\n\(console.text)")
                continue
            }
            // Nothing reached the cluster after the refused answer.
            let entries = d.journal
            let refusedAt = entries.lastIndex { if case .answer(let a) = $0.event { return a.answer == "no" } else { return false } }!
            let callsAfter = entries[refusedAt...].filter { if case .primitiveCall = $0.event { return true } else { return false } }
            #expect(callsAfter.isEmpty, "\(name) #\(k)")
            // Resume with yes completes, each step done exactly once over both runs.
            let r2 = try d.run(name, params: params, yes: true, answers: entry.answers, resume: true)
            #expect(r2.error == nil, "\(name) resume after refusal #\(k): \(d.lastConsole.text)")
            let done = d.doneSteps
            #expect(Set(done) == allSteps && done.count == allSteps.count, "\(name) #\(k): \(done)")
        }
    }

    @Test("without a terminal, --yes or --answers a run that asks questions is a usage error before any change")
    func nonTerminalRefuses() throws {
        let d = Drill()
        #expect(throws: RunbookError.self) { try d.run("rolling-restart", yes: false, console: ScriptedConsole(interactive: false)) }
        do {
            try d.run("rolling-restart", yes: false, console: ScriptedConsole(interactive: false))
        } catch let e as RunbookError {
            #expect(e.exitCode == 2 && e.description.contains("stdin is not a terminal"), "\(e)")
        }
        #expect(d.session == nil && d.primitives.isEmpty)
    }
}

@Suite("A fault at each step stops the run at the next gate with no further node touched")
struct FaultTests {
    @Test("a node that does not come back stops rolling-restart at its step", arguments: ["n1", "n2", "n3"])
    func nodeDoesNotComeBack(_ node: String) throws {
        let d = Drill(sim: Simulator(nodes: 3, seed: 21))
        let r = try d.run("rolling-restart", beforeStep: { id in
            if id == "restart-\(node)" { try d.sim.failNextBoot(node) }
        })
        guard case .failed(let message)? = r.error else { Issue.record("not stopped: \(d.lastConsole.text)"); return }
        #expect(message.contains("rabbit@\(node)"), "\(message)")
        // No node after it was stopped.
        let later = ["n1", "n2", "n3"].drop { $0 != node }.dropFirst()
        for other in later { #expect(!d.primitives.contains("stop rabbit@\(other)"), "\(d.primitives)") }
        guard case .sessionEnd(let end)? = d.journal.last?.event else { Issue.record("no session end"); return }
        #expect(end.outcome == "failed")
    }

    @Test("a partition before any step stops the run at the next gate",
          arguments: ["rolling-restart", "add-node", "remove-node", "replace-node"])
    func partitionAtEachStep(_ name: String) throws {
        let entry = catalogue.first { $0.name == name }!
        let probe = Drill(sim: entry.sim())
        _ = try probe.run(name, params: entry.params)
        let steps = probe.doneSteps
        for (i, step) in steps.enumerated() {
            let d = Drill(sim: entry.sim())
            let r = try d.run(name, params: entry.params, beforeStep: { id in
                if id == step { try d.sim.partition(["rabbit@n1"], ["rabbit@n2", "rabbit@n3"]) }
            })
            guard case .failed(let message)? = r.error else {
                Issue.record("\(name): a partition before step \(i + 1) (\(step)) did not stop the run\n\(d.lastConsole.text)")
                continue
            }
            #expect(message.contains("gate") || message.contains("partition") || message.contains("timed out"), "\(name)/\(step): \(message)")
            #expect(d.doneSteps.count < steps.count)
        }
    }

    @Test("full-startup force-boots another node only after a separate confirmation when the last-stopped node is lost")
    func forceBootPath() throws {
        // Refused: stops without force-booting.
        let d2 = try lastStoppedNodeLost()
        let r = try d2.run("full-startup", params: ["timeout": "60"], yes: false, console: ScriptedConsole(answers: ["n"]))
        #expect(r.error != nil)
        #expect(!d2.primitives.contains { $0.hasPrefix("force_boot") })
        #expect(d2.lastConsole.text.contains("FORCE BOOT"))
    }
}

@Suite("full-startup's force_boot path")
struct ForceBootTests {
    @Test("confirming the force boot boots another node without waiting for the lost one")
    func forceBootConfirmed() throws {
        let d2 = try lastStoppedNodeLost()
        let r = try d2.run("full-startup", params: ["timeout": "60"], yes: false, console: ScriptedConsole(answers: ["y"]))
        #expect(d2.primitives.contains("force_boot rabbit@n2"), "\(d2.lastConsole.text)")
        #expect(try d2.sim.status().running.contains("rabbit@n2"))
        _ = r
    }
}

/// A cluster after a full shutdown whose last-stopped node (n1) lost its disk and cannot boot,
/// with the recorded shutdown order, ready for full-startup.
func lastStoppedNodeLost() throws -> Drill {
    let d = Drill()
    _ = try d.run("full-shutdown", answers: "stop-n2#unsafe: yes\nstop-n1#unsafe: yes\n")
    try d.sim.loseDisk("n1")
    try d.sim.failNextBoot("n1")
    let next = Drill(sim: d.sim)
    try FileManager.default.copyItem(atPath: d.memoryPath, toPath: next.memoryPath)
    return next
}
