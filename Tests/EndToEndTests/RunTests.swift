import Foundation
import WarrenTestSupport
import Testing

/// `warren run` and `warren resume` through the built binary.
@Suite("Runs, crashes and resume, end to end")
struct RunTests {
    /// Step ids done in a session's journal, with multiplicity.
    func doneSteps(_ w: Warren, _ session: String) -> [String] {
        w.journal(session).filter { $0["kind"] as? String == "step_done" }.compactMap { $0["step"] as? String }
    }

    func converged(_ w: Warren, simState: String) throws -> Bool {
        let r = try w.run(["shell", "--sim-state", simState], input: "=fault.invariants().converged\n")
        return r.output.contains("true")
    }

    @Test("kill -9 while waiting at a confirmation, then resume: every step done exactly once, cluster converged")
    func killAtConfirmation() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let sim = w.state + "/cluster.sim"
        let t = try w.terminal(["run", "rolling-restart", "--sim-state", sim])
        try t.expect("? Restart rabbit@n1?")
        t.send("y\r")
        try t.expect("? Restart rabbit@n2?")
        t.kill(SIGKILL)
        _ = try t.waitForExit()
        let r = try w.run(["resume", "--yes", "--canary"])
        #expect(r.code == 0, "\(r.output)")
        #expect(r.output.contains("done in an earlier run"))
        #expect(r.output.contains("canary: published"), "the resumed run carries canary traffic: \(r.output)")
        let session = try #require(w.sessions.first)
        let done = doneSteps(w, session)
        #expect(done.sorted() == ["check-the-cluster-is-healthy-before-starting", "rebalance-quorum-queue-leaders",
                                  "restart-n1", "restart-n2", "restart-n3"], "\(done)")
        #expect(try converged(w, simState: sim))
    }

    @Test("kill -9 in the middle of a step, then resume: the step is re-run without repeating what it did")
    func killMidStep() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let runbook = w.state + "/two-phase.lua"
        try """
            runbook { name = "two-phase", summary = "stop, then (after a question) start, per node" }
            for _, n in ipairs(cluster.nodes()) do
              step("bounce " .. n.short, function()
                if not previously("stop", n) then
                  confirm("Stop " .. n.name .. "?")
                  n:drain()
                  n:stop()
                end
                confirm("Start " .. n.name .. " again?")
                n:start()
                n:await_running{ timeout = 120 }
                gate.cluster_healthy{ timeout = 120 }
              end)
            end
            """.write(toFile: runbook, atomically: true, encoding: .utf8)
        let sim = w.state + "/cluster.sim"
        let t = try w.terminal(["run", runbook, "--sim-state", sim])
        try t.expect("? Stop rabbit@n1?"); t.send("y\r")
        try t.expect("? Start rabbit@n1 again?"); t.send("y\r")
        try t.expect("? Stop rabbit@n2?"); t.send("y\r")
        try t.expect("? Start rabbit@n2 again?")  // n2 is stopped: killed mid-step
        t.kill(SIGKILL)
        _ = try t.waitForExit()
        let r = try w.run(["resume", "--yes"])
        #expect(r.code == 0, "\(r.output)")
        let session = try #require(w.sessions.first)
        let journal = w.journal(session)
        let stops = journal.filter { $0["primitive"] as? String == "stop" && $0["phase"] as? String == "result" }
        #expect(stops.compactMap { $0["node"] as? String }.sorted() == ["rabbit@n1", "rabbit@n2", "rabbit@n3"])
        #expect(doneSteps(w, session).sorted() == ["bounce-n1", "bounce-n2", "bounce-n3"])
        #expect(try converged(w, simState: sim))
    }

    @Test("a second concurrent run against the same cluster is refused with the holder's details")
    func concurrentRunRefused() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let sim = w.state + "/cluster.sim"
        let t = try w.terminal(["run", "rolling-restart", "--sim-state", sim])
        try t.expect("? Restart rabbit@n1?")
        let r = try w.run(["run", "rolling-restart", "--sim-state", sim, "--yes"])
        #expect(r.code == 1)
        #expect(r.output.contains("locked by another warren run: pid \(t.pid)"), "\(r.output)")
        #expect(r.output.contains("session ") && r.output.contains("since "))
        let list = try w.run(["sessions"])
        #expect(list.output.contains("running"), "\(list.output)")
        t.sendControl("c")
        #expect(try t.waitForExit() == 3)
        // The holder is gone: the lock is free again, and the interrupted run resumes.
        let resumed = try w.run(["resume", "--yes"])
        #expect(resumed.code == 0, "\(resumed.output)")
    }

    @Test("a dead holder's lock is taken over with a message; --break-lock is explicit")
    func staleLock() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let sim = w.state + "/cluster.sim"
        let t = try w.terminal(["run", "rolling-restart", "--sim-state", sim])
        try t.expect("? Restart rabbit@n1?")
        t.kill(SIGKILL)
        _ = try t.waitForExit()
        let r = try w.run(["run", "rebalance", "--sim-state", sim, "--yes"])
        #expect(r.code == 0, "\(r.output)")
        #expect(r.output.contains("is no longer running"))
    }

    @Test("without a terminal and without --yes or --answers, a run refuses before changing anything")
    func nonTerminalRefuses() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let r = try w.run(["run", "rolling-restart"])
        #expect(r.code == 2, "a run that needs answers it cannot get is a usage error")
        #expect(r.output.contains("stdin is not a terminal"))
        #expect(w.sessions.isEmpty)
    }

    @Test("bad input is a clear error with exit 2 and no session: unknown runbook, parameter, syntax error, answers")
    func badInput() throws {
        let w = try Warren(); defer { w.cleanUp() }
        var r = try w.run(["run", "rolling-restrat", "--yes"])
        #expect(r.code == 2 && r.output.contains("did you mean 'rolling-restart'"), "\(r.output)")
        r = try w.run(["run", "rolling-restart", "--param", "nodez=n1", "--yes"])
        #expect(r.code == 2 && r.output.contains("unknown parameter 'nodez'"), "\(r.output)")
        r = try w.run(["run", "add-node", "--yes"])
        #expect(r.code == 2 && r.output.contains("needs the parameter 'node'"), "\(r.output)")
        let broken = w.state + "/broken.lua"
        try "runbook { name = 'broken' }\nstep('x', function() end\n".write(toFile: broken, atomically: true, encoding: .utf8)
        r = try w.run(["run", broken, "--yes"])
        #expect(r.code == 2 && r.output.contains("broken.lua:"), "\(r.output)")
        let twice = w.state + "/twice.lua"
        try "runbook { name = 'twice' }\nstep('a', function() end)\nstep('a', function() end)\n".write(toFile: twice, atomically: true, encoding: .utf8)
        r = try w.run(["run", twice, "--yes"])
        #expect(r.code == 2 && r.output.contains("step id 'a' is used twice"), "\(r.output)")
        let answers = w.state + "/answers.txt"
        try "restart-n9: yes\n".write(toFile: answers, atomically: true, encoding: .utf8)
        r = try w.run(["run", "rolling-restart", "--answers", answers])
        #expect(r.code == 2 && r.output.contains("answers.txt:1: the answers file names the step 'restart-n9'"), "\(r.output)")
        #expect(w.sessions.isEmpty, "\(w.sessions)")
    }

    @Test("a completed run is recorded: sessions lists it, show prints the report, replay prints the output")
    func recorded() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let r = try w.run(["run", "rolling-restart", "--yes"])
        #expect(r.code == 0, "\(r.output)")
        let session = try #require(w.sessions.first)
        let list = try w.run(["sessions"])
        #expect(list.output.contains(session) && list.output.contains("rolling-restart") && list.output.contains("done"))
        let show = try w.run(["sessions", "show", session])
        #expect(show.code == 0 && show.output.contains("restart rabbit@n2"), "\(show.output)")
        let replay = try w.run(["replay", session, "--speed", "0"])
        #expect(replay.code == 0 && replay.output.contains("rolling-restart completed"), "\(replay.output)")
    }

    @Test("--canary on the simulator publishes and consumes for the whole run and reports no loss")
    func canary() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let r = try w.run(["run", "rolling-restart", "--yes", "--canary"])
        #expect(r.code == 0, "\(r.output)")
        let line = try #require(r.output.split(separator: "\n").first { $0.hasPrefix("canary: published") })
        #expect(line.contains(", lost 0,") && !line.contains("confirmed 0,"), "\(line)")
        let session = try #require(w.sessions.first)
        let report = try String(contentsOfFile: w.state + "/sessions/\(session)/report.md", encoding: .utf8)
        #expect(report.contains("canary: published"))
    }

    @Test("sessions show --html prints the path of the session's timeline, drawn again from the journal when it is gone; without a journal: exit 2")
    func timeline() throws {
        let w = try Warren(); defer { w.cleanUp() }
        #expect(try w.run(["run", "rolling-restart", "--yes", "--canary"]).code == 0)
        let session = try #require(w.sessions.first)
        let page = w.state + "/sessions/\(session)/report.html"
        let shown = try w.run(["sessions", "show", session, "--html"])
        #expect(shown.code == 0 && shown.output == page + "\n", "\(shown.output)")
        let html = try String(contentsOfFile: page, encoding: .utf8)
        #expect(html.contains("class=\"rate publish\"") && html.contains("data-node=\"rabbit@n3\""))

        try FileManager.default.removeItem(atPath: page)
        let again = try w.run(["sessions", "show", session, "--html"])
        #expect(again.code == 0 && again.output.contains("drawn now from the journal") && again.output.hasSuffix(page + "\n"), "\(again.output)")

        try FileManager.default.removeItem(atPath: page)
        try FileManager.default.removeItem(atPath: w.state + "/sessions/\(session)/journal.jsonl")
        let missing = try w.run(["sessions", "show", session, "--html"])
        #expect(missing.code == 2, "\(missing.output)")
        #expect(missing.output.contains("the session has no journal, which its timeline is drawn from"), "\(missing.output)")
    }

    @Test("--plan shows steps and primitives and changes nothing")
    func plan() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let sim = w.state + "/cluster.sim"
        try w.run(["run", "rebalance", "--sim-state", sim, "--yes"])
        let before = try Data(contentsOf: URL(fileURLWithPath: sim))
        let r = try w.run(["run", "rolling-restart", "--sim-state", sim, "--plan"])
        #expect(r.code == 0, "\(r.output)")
        #expect(r.output.contains("rabbit@n2 stop") && r.output.contains("nothing was changed"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: sim)) == before)
    }
}
