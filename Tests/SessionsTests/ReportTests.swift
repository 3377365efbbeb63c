import Cluster
import Foundation
import Runbook
import Testing
@testable import Sessions

@Suite("report.md")
struct ReportTests {
    @Test("the report names the runbook, target, parameters, steps, primitives, answers, notes and outcome")
    func handcraftedJournal() {
        let text = ReportWriter.render(entries: doneJournal(), sessionID: "20261124-203015-ab12")
        #expect(text.contains("# rolling-restart on sim:3"))
        #expect(text.contains("- Session: 20261124-203015-ab12"))
        #expect(text.contains("runbooks/rolling-restart.lua, sha256 0123456789ab)"))
        #expect(text.contains("- Target: sim:3, cluster rabbit@n1"))
        #expect(text.contains("- Parameters: nodes=all"))
        #expect(text.contains("- Started: 2026-11-18 11:06:40 UTC\n- Ended: 2026-11-18 11:07:01 UTC (21.0 s)"))
        #expect(text.contains("- Outcome: done\n"))
        #expect(text.contains("### 1. restart rabbit@n1 (restart-n1): done"))
        #expect(text.contains("took 9.00 s (target clock: 5m 0s)"))
        #expect(text.contains("### 2. restart rabbit@n2 (restart-n2): done"))
        #expect(text.contains("`drain` rabbit@n1 -> ok (1.00 s)"))
        #expect(text.contains("`await_running` rabbit@n1 (timeout=300) -> ok (2.00 s)"))
        #expect(text.contains("`stop` rabbit@n2 -> failed: timed out after 30 s (1.00 s)"))
        #expect(text.contains("asked: \"Stop rabbit@n1? Its clients will reconnect.\" -> answered yes"))
        #expect(text.contains("## Questions and answers"))
        #expect(text.contains("- first_restarted = rabbit@n1"))
        // Each primitive appears once, with its result, in the order called.
        let drain = text.range(of: "`drain`")!.lowerBound
        let awaitRunning = text.range(of: "`await_running`")!.lowerBound
        #expect(drain < awaitRunning)
        #expect(text.components(separatedBy: "`stop` rabbit@n2").count == 3)
    }

    @Test("an interrupted session says where it stopped and how to resume")
    func interrupted() {
        var entries = Array(doneJournal().prefix(10))
        entries.append(entry(kind: .stepStart, time: 1_795_000_011, step: "restart-n2", title: "restart rabbit@n2"))
        entries.append(entry(kind: .confirmAsked, time: 1_795_000_012, step: "restart-n2", message: "Stop rabbit@n2?"))
        entries.append(entry(kind: .confirmAnswered, time: 1_795_000_013, step: "restart-n2", outcome: "no"))
        entries.append(entry(kind: .interrupted, time: 1_795_000_013, step: "restart-n2", message: "confirmation refused"))
        entries.append(entry(kind: .sessionEnd, time: 1_795_000_013, outcome: "interrupted"))
        let text = ReportWriter.render(entries: entries, sessionID: "X1")
        #expect(text.contains("- Outcome: interrupted in step \"restart-n2\": confirmation refused; resumable with `warren resume X1`"))
        #expect(text.contains("### 2. restart rabbit@n2 (restart-n2): interrupted"))
        #expect(text.contains("answered no"))
    }

    @Test("a crash mid-step and mid-primitive is reported as such")
    func crashed() {
        let entries = Array(doneJournal().prefix(12))  // stop called on n2, no result
        let text = ReportWriter.render(entries: entries)
        #expect(text.contains("- Outcome: no end recorded: crashed (or still running) during step \"restart-n2\""))
        #expect(text.contains("`stop` rabbit@n2 -> no result recorded"))
        #expect(text.contains("in progress when the journal ends"))
    }

    @Test("the final cluster state and invariants appear as tables and results")
    func clusterAndInvariants() {
        let nodes = [
            NodeInfo(name: "rabbit@n1", state: .running, replicas: 3, leaders: 1),
            NodeInfo(name: "rabbit@n2", state: .stopped, underMaintenance: true, alarms: ["disk"]),
        ]
        let status = ClusterStatus(clusterName: "rabbit@n1", members: ["rabbit@n1", "rabbit@n2"], running: ["rabbit@n1"], nodes: nodes)
        let queues = [
            QueueInfo(name: "orders", type: .quorum, leader: "rabbit@n1", members: ["rabbit@n1", "rabbit@n2", "rabbit@n3"],
                      online: ["rabbit@n1"], messages: 42, available: false),
        ]
        let inv = InvariantReport(majorityLosses: [.init(queue: "orders", seconds: 12)], lostMessages: ["orders": 0],
                                  converged: false, convergenceProblems: ["rabbit@n2 is stopped"])
        let text = ReportWriter.render(entries: doneJournal(), finalStatus: status, queues: queues, invariants: inv)
        #expect(text.contains("Cluster rabbit@n1: NOT healthy, 1/2 nodes running."))
        #expect(text.contains("| rabbit@n2 | stopped | yes     | 0        | 0       | disk   | -                |"))
        #expect(text.contains("| orders | quorum | rabbit@n1 | 1/3    | 42       | NO        |"))
        #expect(text.contains("- Quorum: FAIL, majority lost: orders for 12.0 s."))
        #expect(text.contains("- Messages: pass"))
        #expect(text.contains("- Convergence: FAIL:\n  - rabbit@n2 is stopped"))
    }

    @Test("on a real cluster (no simulator) the invariants are what the end state and the canary show")
    func observedInvariants() {
        let nodes = [NodeInfo(name: "rabbit@n1", state: .running), NodeInfo(name: "rabbit@n2", state: .stopped)]
        let status = ClusterStatus(clusterName: "prod", members: ["rabbit@n1", "rabbit@n2"], running: ["rabbit@n1"], nodes: nodes)
        let queues = [QueueInfo(name: "orders", type: .quorum, leader: nil, members: ["rabbit@n1", "rabbit@n2"],
                                online: ["rabbit@n1"], messages: 0, available: false)]
        var entries = doneJournal()
        entries.append(entry(kind: .note, time: entries.last!.time, key: "canary",
                                    value: "canary: published 10, confirmed 10, consumed 10, lost 0, longest gap 0.5 s"))
        let text = ReportWriter.render(entries: entries, finalStatus: status, queues: queues)
        #expect(text.contains("## Invariants (observed on the cluster)"))
        #expect(text.contains("- Quorum at the end: FAIL, without a leader or majority: orders."))
        #expect(text.contains("- Messages: canary: published 10, confirmed 10, consumed 10, lost 0, longest gap 0.5 s."))
        #expect(text.contains("- Convergence at the end: FAIL: not running: rabbit@n2 (stopped); start it or wait for the boot."))
        let without = ReportWriter.render(entries: doneJournal(), finalStatus: status, queues: [])
        #expect(without.contains("- Messages: not measured (`--canary`"))
        #expect(without.contains("- Quorum at the end: pass"))
    }

    @Test("a secret in the journal or cluster state never reaches report.md")
    func reportRedacted() throws {
        let dir = makeTempDir()
        var entries = doneJournal()
        entries[8] = entry(kind: .note, time: entries[8].time, step: "restart-n1", key: "first_restarted", value: "cookie=ABCD-secret-1234")
        try ReportWriter.write(to: dir + "/report.md", entries: entries, sessionID: "x",
                               redactor: Redactor(secrets: ["ABCD-secret-1234"]))
        let text = try String(contentsOfFile: dir + "/report.md", encoding: .utf8)
        #expect(text.contains("first_restarted = cookie=***"))
        #expect(!text.contains("ABCD-secret-1234"))
    }
}
