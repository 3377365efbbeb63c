import Cluster
import Foundation
import WarrenTestSupport
@testable import RabbitMQ
import Testing

/// The shipped runbooks, run through the built `warren` binary against the real devcluster; after
/// each, `rabbitmqctl` (not warren's backend) checks that the cluster converged.
extension RealClusterTests {
    /// `warren ARGS` with its own state directory; returns the exit code, output and state dir.
    func warren(_ args: [String], answers: String? = nil) throws -> (code: Int32, output: String, state: String) {
        let state = TestDirectory.make("warren-real", file: true)
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        var args = args
        if let answers {
            try answers.write(toFile: state + "/answers.txt", atomically: true, encoding: .utf8)
            args += ["--answers", state + "/answers.txt"]
        }
        let r = DevClusterFixture.run(DevClusterFixture.warrenBinary, args,
                                      env: ["WARREN_STATE": state, "WARREN_RUNBOOKS": DevClusterFixture.packageRoot + "/runbooks"],
                                      timeout: 900)
        return (r.code, r.output, state)
    }

    /// The primitive calls a session journaled, as "name node".
    func primitives(_ state: String) -> [String] {
        let sessions = (try? FileManager.default.contentsOfDirectory(atPath: state + "/sessions")) ?? []
        return sessions.sorted().flatMap { s -> [String] in
            let text = (try? String(contentsOfFile: "\(state)/sessions/\(s)/journal.jsonl", encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap { line in
                guard let e = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      e["kind"] as? String == "primitive", e["phase"] as? String == "result",
                      let p = e["primitive"] as? String, !p.hasPrefix("gate.") else { return nil }
                return "\(p) \(e["node"] as? String ?? "")"
            }
        }
    }

    func short(_ node: String) -> String { String(node.split(separator: "@")[0]) }

    /// Starts the spare node's VM as an operator would before adding it (unless it is up already,
    /// e.g. left with its app stopped by an earlier remove-node), and waits until it answers.
    func startSpare(_ spare: String) throws {
        let up = { f.ctl(spare, ["ping"], tool: "rabbitmq-diagnostics").code == 0 }
        if !up() {
            // A new machine: an earlier test may have left the spare forgotten but not reset, and
            // such a node fails to boot (inconsistent_cluster). Its data directory goes first.
            let mnesia = f.nodeDirectory(spare) + "/mnesia"
            try? FileManager.default.removeItem(atPath: mnesia)
            try FileManager.default.createDirectory(atPath: mnesia, withIntermediateDirectories: true)
            f.service(spare, "start")
        }
        let problem = f.waitUntil(timeout: 120) { up() ? nil : "\(spare) does not answer ping" }
        try #require(problem == nil, "\(problem ?? "")")
    }

    @Test("rolling-restart on the real cluster restarts each node once, converges, and its canary loses nothing")
    func rollingRestartRunbook() throws {
        expectConverged()
        let r = try warren(["run", "rolling-restart", "--inventory", f.inventoryPath, "--yes", "--canary"])
        #expect(r.code == 0, "\(r.output)")
        let canary = try #require(r.output.split(separator: "\n").first { $0.hasPrefix("canary: published") }, "\(r.output)")
        #expect(r.output.contains("canary traffic on quorum queue warren.canary through AMQP 0-9-1 with publisher confirms"), "\(r.output)")
        #expect(canary.contains(", lost 0,"), "\(canary)")
        #expect(!canary.contains("confirmed 0,"), "\(canary)")
        #expect(primitives(r.state).filter { $0.hasPrefix("stop ") }.sorted() == f.members.map { "stop \($0)" }.sorted())
        // Its verification compares the cluster at the start and the end: nothing unexpected.
        let session = try #require(try FileManager.default.contentsOfDirectory(atPath: r.state + "/sessions").first)
        let report = try String(contentsOfFile: "\(r.state)/sessions/\(session)/report.md", encoding: .utf8)
        #expect(report.contains("## Verification") && report.contains("no unexpected difference."), "\(report)")
        expectConverged()
    }

    @Test("full-shutdown then full-startup on the real cluster: the last stopped starts first, and it converges, with a standalone spare running throughout")
    func fullShutdownStartupRunbooks() throws {
        expectConverged()
        // A new node prepared for a later add-node runs on its own: with every member down it is
        // the only node that answers, and must not be taken for the cluster.
        let spare = try #require(f.spareNames.first)
        try startSpare(spare)
        defer { f.service(spare, "stop") }
        let unsafe = f.members.map { "stop-\(short($0))#unsafe: yes" }.joined(separator: "\n")
        let state = TestDirectory.make("warren-real", file: true)
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        try unsafe.write(toFile: state + "/answers.txt", atomically: true, encoding: .utf8)
        let env = ["WARREN_STATE": state, "WARREN_RUNBOOKS": DevClusterFixture.packageRoot + "/runbooks"]
        let down = DevClusterFixture.run(DevClusterFixture.warrenBinary,
                                         ["run", "full-shutdown", "--inventory", f.inventoryPath, "--yes", "--answers", state + "/answers.txt"],
                                         env: env, timeout: 600)
        #expect(down.code == 0, "\(down.output)")
        for n in f.members { #expect(f.ctl(n, ["ping"], tool: "rabbitmq-diagnostics").code != 0, "\(n) still answers") }
        // The same state directory: the recorded shutdown order is this cluster's memory.
        let up = DevClusterFixture.run(DevClusterFixture.warrenBinary, ["run", "full-startup", "--inventory", f.inventoryPath, "--yes"],
                                       env: env, timeout: 900)
        #expect(up.code == 0, "\(up.output)")
        let starts = primitives(state).filter { $0.hasPrefix("start ") }
        #expect(starts.first == "start \(n1)", "\(starts)")
        expectConverged()
    }

    @Test("add-node then remove-node on the real cluster: the spare joins with replicas, then leaves")
    func addRemoveRunbooks() throws {
        expectConverged()
        let spare = try #require(f.spareNames.first)
        try startSpare(spare)
        let add = try warren(["run", "add-node", "--inventory", f.inventoryPath, "--yes", "--param", "node=\(spare)"])
        #expect(add.code == 0, "\(add.output)")
        expectConverged(all.union([spare]))
        let remove = try warren(["run", "remove-node", "--inventory", f.inventoryPath, "--yes", "--param", "node=\(spare)"])
        #expect(remove.code == 0, "\(remove.output)")
        expectConverged()
    }

    @Test("replace-node on the real cluster grows onto the new node before forgetting the old one, and back after the spare fails")
    func replaceRunbook() throws {
        expectConverged()
        let spare = try #require(f.spareNames.first)
        try startSpare(spare)
        let r = try warren(["run", "replace-node", "--inventory", f.inventoryPath, "--yes", "--param", "old=\(n3)", "--param", "new=\(spare)"])
        #expect(r.code == 0, "\(r.output)")
        let p = primitives(r.state)
        let grow = p.firstIndex { $0.hasPrefix("grow ") }, forget = p.firstIndex { $0.hasPrefix("forget ") }
        #expect(grow != nil && forget != nil && grow! < forget!, "\(p)")
        expectConverged([n1, n2, spare])
        // And back, after the spare has gone down: n3 (only forgotten, its app stopped) replaces
        // the failed spare, which is forgotten without being reached.
        f.service(spare, "stop")
        let back = try warren(["run", "replace-node", "--inventory", f.inventoryPath, "--yes", "--param", "old=\(spare)", "--param", "new=\(n3)"])
        #expect(back.code == 0, "\(back.output)")
        #expect(back.output.contains("\(spare) is not running: it is replaced as a failed node"), "\(back.output)")
        #expect(!primitives(back.state).contains("stop_app \(spare)"))
        expectConverged()
    }

    @Test("a node that does not come back stops rolling-restart at its step, shows its log, and no other node is touched")
    func nodeDoesNotComeBack() throws {
        expectConverged()
        var inventory = f.inventory
        let i = try #require(inventory.nodes.firstIndex { $0.name == n2 })
        inventory.nodes[i].start = "echo 'simulated: the disk is gone' >&2; exit 3"
        let path = f.dir + "/broken-start.yaml"
        try inventory.yaml().write(toFile: path, atomically: true, encoding: .utf8)
        let r = try warren(["run", "rolling-restart", "--inventory", path, "--yes"])
        #expect(r.code == 1, "\(r.output)")
        #expect(r.output.contains("simulated: the disk is gone"), "\(r.output)")
        #expect(r.output.contains("last lines of"), "\(r.output)")
        let p = primitives(r.state)
        #expect(!p.contains("stop \(n3)") && !p.contains("drain \(n3)"), "\(p)")
        f.restore()
        expectConverged()
    }

    @Test("Ctrl-C (SIGINT) or SIGTERM while a start command hangs stops the run within seconds and ends the command; the session resumes to completion",
          arguments: ["INT", "TERM"])
    func interruptHangingStart(_ signal: String) throws {
        expectConverged()
        var inventory = f.inventory
        let i = try #require(inventory.nodes.firstIndex { $0.name == n1 })
        let marker = f.dir + "/hanging-start.pid"
        inventory.nodes[i].start = "echo $$ > '\(marker)'; exec sleep 600"
        let path = f.dir + "/hanging-start.yaml"
        try inventory.yaml().write(toFile: path, atomically: true, encoding: .utf8)
        let state = TestDirectory.make("warren-real", file: true)
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: marker)
        // The signal as a terminal (SIGINT) or a service manager (SIGTERM) sends it, once the start command runs (polled: its pid file).
        let script = """
            '\(DevClusterFixture.warrenBinary)' run rolling-restart --inventory '\(path)' --yes --param nodes=\(n1) > '\(state)/out.txt' 2>&1 &
            pid=$!
            while [ ! -s '\(marker)' ]; do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
            sent=$EPOCHREALTIME; kill -\(signal) $pid; wait $pid; code=$?
            echo "exit=$code after=$(awk "BEGIN { print $EPOCHREALTIME - $sent }")"
            """
        let r = DevClusterFixture.run("/bin/bash", ["-c", script],
                                      env: ["WARREN_STATE": state, "WARREN_RUNBOOKS": DevClusterFixture.packageRoot + "/runbooks"],
                                      timeout: 300)
        let output = (try? String(contentsOfFile: state + "/out.txt", encoding: .utf8)) ?? ""
        #expect(r.output.contains("exit=3"), "\(r.output)\n\(output)")
        let after = Double(r.output.components(separatedBy: "after=").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 999
        #expect(after < 15, "warren took \(after) s to stop after SIG\(signal) (the start command's time box is 120 s)")
        #expect(output.contains("interrupted"), "\(output)")
        let sleeper = Int32((try? String(contentsOfFile: marker, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
        #expect(sleeper > 0 && kill(sleeper, 0) != 0, "the start command \(sleeper) still runs")
        let sessions = try FileManager.default.contentsOfDirectory(atPath: state + "/sessions")
        let list = DevClusterFixture.run(DevClusterFixture.warrenBinary, ["sessions"], env: ["WARREN_STATE": state])
        #expect(sessions.count == 1 && list.output.range(of: "interrupted in restart-\\S+ +yes", options: .regularExpression) != nil, "\(list.output)\n\(output)")
        // The operator fixes the start command and resumes: n1 was stopped already, so it is only
        // started, and the run completes.
        try f.inventory.yaml().write(toFile: path, atomically: true, encoding: .utf8)
        let resumed = DevClusterFixture.run(DevClusterFixture.warrenBinary, ["resume", "--yes"],
                                            env: ["WARREN_STATE": state, "WARREN_RUNBOOKS": DevClusterFixture.packageRoot + "/runbooks"],
                                            timeout: 600)
        #expect(resumed.code == 0, "\(resumed.output)")
        #expect(primitives(state).filter { $0 == "stop \(n1)" }.count == 1, "\(primitives(state))")
        let show = DevClusterFixture.run(DevClusterFixture.warrenBinary, ["sessions", "show", sessions[0]], env: ["WARREN_STATE": state])
        #expect(show.code == 0 && show.output.contains("interrupted"), "\(show.output)")
        #expect(show.output.contains("## Invariants (observed on the cluster)") && show.output.contains("- Convergence at the end: pass"),
                "\(show.output)")
        // The journal, the recording and the report of a real session hold no cookie.
        let cookie = try String(contentsOfFile: f.dir + "/.erlang.cookie", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let files = FileManager.default.enumerator(atPath: state)?.allObjects as? [String] ?? []
        #expect(files.contains { $0.hasSuffix("session.cast") } && files.contains { $0.hasSuffix("journal.jsonl") })
        for file in files {
            let text = (try? String(contentsOfFile: state + "/" + file, encoding: .utf8)) ?? ""
            #expect(!text.contains(cookie), "\(file) holds the Erlang cookie")
        }
        f.restore()
        expectConverged()
    }
}
