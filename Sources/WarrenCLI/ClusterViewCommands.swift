import ArgumentParser
import Cluster
import Foundation
import Runbook

/// `warren status [target] [--format json]`: the shell's `status`, from the command line.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "The cluster at a glance: members running, partitions, alarms, maintenance, queues.",
        discussion: """
            --format json prints one object: cluster (its name), target, healthy (every member \
            running, no partition, no alarm), members [node], running [node], not_running \
            [node], maintenance [node: drained], partitions {node: [nodes it cannot see]}, alarms \
            {node: [alarm]}, queues {total, replicated (quorum queues and streams), unavailable \
            [name]}, messages (ready in all queues).

            Exit codes: 0 the cluster was read (healthy or not), 1 it could not be read, 2 usage.
            """)

    @OptionGroup var target: TargetOptions
    @Option(help: "text or json.") var format: OutputFormat = .text

    func run() throws {
        let t = try target.makeTarget()
        let status = try t.backend.status()
        let queues = try t.backend.queues(type: nil)
        guard format == .json else { return Output.write(ClusterTables.status(status, queues: queues)) }
        struct Queues: Encodable { var total: Int; var replicated: Int; var unavailable: [String] }
        struct Document: Encodable {
            var cluster: String, target: String, healthy: Bool
            var members: [String], running: [String], not_running: [String], maintenance: [String]
            var partitions: [String: [String]], alarms: [String: [String]]
            var queues: Queues, messages: Int
        }
        Output.write(try OutputFormat.json(Document(
            cluster: status.clusterName, target: t.backend.targetDescription, healthy: status.healthy,
            members: status.members, running: status.running, not_running: status.members.filter { !status.running.contains($0) },
            maintenance: status.maintenance, partitions: status.partitions, alarms: status.alarms,
            queues: Queues(total: queues.count, replicated: queues.filter { $0.type != .classic }.count,
                           unavailable: queues.filter { !$0.available }.map(\.name).sorted()),
            messages: queues.reduce(0) { $0 + $1.messages })))
    }
}

/// `warren nodes [target] [--format json]`: every node of the target.
struct NodesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nodes",
        abstract: "Every node: VM, app, maintenance, membership, replicas, leaders, alarms, partitions.",
        discussion: """
            --format json prints one object: cluster, target, nodes [{name, state ("running", \
            "app_stopped", "booting", "stopped" or "unreachable"), member, maintenance, replicas \
            and leaders (quorum queues and streams), alarms [alarm], partitioned_from [node], \
            rabbitmq and erlang (the versions it runs; null when it does not run)}].

            Exit codes: 0 the cluster was read, 1 it could not be read, 2 usage.
            """)

    @OptionGroup var target: TargetOptions
    @Option(help: "text or json.") var format: OutputFormat = .text

    func run() throws {
        let t = try target.makeTarget()
        let status = try t.backend.status()
        let nodes = status.nodesCounting(try t.backend.queues(type: nil))
        guard format == .json else { return Output.write(ClusterTables.nodes(nodes, members: status.members)) }
        let versions = (try? t.backend.nodeVersions()) ?? [:]
        struct Node: Encodable {
            var name: String, state: String, member: Bool, maintenance: Bool, replicas: Int, leaders: Int
            var alarms: [String], partitioned_from: [String], rabbitmq: Nullable<String>, erlang: Nullable<String>
        }
        struct Document: Encodable { var cluster: String; var target: String; var nodes: [Node] }
        Output.write(try OutputFormat.json(Document(cluster: status.clusterName, target: t.backend.targetDescription, nodes: nodes.map { n in
            let v = n.state == .running ? versions[n.name] ?? n.versions : nil
            return Node(name: n.name, state: n.state.rawValue, member: status.members.contains(n.name), maintenance: n.underMaintenance,
                        replicas: n.replicas, leaders: n.leaders, alarms: n.alarms, partitioned_from: n.partitions,
                        rabbitmq: Nullable(v?.rabbitmq), erlang: Nullable(v?.erlang))
        })))
    }
}

/// `warren queues [TYPE] [target] [--format json]`: the queues, every virtual host.
struct QueuesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queues",
        abstract: "The queues: type, leader, members, online members, messages, availability.",
        discussion: """
            --format json prints one object: cluster, target, queues [{name, vhost, type \
            ("classic", "quorum" or "stream"), durable, leader (a classic queue's home node; null \
            when it has none), members [node], online [node], messages, available}], sorted by \
            virtual host and name.

            Exit codes: 0 the cluster was read, 1 it could not be read, 2 usage.
            """)

    @Argument(help: "Only queues of this type: classic, quorum or stream.")
    var type: QueueType?

    @OptionGroup var target: TargetOptions
    @Option(help: "text or json.") var format: OutputFormat = .text

    func run() throws {
        let t = try target.makeTarget()
        let queues = try t.backend.queues(type: type).sorted { ($0.vhost, $0.name) < ($1.vhost, $1.name) }
        guard format == .json else {
            return Output.write(ClusterTables.queues(queues, shortNames: shortNodeNames(t.backend.nodeNames)))
        }
        struct Queue: Encodable {
            var name: String, vhost: String, type: String, durable: Bool, leader: Nullable<String>
            var members: [String], online: [String], messages: Int, available: Bool
        }
        struct Document: Encodable { var cluster: String; var target: String; var queues: [Queue] }
        let name = (try? t.backend.status().clusterName) ?? t.backend.targetDescription
        Output.write(try OutputFormat.json(Document(cluster: name, target: t.backend.targetDescription, queues: queues.map {
            Queue(name: $0.name, vhost: $0.vhost, type: $0.type.rawValue, durable: $0.durable, leader: Nullable($0.leader),
                  members: $0.members, online: $0.online, messages: $0.messages, available: $0.available)
        })))
    }
}

extension QueueType: ExpressibleByArgument {}
