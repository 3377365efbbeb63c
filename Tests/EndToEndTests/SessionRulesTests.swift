import Foundation
import WarrenTestSupport
import Testing

/// What a session promises an operator, through the shipped binary: a torn journal is repaired,
/// shell sessions are never resumed, resume refuses another cluster or a changed module, a live
/// lock holder is not broken, signals act as Ctrl-C, and exit codes mean what they say.
@Suite("Sessions: repair, identity, locks, signals and exit codes")
struct SessionRulesTests {
    /// A rolling restart stopped by a refused confirmation at restart-n2; returns the session id.
    func stoppedRun(_ w: Warren, sim: String) throws -> String {
        let answers = w.state + "/refuse.txt"
        try "restart-n2: no\n".write(toFile: answers, atomically: true, encoding: .utf8)
        let r = try w.run(["run", "rolling-restart", "--sim-state", sim, "--yes", "--answers", answers])
        #expect(r.code == 1, "\(r.output)")
        return try #require(w.sessions.last)
    }

    @Test("a journal whose last line is torn is cut before resume appends; the copy is kept and the session stays readable")
    func tornLastLine() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let sim = w.state + "/cluster.sim"
        let session = try stoppedRun(w, sim: sim)
        let path = w.state + "/sessions/\(session)/journal.jsonl"
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        try whole.prefix(whole.count - 40).write(to: URL(fileURLWithPath: path))  // head -c -40
        let r = try w.run(["resume", "--yes"])
        #expect(r.code == 0, "\(r.output)")
        #expect(r.output.contains("last line was torn"), "\(r.output)")
        let list = try w.run(["sessions"])
        #expect(!list.output.contains("unreadable") && list.output.contains("done"), "\(list.output)")
        let files = try FileManager.default.contentsOfDirectory(atPath: w.state + "/sessions/\(session)")
        #expect(files.contains { $0.hasPrefix("journal.jsonl.torn-") }, "\(files)")
    }

    @Test("an open shell is listed as open, never as resumable, and resume does not pick it")
    func shellNotResumed() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let shell = try w.terminal(["shell"])
        try shell.expect("]> ")
        let list = try w.run(["sessions"])
        #expect(list.output.contains("shell") && list.output.contains("open"), "\(list.output)")
        #expect(!list.output.contains("`warren resume` continues"), "\(list.output)")
        let r = try w.run(["resume", "--yes"])
        #expect(r.code == 0 && r.output.contains("No unfinished session"), "\(r.output)")
        let id = try #require(w.sessions.first)
        let named = try w.run(["resume", id, "--yes"])
        #expect(named.code == 2 && named.output.contains("shell session"), "\(named.output)")
        shell.sendControl("d")
        #expect(try shell.waitForExit() == 0)
        let after = try w.run(["sessions"])
        #expect(after.output.contains("closed"), "\(after.output)")
    }

    @Test("resume refuses a different simulated cluster: each one has its own id")
    func otherSimulatedCluster() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let sim = w.state + "/cluster.sim"
        _ = try stoppedRun(w, sim: sim)
        try FileManager.default.removeItem(atPath: sim)
        _ = try w.run(["shell", "--sim", "5", "--sim-state", sim], input: "")
        let r = try w.run(["resume", "--yes"])
        #expect(r.code == 2, "\(r.output)")
        #expect(r.output.contains("a different cluster") && r.output.contains("Nothing was done"), "\(r.output)")
    }

    @Test("resume refuses a runbook whose required module changed, naming it; --force goes on")
    func moduleChanged() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let books = w.state + "/runbooks"
        try FileManager.default.createDirectory(atPath: books + "/lib", withIntermediateDirectories: true)
        for f in ["rolling-restart.lua", "lib/common.lua"] {
            try FileManager.default.copyItem(atPath: w.packageRoot + "/runbooks/" + f, toPath: books + "/" + f)
        }
        let answers = w.state + "/refuse.txt"
        try "restart-n2: no\n".write(toFile: answers, atomically: true, encoding: .utf8)
        let first = try w.run(["run", books + "/rolling-restart.lua", "--yes", "--answers", answers])
        #expect(first.code == 1, "\(first.output)")
        let lib = books + "/lib/common.lua"
        try (try String(contentsOfFile: lib, encoding: .utf8) + "\n-- changed\n").write(toFile: lib, atomically: true, encoding: .utf8)
        let r = try w.run(["resume", "--yes"])
        #expect(r.code == 2 && r.output.contains("lib.common") && r.output.contains("--force"), "\(r.output)")
        let forced = try w.run(["resume", "--yes", "--force"])
        #expect(forced.code == 0, "\(forced.output)")
    }

    @Test("--break-lock refuses while the holder runs on this host, and says how to end it")
    func breakLockRefusedWhileAlive() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let sim = w.state + "/cluster.sim"
        let t = try w.terminal(["run", "rolling-restart", "--sim-state", sim])
        try t.expect("? Restart rabbit@n1?")
        let r = try w.run(["run", "rolling-restart", "--sim-state", sim, "--yes", "--break-lock"])
        #expect(r.code == 1, "\(r.output)")
        #expect(r.output.contains("refusing to break the lock") && r.output.contains("kill \(t.pid)"), "\(r.output)")
        t.sendControl("c")
        #expect(try t.waitForExit() == 3)
    }

    @Test("a run whose lock was taken from it stops before its next primitive, sending nothing")
    func lockTakenStopsTheRun() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let sim = w.state + "/cluster.sim"
        let t = try w.terminal(["run", "rolling-restart", "--sim-state", sim])
        try t.expect("? Restart rabbit@n1?")
        // Another host's run takes the cluster (as `--break-lock` there would).
        let locks = w.state + "/locks"
        let file = try #require(try FileManager.default.contentsOfDirectory(atPath: locks).first)
        let other = #"{"pid":4242,"host":"other-host","user":"ops","session":"20990101-000000-0000","since":1}"#
        try other.write(toFile: locks + "/" + file, atomically: true, encoding: .utf8)
        t.send("y\r")
        try t.expect("taken by another warren run")
        #expect(try t.waitForExit() == 1)
        let session = try #require(w.sessions.first)
        let calls = w.journal(session).filter { $0["phase"] as? String == "call" }
        #expect(calls.isEmpty, "\(calls)")
    }

    @Test("SIGTERM and SIGHUP stop a run as Ctrl-C does: journaled, exit 3, resumable", arguments: [SIGTERM, SIGHUP])
    func terminationSignals(_ signal: Int32) throws {
        let w = try Warren(); defer { w.cleanUp() }
        let sim = w.state + "/cluster.sim"
        let t = try w.terminal(["run", "rolling-restart", "--sim-state", sim])
        try t.expect("? Restart rabbit@n1?")
        t.kill(signal)
        #expect(try t.waitForExit() == 3)
        let session = try #require(w.sessions.first)
        let kinds = w.journal(session).compactMap { $0["kind"] as? String }
        #expect(kinds.contains("interrupted") && kinds.last == "session_end", "\(kinds)")
        let r = try w.run(["resume", "--yes"])
        #expect(r.code == 0, "\(r.output)")
    }

    @Test("a closed standard output does not end a run: `warren run ... | head -1` completes the run")
    func closedStdout() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let sim = w.state + "/cluster.sim"
        let script = "'\(w.executable)' run rolling-restart --sim-state '\(sim)' --yes | head -1; echo \"status=${PIPESTATUS[0]}\""
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-c", script]
        p.environment = ProcessInfo.processInfo.environment.merging(w.environment) { $1 }
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        p.waitUntilExit()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(text.contains("status=0"), "\(text)")
        let session = try #require(w.sessions.first)
        #expect(w.journal(session).last?["outcome"] as? String == "done")
    }

    @Test("Ctrl-C before the first step exits 3, and the session resumes")
    func interruptBeforeFirstStep() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let slow = w.state + "/slow.lua"
        try """
            runbook { name = "slow" }
            local deadline = os.clock() + 60
            while os.clock() < deadline do end   -- a long top level: reading a large cluster
            step("say", function() say("done") end)
            """.write(toFile: slow, atomically: true, encoding: .utf8)
        let t = try w.terminal(["run", slow, "--yes"])
        try t.expect("session ")
        t.sendControl("c")
        let code = try t.waitForExit()
        #expect(code == 3, "\(t.transcript)")
        let list = try w.run(["sessions"])
        #expect(list.output.contains("interrupted"), "\(list.output)")
    }

    @Test("a piped shell script stops at its first failing line and exits 1")
    func pipedScriptStops() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let r = try w.run(["shell"], input: "=1+1\nerror('boom')\n=\"never\"\n")
        #expect(r.code == 1, "\(r.output)")
        #expect(r.output.contains("boom") && !r.output.contains("never"), "\(r.output)")
        let ok = try w.run(["shell"], input: "=1+1\n")
        #expect(ok.code == 0 && ok.output.contains("2"), "\(ok.output)")
    }

    @Test("bad state files are clear errors naming the file, exit 2, nothing changed")
    func badStateFiles() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let sim = w.state + "/cluster.sim"
        _ = try stoppedRun(w, sim: sim)
        let session = try #require(w.sessions.first)
        // A corrupt simulated cluster.
        let saved = try Data(contentsOf: URL(fileURLWithPath: sim))
        try "{ not json".write(toFile: sim, atomically: true, encoding: .utf8)
        var r = try w.run(["resume", "--yes"])
        #expect(r.code == 2 && r.output.contains(sim), "\(r.output)")
        try saved.write(to: URL(fileURLWithPath: sim))
        // A lock file that does not parse.
        let locks = w.state + "/locks"
        try FileManager.default.createDirectory(atPath: locks, withIntermediateDirectories: true)
        let journalBefore = w.journal(session).count
        let state = try w.simState(sim)
        let lockFile = locks + "/sim-\(state["clusterID"] as? String ?? "").lock"
        try "garbage".write(toFile: lockFile, atomically: true, encoding: .utf8)
        r = try w.run(["resume", "--yes"])
        #expect(r.code == 2 && r.output.contains(lockFile) && r.output.contains("--break-lock"), "\(r.output)")
        #expect(w.journal(session).count == journalBefore)
        // A journal from a newer warren's simulated state format.
        var newer = state
        newer["format"] = 99
        try JSONSerialization.data(withJSONObject: newer).write(to: URL(fileURLWithPath: sim))
        try FileManager.default.removeItem(atPath: lockFile)
        r = try w.run(["resume", "--yes"])
        #expect(r.code == 2 && r.output.contains("newer warren"), "\(r.output)")
    }
}
