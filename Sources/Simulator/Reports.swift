import Cluster
import Foundation

/// Reads, checks, invariants and the saved state.
extension Simulator {
    func state(_ i: Int) -> NodeState {
        let n = s.nodes[i]
        if !n.vm { return .stopped }
        if !cliReachable(i) { return .unreachable }
        switch n.app {
        case .running: return .running
        case .booting: return .booting
        case .stopped: return .appStopped
        }
    }

    func info(_ i: Int) -> NodeInfo {
        let n = s.nodes[i]
        return NodeInfo(name: name(i), state: state(i), underMaintenance: n.maintenance,
                        members: indices(n.view).map(name), alarms: n.alarms,
                        partitions: indices(n.partitionedFrom).map(name), replicas: replicaIndex[i].count,
                        leaders: leaderCount[i], versions: NodeVersions(rabbitmq: n.rabbitmq, erlang: n.erlang))
    }

    public func status() throws -> ClusterStatus {
        let p = primary()
        let members = indices(s.nodes[p].view)
        let running = members.filter { appRunning($0) && reach(p, $0) && cliReachable($0) }
        var partitions: [String: [String]] = [:]
        var alarms: [String: [String]] = [:]
        for i in s.nodes.indices {
            if s.nodes[i].partitionedFrom != 0 { partitions[name(i)] = indices(s.nodes[i].partitionedFrom).map(name) }
            if !s.nodes[i].alarms.isEmpty && s.nodes[i].vm && has(s.nodes[p].view, i) { alarms[name(i)] = s.nodes[i].alarms }
        }
        return ClusterStatus(clusterName: s.clusterName, members: members.map(name), running: running.map(name),
                             partitions: partitions, alarms: alarms,
                             maintenance: members.filter { s.nodes[$0].maintenance }.map(name),
                             nodes: s.nodes.indices.map(info))
    }

    public func nodes() throws -> [NodeInfo] { s.nodes.indices.map(info) }

    public func queues(type: QueueType?) throws -> [QueueInfo] {
        var out: [QueueInfo] = []
        for q in s.queues where !q.deleted && (type == nil || q.type == type) {
            let online = q.type == .classic
                ? q.members.filter(appRunning)
                : q.members.indices.filter { replicaOnline(q, $0) }.map { q.members[$0] }
            let catching = q.type == .classic || s.catchingUp.isEmpty ? []
                : q.members.indices.filter { replicaOnline(q, $0) && !replicaCaughtUp(q, $0) }.map { q.members[$0] }
            out.append(QueueInfo(name: q.name, vhost: q.vhost, type: q.type, durable: q.durable,
                                 leader: (q.type == .classic ? q.members.first : q.leader).map(name),
                                 members: q.members.map(name), online: online.map(name), catchingUp: catching.map(name),
                                 messages: q.messages, available: available(q)))
        }
        return out
    }

    /// Every running member has the cluster's one setting.
    public func partitionHandlingByNode() throws -> [String: String] {
        Dictionary(uniqueKeysWithValues: try status().running.map { ($0, s.partitionHandling.rawValue) })
    }

    public func awaitOnlineQuorumPlusOne(_ node: String, timeout: Double) throws {
        let i = try index(node)
        try requireApp(i)
        var short: [String] = []
        let deadline = s.nowMs + Int64((timeout.isFinite ? max(0, min(timeout, 1e9)) : 1e9) * 1000)
        advance(to: deadline) { [unowned self] in
            short = minimumQuorum(on: i)
            return short.isEmpty
        }
        if !short.isEmpty {
            throw ClusterError(.unavailable, "Error: timed out waiting for quorum queues to have an above-minimum online quorum (no quorum + 1 online replicas came online): \(short.joined(separator: ", "))", node: name(i))
        }
    }

    /// Quorum queues with a replica on node i and no more than a bare majority of replicas online.
    func minimumQuorum(on i: Int) -> [String] {
        replicaIndex[i].compactMap { q in
            let queue = s.queues[q]
            guard queue.type == .quorum, !queue.deleted else { return nil }
            let online = queue.members.indices.filter { replicaOnline(queue, $0) }.count
            return online <= queue.members.count / 2 + 1 ? queue.name : nil
        }
    }

    public func quorumCritical(_ node: String) throws -> [String] {
        let i = try index(node)
        try requireApp(i)
        if s.nodes[i].maintenance { return [] }
        return minimumQuorum(on: i)
    }

    public func health(_ node: String) throws -> [HealthCheck] {
        let i = try index(node)
        let reachable = cliReachable(i)
        let running = reachable && appRunning(i)
        let down = reachable ? "the 'rabbit' app is not running" : "node \(name(i)) is not running or cannot be contacted"
        let alarms = s.nodes[i].alarms
        var checks = [
            HealthCheck(name: "check_running", ok: running, detail: running ? "RabbitMQ is running" : down),
            HealthCheck(name: "check_local_alarms", ok: reachable && alarms.isEmpty,
                        detail: !reachable ? down : (alarms.isEmpty ? "no local alarms" : "alarms in effect: \(alarms.joined(separator: ", "))")),
            HealthCheck(name: "check_port_connectivity", ok: running && !s.nodes[i].maintenance,
                        detail: !running ? down : (s.nodes[i].maintenance ? "listeners suspended (node under maintenance)" : "ports 5672, 15672, 25672 accept connections")),
            HealthCheck(name: "check_virtual_hosts", ok: running, detail: running ? "all virtual hosts are running" : down),
        ]
        // The newer checks, on the releases that have them (the table's `commands`), in the CLI's
        // words (diagnostics commands @v4.0.8).
        guard let f = facts(i) else { return checks }
        if f.has(.checkIfMetadataStoreIsInitialized) {
            checks.append(HealthCheck(name: "check_if_metadata_store_is_initialized", ok: running,
                                      detail: running ? "Metadata store on node \(name(i)) has completed its initialization"
                                          : (reachable && s.nodes[i].app == .booting ? "Metadata store on node \(name(i)) reports to not yet have finished initialization" : down)))
        }
        if f.has(.checkForQuorumQueuesWithoutAnElectedLeader) {
            let leaderless = s.queues.filter { $0.type == .quorum && !$0.deleted && $0.leader == nil }.map(\.name)
            checks.append(HealthCheck(name: "check_for_quorum_queues_without_an_elected_leader", ok: running && leaderless.isEmpty,
                                      detail: !running ? down : (leaderless.isEmpty ? "Node \(name(i)) reported all quorum queue as having responsive leader replicas"
                                          : leaderless.map { "queue '\($0)' in vhost '/' does not have an elected leader replica or the replica was unresponsive" }.joined(separator: "; "))))
        }
        return checks
    }

    public func preflight() throws -> [PreflightCheck] {
        let p = primary()
        let members = indices(s.nodes[p].view)
        let n = members.count
        var checks: [PreflightCheck] = []
        checks.append(PreflightCheck(name: "odd node count", outcome: n % 2 == 1 ? .pass : .warn,
                                     detail: "\(n) member(s)\(n % 2 == 1 ? "" : ": use an odd number (3, 5, 7)")"))
        checks.append(PreflightCheck(name: "not two nodes", outcome: n == 2 ? .warn : .pass,
                                     detail: n == 2 ? "two-node clusters have no majority after a split or a loss" : "\(n) member(s)"))
        if n == 1 {
            checks.append(PreflightCheck(name: "fault tolerance", outcome: .warn, detail: "a single node is for development and tests only"))
        }
        let badCookie = members.filter { s.nodes[$0].cookie != 0 }
        checks.append(PreflightCheck(name: "erlang cookie", outcome: badCookie.isEmpty ? .pass : .fail,
                                     detail: badCookie.isEmpty ? "all nodes and the CLI share one cookie" : "cookie differs on \(badCookie.map(name).joined(separator: ", "))"))
        let unresolved = s.nodes.indices.filter { !s.nodes[$0].resolvable }
        checks.append(PreflightCheck(name: "hostname resolution", outcome: unresolved.isEmpty ? .pass : .fail,
                                     detail: unresolved.isEmpty ? "every node name resolves" : "cannot resolve \(unresolved.map(name).joined(separator: ", "))"))
        let versions = Array(Set(members.map { "RabbitMQ \(s.nodes[$0].rabbitmq) / Erlang \(s.nodes[$0].erlang)" })).sorted()
        let keys = Set(members.map { s.nodes[$0].versionKey })
        let releases = Set(members.map { s.nodes[$0].rabbitmq })
        // Mixed releases are for a rolling upgrade only (4.2.0 release notes L172-180).
        let underWay = releases.count > 1 ? upgradeUnderWay?() : nil
        checks.append(PreflightCheck(name: "same versions", outcome: keys.count > 1 || (releases.count > 1 && underWay == nil) ? .fail : (releases.count > 1 ? .warn : .pass),
                                     detail: versions.joined(separator: "; ") + (releases.count > 1
                                         ? (underWay.map { ": mixed while \($0.description) (`warren resume \($0.session)`)" } ?? ": mixed versions, and no unfinished rolling upgrade of warren's is known for this cluster")
                                         : "")))
        let parted = s.nodes.indices.filter { s.nodes[$0].partitionedFrom != 0 || s.nodes[$0].cut != 0 }
        checks.append(PreflightCheck(name: "partitions", outcome: parted.isEmpty ? .pass : .fail,
                                     detail: parted.isEmpty ? "no partitions" : "partitioned: \(parted.map(name).joined(separator: ", "))"))
        let alarmed = members.filter { !s.nodes[$0].alarms.isEmpty }
        checks.append(PreflightCheck(name: "alarms", outcome: alarmed.isEmpty ? .pass : .fail,
                                     detail: alarmed.isEmpty ? "no alarms" : alarmed.map { "\(name($0)): \(s.nodes[$0].alarms.joined(separator: ","))" }.joined(separator: "; ")))
        let disabled = ((try? featureFlags()) ?? []).filter { $0.state != .enabled && $0.stability != .experimental }.map(\.name)
        checks.append(PreflightCheck(name: "feature flags",
                                     outcome: disabled.contains("maintenance_mode_status") ? .fail : (disabled.isEmpty ? .pass : .warn),
                                     detail: disabled.isEmpty ? "all feature flags enabled (maintenance_mode_status included)" : "disabled: \(disabled.joined(separator: ", "))"))
        let down = members.filter { !appRunning($0) }
        checks.append(PreflightCheck(name: "all members running", outcome: down.isEmpty ? .pass : .fail,
                                     detail: down.isEmpty ? "\(n) of \(n) running" : "not running: \(down.map(name).joined(separator: ", "))"))
        return checks
    }

    struct Definitions: Encodable {
        struct VHost: Encodable { var name: String }
        struct Parameter: Encodable { var name: String; var value: String }
        struct Queue: Encodable {
            var name: String
            var vhost = "/"
            var durable: Bool
            var auto_delete = false
            var arguments: [String: Argument]
        }
        enum Argument: Encodable {
            case string(String), int(Int)
            func encode(to encoder: Encoder) throws {
                var c = encoder.singleValueContainer()
                switch self {
                case .string(let v): try c.encode(v)
                case .int(let v): try c.encode(v)
                }
            }
        }
        var rabbit_version: String
        var rabbitmq_version: String
        var product_name = "RabbitMQ"
        var users: [String] = []
        var vhosts = [VHost(name: "/")]
        var permissions: [String] = []
        var parameters: [String] = []
        var global_parameters: [Parameter]
        var policies: [String] = []
        var queues: [Queue]
        var exchanges: [String] = []
        var bindings: [String] = []
    }

    public func exportDefinitions(to path: String) throws {
        let p = try requireAnyRunning()
        let version = s.nodes[p].rabbitmq
        let queues = s.queues.filter { !$0.deleted }.map { q -> Definitions.Queue in
            var args: [String: Definitions.Argument] = ["x-queue-type": .string(q.type.rawValue)]
            if let g = q.groupSize { args["x-quorum-initial-group-size"] = .int(g) }
            if q.type != .classic { args["x-queue-leader-locator"] = .string(q.locator.rawValue) }
            return Definitions.Queue(name: q.name, vhost: q.vhost, durable: q.durable, arguments: args)
        }
        let vhosts = Set(["/"] + queues.map(\.vhost)).sorted().map { Definitions.VHost(name: $0) }
        let defs = Definitions(rabbit_version: version, rabbitmq_version: version, vhosts: vhosts,
                               global_parameters: [.init(name: "cluster_name", value: s.clusterName)], queues: queues)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try encoder.encode(defs).write(to: URL(fileURLWithPath: path))
            // As on a real cluster: readable by the operator only.
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        } catch {
            throw ClusterError(.dataError, "cannot write definitions to \(path): \(error.localizedDescription)")
        }
    }

    public func invariants() -> InvariantReport {
        var losses: [InvariantReport.MajorityLoss] = []
        var lost: [String: Int] = [:]
        for q in s.queues {
            if q.losses > 0 {
                let ms = q.downMs + (q.downSince.map { s.nowMs - $0 } ?? 0)
                losses.append(.init(queue: q.name, seconds: Double(ms) / 1000))
            }
            if q.lost > 0 { lost[q.name, default: 0] += q.lost }
        }
        var problems: [String] = []
        let p = primary()
        let members = indices(s.nodes[p].view)
        for i in members {
            if !appRunning(i) {
                problems.append("\(name(i)) is \(s.nodes[i].paused ? "paused" : state(i).rawValue)")
            } else if !cliReachable(i) || !reach(p, i) {
                problems.append("\(name(i)) cannot be reached")
            }
            for j in members where !has(s.nodes[i].view, j) {
                problems.append("\(name(i)) does not list \(name(j)) as a member")
            }
            if s.nodes[i].view != s.nodes[p].view && has(s.nodes[i].view, i) {
                for j in indices(s.nodes[i].view) where !has(s.nodes[p].view, j) {
                    problems.append("\(name(i)) lists \(name(j)), which \(name(p)) does not")
                }
            }
            if s.nodes[i].maintenance { problems.append("\(name(i)) is under maintenance") }
            if !s.nodes[i].alarms.isEmpty { problems.append("\(name(i)) has alarms: \(s.nodes[i].alarms.joined(separator: ", "))") }
        }
        for i in s.nodes.indices where s.nodes[i].partitionedFrom != 0 || s.nodes[i].cut != 0 {
            problems.append("\(name(i)) is partitioned from \(indices(s.nodes[i].partitionedFrom | s.nodes[i].cut).map(name).joined(separator: ", "))")
        }
        return InvariantReport(majorityLosses: losses, lostMessages: lost, converged: problems.isEmpty,
                               convergenceProblems: problems)
    }

    /// Internal consistency of the model, for tests: leaders on running members with a
    /// majority, members unique and known, indices and leader counts matching the queues.
    public func consistencyViolations() -> [String] {
        var out: [String] = []
        var leaders = Array(repeating: 0, count: s.nodes.count)
        for (q, queue) in s.queues.enumerated() where !queue.deleted {
            if Set(queue.members).count != queue.members.count { out.append("\(queue.name): duplicate members") }
            if queue.members.contains(where: { $0 < 0 || $0 >= s.nodes.count }) { out.append("\(queue.name): unknown member") }
            if queue.type == .classic {
                if queue.members.count != 1 { out.append("\(queue.name): classic queue without one home") }
                continue
            }
            if queue.members.isEmpty { out.append("\(queue.name): no members") }
            for m in queue.members where !replicaIndex[m].contains(q) { out.append("\(queue.name): missing from index of \(name(m))") }
            if let l = queue.leader {
                leaders[l] += 1
                guard let k = queue.members.firstIndex(of: l) else {
                    out.append("\(queue.name): leader \(name(l)) is not a member")
                    continue
                }
                if !replicaOnline(queue, k) { out.append("\(queue.name): leader \(name(l)) is not online") }
                if supporters(queue, l) * 2 <= queue.members.count { out.append("\(queue.name): leader \(name(l)) has no majority") }
                if s.nodes[l].maintenance { out.append("\(queue.name): leader \(name(l)) is drained") }
            } else {
                for m in queue.members where supporters(queue, m) * 2 > queue.members.count && queue.members.firstIndex(of: m).map({ replicaOnline(queue, $0) }) == true {
                    out.append("\(queue.name): no leader although \(name(m)) has a majority")
                }
            }
        }
        if leaders != leaderCount { out.append("leader counts \(leaderCount) do not match queues \(leaders)") }
        for i in s.nodes.indices {
            if !has(s.nodes[i].view, i) { out.append("\(name(i)) does not list itself") }
            if !s.nodes[i].vm && s.nodes[i].app != .stopped { out.append("\(name(i)) app not stopped with its vm down") }
        }
        return out
    }

    public func snapshot() throws -> [UInt8] { try SnapshotCoding.encode(s) }
}

enum SnapshotCoding {
    static func encode(_ s: SimState) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(s))
    }
    static func decode(_ bytes: [UInt8]) throws -> SimState {
        try JSONDecoder().decode(SimState.self, from: Data(bytes))
    }
}
