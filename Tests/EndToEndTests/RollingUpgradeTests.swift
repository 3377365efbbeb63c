import Foundation
import Testing

/// `warren run rolling-upgrade` on simulated releases, through the binary: the upgrades the
/// version table allows complete, the others are refused before any change, bad input exits 2,
/// kill -9 in the mixed-version window resumes to completion, the sweep finds no violation, and
/// Khepri's procedures are followed.
@Suite("rolling-upgrade end to end on simulated releases")
struct RollingUpgradeEndToEndTests {
    /// The releases of a simulated cluster's nodes, from its saved state.
    func releases(_ w: Warren, _ path: String) throws -> [String] {
        (try w.simState(path)["nodes"] as? [[String: Any]] ?? []).map { $0["rabbitmq"] as? String ?? "?" }
    }

    /// The saved state of the last session's cluster (a `--sim N` run keeps it in the session).
    func lastSessionState(_ w: Warren) throws -> String {
        let session = try #require(w.sessions.last)
        return w.state + "/sessions/\(session)/sim-state.json"
    }

    @Test("3.12.13 -> 3.13.7 and 3.13.7 -> 4.0.5 complete with every node on the new release", arguments: [("3.12.13", "3.13.7"), ("3.13.7", "4.0.5")])
    func completes(_ pair: (String, String)) throws {
        let w = try Warren(); defer { w.cleanUp() }
        let r = try w.run(["run", "rolling-upgrade", "--sim", "3", "--sim-version", pair.0, "--param", "to=\(pair.1)", "--yes"])
        #expect(r.code == 0, "\(r.output)")
        #expect(try releases(w, lastSessionState(w)) == [pair.1, pair.1, pair.1])
        #expect(r.output.contains("every node runs RabbitMQ \(pair.1), every stable feature flag is enabled"))
    }

    @Test("3.12.13 -> 4.0.5 is refused before any change, naming 3.13")
    func skipsASeries() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let sim = w.state + "/c.sim"
        let r = try w.run(["run", "rolling-upgrade", "--sim-state", sim, "--sim-version", "3.12.13", "--param", "to=4.0.5", "--yes"])
        #expect(r.code == 1, "\(r.output)")
        #expect(r.output.contains("Go through 3.13.x: 3.12.13 -> 3.13.7 -> 4.0.5") && r.output.contains("Nothing was changed"))
        #expect(try releases(w, sim) == ["3.12.13", "3.12.13", "3.12.13"])
        let changes = w.journal(try #require(w.sessions.last)).filter { $0["kind"] as? String == "primitive" && $0["call"] != nil }
        #expect(changes.isEmpty, "\(changes)")
    }

    @Test("bad input exits 2 with a clear message: a malformed or unknown release, a downgrade, an unknown --sim-version")
    func badInput() throws {
        let w = try Warren(); defer { w.cleanUp() }
        for (args, words) in [
            (["--sim-version", "3.13.7", "--param", "to=4.0"], "'4.0' is not a RabbitMQ version"),
            (["--sim-version", "3.13.7", "--param", "to=4.3.0"], "RabbitMQ 4.3.0 is not in warren's version table"),
            (["--sim-version", "3.13.7", "--param", "to=3.12.13"], "3.12.13 is older than 3.13.7"),
            (["--sim-version", "3.9.29", "--param", "to=3.10.8"], "RabbitMQ 3.9.29 is not in warren's version table"),
        ] {
            let r = try w.run(["run", "rolling-upgrade", "--sim", "3", "--yes"] + args)
            #expect(r.code == 2 && r.output.contains(words), "\(args): \(r.output)")
        }
        #expect(w.sessions.isEmpty, "a refused run leaves no session")
    }

    @Test("kill -9 at every journal write in the mixed-version window, then resume: every node on 4.0.5, each stopped and upgraded once")
    func killedInTheWindow() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let args = ["run", "rolling-upgrade", "--sim-version", "3.13.7", "--param", "to=4.0.5", "--yes"]
        let probe = try w.run(args + ["--sim-state", w.state + "/probe.sim"])
        #expect(probe.code == 0, "\(probe.output)")
        let entries = w.journal(try #require(w.sessions.last))
        // Writes from the first upgrade call to the window's close (1-based write numbers).
        let first = try #require(entries.firstIndex { $0["primitive"] as? String == "upgrade" }) + 1
        let last = try #require(entries.firstIndex { ($0["value"] as? String)?.hasPrefix("closed after") == true }) + 1
        #expect(last - first > 20)
        for n in first...last {
            let sim = w.state + "/k\(n).sim"
            var log = ""
            let killed = try w.run(args + ["--sim-state", sim], environment: ["WARREN_TEST_CRASH_AT_JOURNAL_WRITE": "before:\(n)"])
            log += "run killed before write \(n): exit \(killed.code)\n\(killed.output.suffix(400))\n"
            #expect(killed.code == SIGKILL, "\(log)")
            let session = try #require(w.sessions.last)
            let resumed = try w.run(["resume", session, "--yes"])
            log += "resume: exit \(resumed.code)\n\(resumed.output.suffix(600))"
            #expect(resumed.code == 0, "\(log)")
            #expect(try releases(w, sim) == Array(repeating: "4.0.5", count: 3), "write \(n)\n\(log)")
            let events = try w.simState(sim)["log"] as? [String] ?? []
            for node in ["n1", "n2", "n3"] {
                let stops = events.filter { $0.contains(" \(node) stopped") }.count
                let upgrades = events.filter { $0.contains(" \(node) upgraded: RabbitMQ 3.13.7 -> 4.0.5") }.count
                #expect(stops == 1 && upgrades == 1, "write \(n): \(node) stopped \(stops), upgraded \(upgrades) times\n\(log)")
            }
        }
    }

    @Test("sweep rolling-upgrade on 5 nodes of 3.13.7 to 4.0.5 reports no violation")
    func sweep() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let r = try w.run(["sweep", "rolling-upgrade", "--sim", "5", "--sim-version", "3.13.7", "--param", "to=4.0.5"], timeout: 600)
        #expect(r.code == 0, "\(r.output)")
        #expect(r.output.contains(" 0 VIOL"), "\(r.output)")
    }

    @Test("On Khepri (4.2.0) force_boot is refused with the reason, and full-startup starts every node instead of the last stopped first")
    func khepri() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let sim = w.state + "/k.sim"
        let answers = w.state + "/unsafe.txt"
        try "stop-n2#unsafe: yes\nstop-n1#unsafe: yes\n".write(toFile: answers, atomically: true, encoding: .utf8)
        let down = try w.run(["run", "full-shutdown", "--sim-state", sim, "--sim-version", "4.2.0", "--yes", "--answers", answers])
        #expect(down.code == 0, "\(down.output)")
        let shell = try w.run(["shell", "--sim-state", sim], input: "n1:force_boot()\n")
        #expect(shell.code == 1 && shell.output.contains("force_boot is not supported with Khepri") && shell.output.contains("majority"), "\(shell.output)")
        let up = try w.run(["run", "full-startup", "--sim-state", sim, "--yes"])
        #expect(up.code == 0, "\(up.output)")
        #expect(up.output.contains("start every node (Khepri: each finishes booting once 2 of 3 run)"))
        #expect(!up.output.contains("force_boot"))
    }
}
