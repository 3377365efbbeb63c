import Foundation
import Testing

/// `warren --version`, `status`, `nodes`, `queues`, `snapshot`, and the `--format json` of
/// `sessions` and `preflight`, through the built binary.
@Suite("warren snapshot and the cluster views, end to end")
struct SnapshotAndViewTests {
    func json(_ output: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any], "\(output)")
    }

    @Test("--version prints warren's version")
    func version() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let r = try w.run(["--version"])
        #expect(r.code == 0)
        #expect(r.output.range(of: #"^warren \d+\.\d+\.\d+\n$"#, options: .regularExpression) != nil, "\(r.output)")
    }

    @Test("status, nodes and queues print the shell's views, and with --format json the keys their help documents")
    func views() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let status = try w.run(["status", "--sim", "3"])
        #expect(status.code == 0 && status.output.contains("cluster sim: 3/3 members running, healthy"), "\(status.output)")
        let nodes = try w.run(["nodes"])
        #expect(nodes.output.contains("NODE       VM  APP      MAINT") && nodes.output.contains("rabbit@n3"), "\(nodes.output)")
        let queues = try w.run(["queues", "quorum"])
        #expect(queues.output.contains("orders") && !queues.output.contains("reports"), "\(queues.output)")

        let s = try json(try w.run(["status", "--format", "json"]).output)
        #expect(Set(s.keys) == ["cluster", "target", "healthy", "members", "running", "not_running", "maintenance", "partitions",
                                "alarms", "queues", "messages"])
        #expect(s["healthy"] as? Bool == true && s["messages"] as? Int == 363 && s["target"] as? String == "sim:3")
        #expect(Set((s["queues"] as? [String: Any] ?? [:]).keys) == ["total", "replicated", "unavailable"])

        let n = try json(try w.run(["nodes", "--format", "json"]).output)
        #expect(Set(n.keys) == ["cluster", "target", "nodes"])
        let node = try #require((n["nodes"] as? [[String: Any]])?.first)
        #expect(Set(node.keys) == ["name", "state", "member", "maintenance", "replicas", "leaders", "alarms", "partitioned_from",
                                   "rabbitmq", "erlang"])
        #expect(node["state"] as? String == "running" && node["rabbitmq"] as? String == "3.10.8")

        let q = try json(try w.run(["queues", "--format", "json"]).output)
        let list = try #require(q["queues"] as? [[String: Any]])
        #expect(list.compactMap { $0["name"] as? String } == ["audit", "invoices", "orders", "payments", "reports"])
        #expect(list.allSatisfy { Set($0.keys) == ["name", "vhost", "type", "durable", "leader", "members", "online", "messages", "available"] })

        let bad = try w.run(["queues", "lazy"])
        #expect(bad.code == 2 && bad.output.contains("lazy"), "\(bad.output)")
        let help = try w.run(["queues", "--help"])
        #expect(help.output.contains("--format json prints one object: cluster, target, queues [{name, vhost, type"))
    }

    @Test("a snapshot of a simulated cluster rehearses a rolling restart that ends with the same queues")
    func snapshotThenRehearse() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let file = w.state + "/copy.json"
        let snap = try w.run(["snapshot", "--sim", "3", "--seed", "4", "-o", file])
        #expect(snap.code == 0, "\(snap.output)")
        #expect(snap.output.contains("Snapshot of cluster sim (sim:3), read-only"))
        #expect(snap.output.contains("5 queues (1 classic, 3 quorum, 1 stream), 363 messages"))
        #expect(snap.output.contains("Rehearse on it: warren run RUNBOOK --sim-state \(file)"))
        let before = try json(try w.run(["queues", "--sim-state", file, "--format", "json"]).output)
        let run = try w.run(["run", "rolling-restart", "--sim-state", file, "--yes"])
        #expect(run.code == 0, "\(run.output)")
        let after = try json(try w.run(["queues", "--sim-state", file, "--format", "json"]).output)
        func shape(_ doc: [String: Any]) -> [String] {
            (doc["queues"] as? [[String: Any]] ?? []).map { "\($0["name"]!) \($0["type"]!) \($0["messages"]!) \(($0["members"] as? [String])?.sorted() ?? [])" }
        }
        #expect(shape(after) == shape(before) && shape(before).count == 5)
        let session = try #require(w.sessions.last)
        let report = try String(contentsOfFile: w.state + "/sessions/\(session)/report.md", encoding: .utf8)
        #expect(report.contains("## Verification") && report.contains("no unexpected difference."))
    }

    @Test("a snapshot of a cluster that does not answer fails clearly and writes no file")
    func unansweringCluster() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let inventory = w.state + "/gone.yaml"
        try """
            cluster: gone
            nodes:
              - name: wt14gone1@localhost
                management: http://127.0.0.1:1
                start: "true"
                stop: "true"
            """.write(toFile: inventory, atomically: true, encoding: .utf8)
        let file = w.state + "/copy.json"
        let r = try w.run(["snapshot", "--inventory", inventory, "-o", file], timeout: 120)
        #expect(r.code == 1, "\(r.output)")
        #expect(r.output.contains("warren: cannot snapshot gone: ") && r.output.contains("No file was written"), "\(r.output)")
        #expect(!FileManager.default.fileExists(atPath: file))
    }

    @Test("bad input: a state file from a newer warren exits 2 naming both versions; a missing directory or state file exits 2")
    func badInput() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let newer = w.state + "/newer.json"
        try #"{"format": 99, "warren": "9.1.0", "clusterName": "sim"}"#.write(toFile: newer, atomically: true, encoding: .utf8)
        for args in [["run", "rolling-restart", "--sim-state", newer, "--yes"], ["snapshot", "--sim-state", newer, "-o", w.state + "/x.json"],
                     ["status", "--sim-state", newer]] {
            let r = try w.run(args)
            #expect(r.code == 2, "\(args): \(r.output)")
            #expect(r.output.contains("\(newer): cannot restore the simulated cluster: it was written by warren 9.1.0 (state format 99); this warren ")
                    && r.output.contains("reads state formats up to 3"), "\(r.output)")
        }
        #expect(!FileManager.default.fileExists(atPath: w.state + "/x.json"))
        let noDir = try w.run(["snapshot", "-o", w.state + "/missing/copy.json"])
        #expect(noDir.code == 2 && noDir.output.contains("its directory \(w.state)/missing does not exist"), "\(noDir.output)")
        let noState = try w.run(["snapshot", "--sim-state", w.state + "/none.json", "-o", w.state + "/copy.json"])
        #expect(noState.code == 2 && noState.output.contains("no simulated cluster is kept there"), "\(noState.output)")
        #expect(!FileManager.default.fileExists(atPath: w.state + "/none.json"))
        let noOutput = try w.run(["snapshot"])
        #expect(noOutput.code == 2 && noOutput.output.contains("Missing expected argument '--output <FILE>'"), "\(noOutput.output)")
    }

    @Test("sessions and preflight print the keys their help documents with --format json")
    func sessionsAndPreflightJSON() throws {
        let w = try Warren(); defer { w.cleanUp() }
        #expect(try w.run(["run", "rolling-restart", "--yes"]).code == 0)
        let s = try json(try w.run(["sessions", "--format", "json"]).output)
        let session = try #require((s["sessions"] as? [[String: Any]])?.first)
        #expect(Set(session.keys) == ["id", "runbook", "target", "started", "outcome", "stopped_at", "resumable", "problem"])
        #expect(session["outcome"] as? String == "done" && session["stopped_at"] is NSNull)
        #expect((session["started"] as? String)?.hasSuffix("Z") == true)
        let p = try w.run(["preflight", "--format", "json"])
        #expect(p.code == 0)
        let doc = try json(p.output)
        #expect(Set(doc.keys) == ["cluster", "passed", "checks"] && doc["passed"] as? Bool == true)
        #expect((doc["checks"] as? [[String: Any]])?.allSatisfy { Set($0.keys) == ["name", "outcome", "detail"] } == true)
    }
}
