import Foundation
import WarrenTestSupport
import Testing

/// Crash consistency of the shipped binary: warren is killed (SIGKILL, as `kill -9`) just before
/// each of its journal writes in turn, then `warren resume --yes` is run until the procedure
/// completes; the simulator's saved state must then show every node stopped exactly once,
/// running and not drained. (`WARREN_TEST_CRASH_AT_JOURNAL_WRITE=before:N` makes the binary kill
/// itself before its N-th journal write.)
@Suite("kill -9 at every journal write, then resume: every step done exactly once")
struct CrashPointTests {
    /// How many journal writes a run makes when nothing stops it.
    func writes(_ w: Warren, _ args: [String]) throws -> Int {
        let r = try w.run(args + ["--yes"])
        #expect(r.code == 0, "\(r.output)")
        let session = try #require(w.sessions.last)
        return w.journal(session).count
    }

    /// Runs `args` killed before write `n`, then resumes until done (or runs again when the kill
    /// came before anything was journaled). Returns the outputs, for failure messages.
    func crashAndFinish(_ w: Warren, _ args: [String], at n: Int, answers: String? = nil) throws -> String {
        var log = ""
        var extra = ["--yes"]
        if let answers {
            let file = w.state + "/answers-\(n).txt"
            try answers.write(toFile: file, atomically: true, encoding: .utf8)
            extra += ["--answers", file]
        }
        let first = try w.run(args + extra, environment: ["WARREN_TEST_CRASH_AT_JOURNAL_WRITE": "before:\(n)"])
        log += "run (killed before write \(n)): exit \(first.code)\n\(first.output.suffix(600))\n"
        if first.code == 0 { return log }  // this run made fewer writes than the probe: nothing to resume
        #expect(first.code == SIGKILL, "killed by SIGKILL, as the test asked: \(first.output)")
        for attempt in 1...3 {
            let r = try w.run(["resume"] + extra)
            log += "resume \(attempt): exit \(r.code)\n\(r.output.suffix(800))\n"
            if r.output.contains("No unfinished session") {
                let again = try w.run(args + extra)
                log += "run again: exit \(again.code)\n"
                #expect(again.code == 0, "\(log)")
                return log
            }
            if r.code == 0 { return log }
        }
        Issue.record("did not complete after 3 resumes:\n\(log)")
        return log
    }

    /// Lines of the simulator's event log about node `n` matching `what`.
    func events(_ state: [String: Any], node: String, _ what: String) -> Int {
        (state["log"] as? [String] ?? []).filter { line in
            let parts = line.split(separator: " ", maxSplits: 2)
            return parts.count == 3 && parts[1] == node && parts[2].hasPrefix(what)
        }.count
    }

    /// Every node of the state runs its app, is not drained, and the views agree.
    func expectAllRunning(_ state: [String: Any], _ nodes: [String], _ log: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let list = state["nodes"] as? [[String: Any]] ?? []
        for (i, name) in nodes.enumerated() where i < list.count {
            let n = list[i]
            #expect(n["vm"] as? Bool == true && n["app"] as? String == "running", "\(name) is not running\n\(log)", sourceLocation: sourceLocation)
            #expect(n["maintenance"] as? Bool != true, "\(name) is still drained\n\(log)", sourceLocation: sourceLocation)
        }
    }

    @Test("rolling-restart: each node stopped exactly once, running and not drained")
    func rollingRestart() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let total = try writes(w, ["run", "rolling-restart", "--sim-state", w.state + "/probe.sim"])
        #expect(total > 20)
        for n in 1...total {
            let sim = w.state + "/c\(n).sim"
            let log = try crashAndFinish(w, ["run", "rolling-restart", "--sim-state", sim], at: n)
            let state = try w.simState(sim)
            for node in ["n1", "n2", "n3"] {
                #expect(events(state, node: node, "stopped") == 1, "write \(n): \(node) stopped \(events(state, node: node, "stopped")) times\n\(log)")
            }
            expectAllRunning(state, ["n1", "n2", "n3"], "write \(n)\n\(log)")
        }
    }

    @Test("full-shutdown then full-startup: each node stopped once and started once, all running at the end")
    func fullShutdownStartup() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let unsafe = "stop-n2#unsafe: yes\nstop-n1#unsafe: yes\n"
        let answers = w.state + "/unsafe.txt"
        try unsafe.write(toFile: answers, atomically: true, encoding: .utf8)
        let probe = w.state + "/probe.sim"
        let shutdownWrites = try writes(w, ["run", "full-shutdown", "--sim-state", probe, "--answers", answers])
        let startupWrites = try writes(w, ["run", "full-startup", "--sim-state", probe])
        for n in 1...shutdownWrites {
            let sim = w.state + "/s\(n).sim"
            var log = try crashAndFinish(w, ["run", "full-shutdown", "--sim-state", sim], at: n, answers: unsafe)
            let r = try w.run(["run", "full-startup", "--sim-state", sim, "--yes"])
            log += "full-startup: exit \(r.code)\n\(r.output.suffix(600))"
            #expect(r.code == 0, "shutdown killed at write \(n)\n\(log)")
            let state = try w.simState(sim)
            for node in ["n1", "n2", "n3"] {
                #expect(events(state, node: node, "stopped") == 1, "write \(n): \(node) stopped \(events(state, node: node, "stopped")) times\n\(log)")
            }
            expectAllRunning(state, ["n1", "n2", "n3"], "shutdown write \(n)\n\(log)")
        }
        for n in 1...startupWrites {
            let sim = w.state + "/u\(n).sim"
            let down = try w.run(["run", "full-shutdown", "--sim-state", sim, "--yes", "--answers", answers])
            #expect(down.code == 0, "\(down.output)")
            let log = try crashAndFinish(w, ["run", "full-startup", "--sim-state", sim], at: n)
            let state = try w.simState(sim)
            for node in ["n1", "n2", "n3"] {
                #expect(events(state, node: node, "vm up") == 1, "startup write \(n): \(node) started \(events(state, node: node, "vm up")) times\n\(log)")
            }
            expectAllRunning(state, ["n1", "n2", "n3"], "startup write \(n)\n\(log)")
        }
    }

    @Test("replace-node: the new node joins once, the old one is forgotten once, the rest keep running")
    func replaceNode() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let args = ["--spares", "1", "--param", "old=n3", "--param", "new=n4"]
        let total = try writes(w, ["run", "replace-node", "--sim-state", w.state + "/probe.sim"] + args)
        for n in 1...total {
            let sim = w.state + "/r\(n).sim"
            let log = try crashAndFinish(w, ["run", "replace-node", "--sim-state", sim] + args, at: n)
            let state = try w.simState(sim)
            #expect(events(state, node: "n4", "Clustering node") == 1, "write \(n): n4 joined \(events(state, node: "n4", "Clustering node")) times\n\(log)")
            let forgets = (state["log"] as? [String] ?? []).filter { $0.contains(" forgot n3") }.count
            #expect(forgets == 1, "write \(n): n3 forgotten \(forgets) times\n\(log)")
            expectAllRunning(state, ["n1", "n2"], "write \(n)\n\(log)")
            let n4 = (state["nodes"] as? [[String: Any]] ?? [])[3]
            #expect(n4["app"] as? String == "running", "write \(n): n4 is not running\n\(log)")
        }
    }
}
