import Cluster
import Foundation
import Runbook
import Simulator
import Testing
@testable import Sessions

@Suite("Verification: snapshots at a session's start and end, compared in its report")
struct VerificationTests {
    func sessions(_ sim: Simulator = { let s = Simulator(); try! s.declareDemoSet(); return s }()) throws -> SimulatedSessions {
        try SimulatedSessions(root: try makeScratchDirectory("warren-verify"), simulator: sim, library: drillLibrary,
                              terminal: ScriptedTerminal(keep: false))
    }

    func yes(_ params: [String: String] = [:]) -> RunOptions {
        var o = RunOptions()
        o.assumeYes = true
        o.params = params
        return o
    }

    func report(_ s: SimulatedSessions, _ id: String) throws -> String {
        try String(contentsOfFile: s.paths.session(id) + "/report.md", encoding: .utf8)
    }

    @Test("a clean rolling restart keeps both snapshots and its report finds no unexpected difference")
    func quietOnRollingRestart() throws {
        let s = try sessions()
        let out = try s.run(try drillLibrary.find("rolling-restart"), options: yes())
        #expect(out.exitCode == 0)
        let dir = s.paths.session(out.session)
        let start = try ClusterSnapshot.read(dir + "/" + SessionVerification.startFile)
        let end = try ClusterSnapshot.read(dir + "/" + SessionVerification.endFile)
        #expect(start.queues.map(\.name).sorted() == end.queues.map(\.name).sorted())
        let text = try report(s, out.session)
        #expect(text.contains("## Verification"))
        #expect(text.contains("no unexpected difference."), "\(text)")
        #expect(!text.contains("UNEXPECTED"))
        #expect(text.contains("| Messages   | 363"))
        // The section comes before the final state, and `sessions show` draws it again from the files.
        #expect(text.range(of: "## Verification")!.lowerBound < text.range(of: "## Final cluster state")!.lowerBound)
        try FileManager.default.removeItem(atPath: dir + "/report.md")
        let redrawn = try SessionStore(directory: s.paths.sessions).report(out.session)
        #expect(redrawn.renderedFromJournal && redrawn.text.contains("no unexpected difference."))
    }

    @Test("a runbook that loses a queue (a reset deletes the durable classic queue on its node) is flagged; the reset node is expected")
    func flagsLostQueue() throws {
        let s = try sessions()
        let home = try #require(try s.simulator.queues(type: .classic).first { $0.name == "reports" }?.leader)
        let out = try s.run(try drillLibrary.find("reset-node"), options: yes(["node": home, "backup": makeTempDir() + "/defs.json"]))
        #expect(out.exitCode == 0)
        let text = try report(s, out.session)
        #expect(text.contains("1 UNEXPECTED difference."), "\(text)")
        #expect(text.contains("- UNEXPECTED: queue reports (classic) is gone; it had 8 messages at the start"))
        #expect(text.contains("- \(home) left the cluster (the run removed it)"))
    }

    @Test("a node the run stopped and did not start is expected; one a fault killed is not")
    func stoppedOnPurposeOrKilled() throws {
        let dir = makeTempDir()
        let path = dir + "/stop-n3.lua"
        try """
            runbook { name = "stop-n3", summary = "stops n3" }
            step("stop n3", function()
              confirm("Stop n3?")
              cluster.node("n3"):stop()
            end)
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let s = try sessions()
        var out = try s.run(try RunbookSource(path: path), options: yes())
        var text = try report(s, out.session)
        #expect(text.contains("no unexpected difference."), "\(text)")
        #expect(text.contains("- rabbit@n3 is stopped (the run stopped it)"))

        let t = try sessions()
        t.beforeStep = { _ in try t.inject(.kill(node: "n2")) }
        out = try t.run(try drillLibrary.find("rebalance"), options: yes())
        text = try report(t, out.session)
        #expect(text.contains("- UNEXPECTED: rabbit@n2 was running at the start and is stopped at the end"), "\(text)")
    }

    @Test("a resumed session compares its end with its first start")
    func resumeKeepsFirstStart() throws {
        let s = try sessions()
        var refused = RunOptions()
        refused.answers = try AnswerScript(text: "no\n", path: "answers")
        let first = try s.run(try drillLibrary.find("rolling-restart"), options: refused)
        #expect(first.exitCode != 0)
        let dir = s.paths.session(first.session)
        let start = try ClusterSnapshot.read(dir + "/" + SessionVerification.startFile)
        let resumed = try #require(try s.resume(first.session, options: yes()))
        #expect(resumed.exitCode == 0)
        #expect(try ClusterSnapshot.read(dir + "/" + SessionVerification.startFile) == start)
        #expect(try report(s, first.session).contains("no unexpected difference."))
    }

    @Test("sweeps record no sessions and take no snapshots")
    func sweepsTakeNone() throws {
        let root = try makeScratchDirectory("warren-verify-sweep")
        let sim = Simulator()
        try sim.declareDemoSet()
        let s = try SimulatedSessions(root: root, simulator: sim, library: drillLibrary, terminal: ScriptedTerminal(keep: false), records: false)
        let out = try s.run(try drillLibrary.find("rolling-restart"), options: yes())
        let files = try FileManager.default.contentsOfDirectory(atPath: s.paths.session(out.session))
        #expect(!files.contains(SessionVerification.startFile) && !files.contains(SessionVerification.endFile))
    }

    @Test("a rehearsal: a rolling restart on the copy of a snapshot completes with the same queues, and the original is untouched")
    func rehearsalOnCopy() throws {
        let original = Simulator(nodes: 3, seed: 11)
        try original.declareDemoSet()
        let before = try original.snapshot()
        let copy = try Simulator.copy(of: try ClusterSnapshot.capture(original, depth: .full))
        #expect(try original.snapshot() == before, "a snapshot changes nothing")
        let s = try sessions(copy)
        let out = try s.run(try drillLibrary.find("rolling-restart"), options: yes())
        #expect(out.exitCode == 0)
        let names = { (sim: Simulator) in try sim.queues(type: nil).map { "\($0.name) \($0.type) \($0.messages) \($0.members.count)" }.sorted() }
        #expect(try names(s.simulator) == names(original))
        #expect(s.simulator.invariants().safe && s.simulator.invariants().converged)
    }
}
