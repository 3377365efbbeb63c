import Cluster
import Foundation
import Testing
@testable import Simulator

/// A full snapshot of a simulated cluster (what `warren snapshot --sim N` takes).
func fullSnapshot(_ sim: Simulator) throws -> ClusterSnapshot {
    try ClusterSnapshot.capture(sim, depth: .full, now: 1_795_000_000)
}

/// What the reads of a cluster show, for comparing a copy with its original.
struct View: Equatable {
    var status: ClusterStatus
    var queues: [QueueInfo]
    var flags: [FeatureFlag]
    var policies: [Policy]
    init(_ sim: Simulator) throws {
        status = try sim.status()
        queues = try sim.queues(type: nil).sorted { ($0.vhost, $0.name) < ($1.vhost, $1.name) }
        flags = try sim.featureFlags()
        policies = try sim.policies()
    }
}

@Suite("A simulated copy of a cluster's snapshot")
struct ClusterCopyTests {
    @Test("a copy of a simulated cluster reads the same: nodes, members, versions, queues, leaders, messages, flags")
    func copyReadsTheSame() throws {
        let sim = Simulator(nodes: 5, seed: 7)
        try sim.declareDemoSet()
        try sim.drain("n2")
        try sim.stop("n4")
        try sim.setAlarm("n3", "disk", raised: true)
        try sim.setVersions("n5", rabbitmq: "3.10.9", erlang: "25.2.1")
        sim.setFeatureFlag("stream_queue", enabled: false)
        sim.partitionHandling = .pauseMinority
        let copy = try Simulator.copy(of: try fullSnapshot(sim), seed: 3)
        var original = try View(sim), copied = try View(copy)
        // A stopped node reports no versions: the copy gives it the ones most nodes run.
        original.status.nodes[3].versions = nil
        copied.status.nodes[3].versions = nil
        #expect(copied == original)
        #expect(copy.partitionHandling == .pauseMinority)
        #expect(copy.clusterID != sim.clusterID, "a copy is a cluster of its own (its lock, its resume identity)")
        #expect(copy.copiedFrom?.cluster == "sim" && copy.copiedFrom?.target == "sim:5")
        #expect(copy.consistencyViolations().isEmpty)
        #expect(copy.eventLog.count == 1 && copy.eventLog[0].contains("copy of cluster sim (sim:5)"))
    }

    @Test("a real cluster's names, virtual hosts, policies and partition handling are kept; saved and restored")
    func realNames() throws {
        let names = ["rabbit@mq-a", "rabbit@mq-b", "rabbit@mq-c", "rabbit@mq-d"]
        let members = Array(names.prefix(3))
        let v = NodeVersions(rabbitmq: "3.10.8", erlang: "25.2.3")
        var nodes = names.map { NodeInfo(name: $0, state: .running, members: members, versions: v) }
        nodes[3].state = .stopped
        nodes[3].versions = nil
        let status = ClusterStatus(clusterName: "prod-eu", members: members, running: members, nodes: nodes)
        let queues = [
            QueueInfo(name: "orders", type: .quorum, leader: names[1], members: members, online: members, messages: 42, available: true),
            QueueInfo(name: "orders", vhost: "billing eu", type: .quorum, leader: names[2], members: members, online: members, messages: 7, available: true),
            QueueInfo(name: "legacy", type: .classic, leader: names[0], members: [names[0]], online: [names[0]], messages: 3, available: true),
        ]
        let snap = ClusterSnapshot(depth: .full, takenAt: 1_795_000_000, target: "prod-eu", status: status, queues: queues,
                                   featureFlags: ["quorum_queue": .enabled, "stream_queue": .disabled],
                                   policies: [Policy(vhost: "/", name: "ha", pattern: "^legacy", applyTo: "queues", keys: ["ha-mode"])],
                                   partitionHandling: ["rabbit@mq-a": "autoheal", "rabbit@mq-b": "autoheal", "rabbit@mq-c": "autoheal"])
        let copy = try Simulator.copy(of: snap)
        for sim in [copy, try Simulator.restore(try copy.snapshot())] {
            #expect(sim.nodeNames == names)
            #expect(try sim.resolve("mq-b") == "rabbit@mq-b")
            #expect(try sim.status().members == members && sim.targetDescription == "sim:3")
            #expect(try sim.nodes()[3].state == .stopped)
            let q = try sim.queues(type: nil).map { "\($0.vhost)|\($0.name)|\($0.leader ?? "-")|\($0.messages)" }.sorted()
            #expect(q == ["/|legacy|rabbit@mq-a|3", "/|orders|rabbit@mq-b|42", "billing eu|orders|rabbit@mq-c|7"])
            #expect(try sim.policies().map(\.name) == ["ha"])
            #expect(try sim.featureFlags().first { $0.name == "stream_queue" }?.state == .disabled)
            #expect(sim.partitionHandling == .autoheal)
            #expect(sim.copiedFrom?.notes == ["no versions reported by rabbit@mq-d (not running): copied as RabbitMQ 3.10.8, Erlang 25.2.3"])
        }
        // The primitives work on the names and the default virtual host's queue.
        try copy.publish(queue: "orders", count: 8)
        #expect(try copy.queues(type: nil).first { $0.vhost == "/" && $0.name == "orders" }?.messages == 50)
        try copy.stop("mq-b")
        #expect(try copy.queues(type: nil).allSatisfy(\.available))
    }

    @Test("partition handling: members that disagree, and pause_if_all_down, which is not simulated, are said in notes")
    func partitionHandlingNotes() throws {
        var notes: [String] = []
        #expect(Simulator.copiedPartitionHandling(["a": "ignore", "b": "pause_minority"], notes: &notes) == .ignore)
        #expect(notes == ["the members' partition handling differs (a: ignore, b: pause_minority): the copy uses a's"])
        notes = []
        #expect(Simulator.copiedPartitionHandling(["a": "pause_if_all_down"], notes: &notes) == .ignore)
        #expect(notes == ["partition handling pause_if_all_down is not simulated: copied as ignore"])
        notes = []
        #expect(Simulator.copiedPartitionHandling(["a": "pause_minority"], notes: &notes) == .pauseMinority && notes.isEmpty)
    }

    @Test("only a full snapshot can be copied")
    func verificationSnapshotRefused() throws {
        let snap = try ClusterSnapshot.capture(Simulator(), depth: .verification)
        #expect { try Simulator.copy(of: snap) } throws: { "\($0)".contains("take a full one") }
    }
}

@Suite("The simulator's state file across versions")
struct StateFormatTests {
    @Test("a format 2 state (no names, no virtual hosts) still restores, queue names with spaces included")
    func readsFormatTwo() throws {
        let sim = Simulator()
        try sim.declareQueue(QueueSpec(name: "my queue", type: .quorum, node: "n1"))
        try sim.publish(queue: "my queue", count: 3)
        var json = try #require(try JSONSerialization.jsonObject(with: Data(try sim.snapshot())) as? [String: Any])
        #expect(json["format"] as? Int == 3 && json["warren"] as? String == WarrenVersion.current)
        json["format"] = 2
        json["warren"] = nil
        json["queues"] = (json["queues"] as! [String]).map { line in
            var f = line.split(separator: " ", maxSplits: 17, omittingEmptySubsequences: false)
            #expect(f[16] == "/")
            f.remove(at: 16)
            return f.joined(separator: " ")
        }
        let old = try Simulator.restore(Array(try JSONSerialization.data(withJSONObject: json)))
        let q = try #require(try old.queues(type: nil).first)
        #expect(q.name == "my queue" && q.vhost == "/" && q.messages == 3)
        #expect(old.nodeNames == sim.nodeNames)
    }

    @Test("a state from a newer warren is refused, naming both warrens and formats")
    func newerFormatRefused() throws {
        var json = try #require(try JSONSerialization.jsonObject(with: Data(try Simulator().snapshot())) as? [String: Any])
        json["format"] = 4
        json["warren"] = "0.99.0"
        let error = failure { _ = try Simulator.restore(Array(try JSONSerialization.data(withJSONObject: json))) }
        #expect(error?.code == .dataError)
        #expect(error?.message.contains("written by warren 0.99.0 (state format 4); this warren \(WarrenVersion.current) reads state formats up to 3") == true,
                "\(error?.message ?? "")")
    }

    @Test("virtual hosts with spaces and percent signs survive the packed queue line")
    func vhostEscaping() {
        for vhost in ["/", "eu west", "100%", "tab\there", "ünïcode/x"] {
            #expect(SimQueue.unescape(Substring(SimQueue.escape(vhost))) == vhost)
            #expect(!SimQueue.escape(vhost).contains(" "))
        }
    }
}
