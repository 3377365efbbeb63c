import Cluster
import Foundation
import Testing

/// A 3-node cluster, all running, with two quorum queues led from n1 and n2 and a classic queue.
private func snapshot(_ change: (inout ClusterStatus, inout [QueueInfo]) -> Void = { _, _ in }) -> ClusterSnapshot {
    let names = ["rabbit@n1", "rabbit@n2", "rabbit@n3"]
    let v = NodeVersions(rabbitmq: "3.10.8", erlang: "25.2.1")
    var status = ClusterStatus(clusterName: "prod", members: names, running: names,
                               nodes: names.map { NodeInfo(name: $0, state: .running, members: names, versions: v) })
    var queues = [
        QueueInfo(name: "orders", type: .quorum, leader: names[0], members: names, online: names, messages: 10, available: true),
        QueueInfo(name: "payments", type: .quorum, leader: names[1], members: names, online: names, messages: 5, available: true),
        QueueInfo(name: "reports", type: .classic, leader: names[0], members: [names[0]], online: [names[0]], messages: 8, available: true),
    ]
    change(&status, &queues)
    return ClusterSnapshot(depth: .verification, takenAt: 1_795_000_000, target: "prod", status: status, queues: queues)
}

@Suite("Comparing a cluster's start and end snapshots")
struct SnapshotComparisonTests {
    @Test("the same cluster at both ends: no finding, the overview says so")
    func quiet() {
        let c = SnapshotComparison(start: snapshot(), end: snapshot())
        #expect(c.findings.isEmpty)
        #expect(c.rows.map(\.what) == ["Members", "Queues", "Messages", "Leaders", "Versions", "Alarms", "Partitions"])
        #expect(c.rows[0].end == "3, 3 running" && c.rows[2].end == "23")
        #expect(c.rows[3].end == "rabbit@n1 1, rabbit@n2 1" && c.rows[4].end == "RabbitMQ 3.10.8, Erlang 25.2.1")
    }

    @Test("a queue gone and a queue with fewer messages are unexpected; a new queue and more messages are not")
    func queues() {
        let end = snapshot { _, q in
            q.removeAll { $0.name == "reports" }
            q[0].messages = 3
            q[1].messages = 50
            q.append(QueueInfo(name: "new", type: .quorum, leader: "rabbit@n3", members: ["rabbit@n3"], online: ["rabbit@n3"], messages: 0, available: true))
        }
        let c = SnapshotComparison(start: snapshot(), end: end)
        #expect(c.unexpected.map(\.text) == ["queue orders has fewer messages: 10 -> 3 (consumed, expired, or lost)",
                                             "queue reports (classic) is gone; it had 8 messages at the start"])
        #expect(c.findings.filter { !$0.unexpected }.map(\.text) == ["queue new (quorum) is new"])
    }

    @Test("a member lost is unexpected unless the run forgot or reset it")
    func memberLost() {
        let end = snapshot { s, _ in
            s.members.removeLast()
            s.running.removeLast()
        }
        #expect(SnapshotComparison(start: snapshot(), end: end).unexpected.map(\.text) == ["rabbit@n3 is no longer a member of the cluster"])
        let removed = SnapshotComparison(start: snapshot(), end: end, expected: ExpectedChanges(removed: ["rabbit@n3"]))
        #expect(removed.unexpected.isEmpty)
        #expect(removed.findings.map(\.text) == ["rabbit@n3 left the cluster (the run removed it)"])
    }

    @Test("a node stopped is unexpected unless the run stopped it last; its queues then too")
    func nodeStopped() {
        let end = snapshot { s, q in
            s.running = ["rabbit@n1", "rabbit@n2"]
            s.nodes[2].state = .stopped
            for i in 0..<2 { q[i].online = ["rabbit@n1", "rabbit@n2"] }
        }
        let c = SnapshotComparison(start: snapshot(), end: end)
        #expect(c.unexpected.map(\.text) == ["rabbit@n3 was running at the start and is stopped at the end",
                                             "queue orders has 2 of 3 members online at the end (offline: rabbit@n3)",
                                             "queue payments has 2 of 3 members online at the end (offline: rabbit@n3)"])
        let stopped = SnapshotComparison(start: snapshot(), end: end, expected: ExpectedChanges(leftStopped: ["rabbit@n3"]))
        #expect(stopped.unexpected.isEmpty)
    }

    @Test("every leader on one node is unexpected; a node left drained too")
    func leadersAndMaintenance() {
        let end = snapshot { s, q in
            q[1].leader = "rabbit@n1"
            s.maintenance = ["rabbit@n2"]
        }
        let c = SnapshotComparison(start: snapshot(), end: end)
        #expect(c.unexpected.map(\.text) == [
            "rabbit@n2 is still drained (under maintenance): `revive` it or restart it",
            "every quorum queue and stream leader is on rabbit@n1: `cluster.rebalance(\"quorum\")` spreads them",
        ])
        #expect(c.rows[3].end == "rabbit@n1 2")
    }

    @Test("a version change is unexpected unless the run upgraded the node; alarms and partitions always are")
    func versionsAlarmsPartitions() {
        let end = snapshot { s, _ in
            s.nodes[0].versions = NodeVersions(rabbitmq: "3.11.28", erlang: "25.2.1")
            s.alarms = ["rabbit@n2": ["memory"]]
            s.partitions = ["rabbit@n3": ["rabbit@n1"]]
        }
        let c = SnapshotComparison(start: snapshot(), end: end)
        #expect(c.unexpected.map(\.text) == ["rabbit@n1: RabbitMQ 3.10.8 -> 3.11.28, and the run did not upgrade it",
                                             "memory alarm on rabbit@n2", "rabbit@n3 is partitioned from rabbit@n1"])
        #expect(c.rows[4].end == "RabbitMQ 3.10.8, Erlang 25.2.1; RabbitMQ 3.11.28, Erlang 25.2.1")
        let upgraded = SnapshotComparison(start: snapshot(), end: end, expected: ExpectedChanges(upgraded: ["rabbit@n1"]))
        #expect(upgraded.findings.first == .init(text: "rabbit@n1: RabbitMQ 3.10.8 -> 3.11.28 (the run upgraded it)", unexpected: false))
    }

    @Test("queues are told apart by virtual host; warren's own queues are left out")
    func vhostsAndOwnQueues() {
        let start = snapshot { _, q in
            q.append(QueueInfo(name: "orders", vhost: "eu", type: .quorum, leader: "rabbit@n3", members: ["rabbit@n3"], online: ["rabbit@n3"], messages: 4, available: true))
            q.append(QueueInfo(name: "warren.canary", type: .quorum, leader: "rabbit@n3", members: ["rabbit@n3"], online: ["rabbit@n3"], messages: 9, available: true))
        }
        let end = snapshot { _, q in
            q.append(QueueInfo(name: "warren.canary", type: .quorum, leader: "rabbit@n3", members: ["rabbit@n3"], online: ["rabbit@n3"], messages: 0, available: true))
        }
        let c = SnapshotComparison(start: start, end: end, expected: ExpectedChanges(ownQueues: ["warren.canary"]))
        #expect(c.unexpected.map(\.text) == ["queue eu/orders (quorum) is gone; it had 4 messages at the start"])
    }

    @Test("a snapshot file from a newer warren is refused naming both versions")
    func newerSnapshotFile() throws {
        let path = NSTemporaryDirectory() + "warren-snapshot-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(#"{"format": 99, "warren": "9.0.0"}"#.utf8).write(to: URL(fileURLWithPath: path))
        #expect { try ClusterSnapshot.read(path) } throws: { error in
            "\(error)".contains("written by warren 9.0.0 (snapshot format 99); this warren \(WarrenVersion.current) reads snapshot formats up to 1")
        }
        try snapshot().encoded().write(to: URL(fileURLWithPath: path))
        #expect(try ClusterSnapshot.read(path) == snapshot())
    }
}
