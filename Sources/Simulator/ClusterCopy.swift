import Cluster
import Foundation

/// A simulated cluster copied from a full snapshot of another (`warren snapshot`): the same node
/// names, states, versions, alarms and maintenance; the same members; the queues with their
/// virtual host, type, members, leader and messages (each message a simulated one, counted as
/// confirmed, so losing it breaks the invariant); the disabled feature flags, the policies and
/// the partition handling. What it cannot keep as it was is listed in ``CopyOrigin/notes``.
extension Simulator {
    /// The format of the state ``snapshot()`` writes (and the newest ``restore(_:)`` reads).
    public static var stateFormat: Int { SimState.currentFormat }

    /// Where this cluster was copied from; nil for a cluster the simulator created.
    public var copiedFrom: CopyOrigin? { s.copiedFrom }

    /// A copy of the cluster a snapshot describes.
    /// - Parameter seed: the seed of the copy's generator (durations of its primitives).
    /// - Throws: ``ClusterError`` (data error) when the snapshot is not a full one or has more
    ///   nodes than the simulator holds.
    public static func copy(of snap: ClusterSnapshot, seed: UInt64 = 1) throws -> Simulator {
        guard snap.depth == .full else {
            throw ClusterError(.dataError, "a \(snap.depth.rawValue) snapshot has no feature flags, policies or partition handling: take a full one (`warren snapshot`)")
        }
        var notes: [String] = []
        let status = snap.status
        var names = status.nodes.map(\.name)
        for m in status.members where !names.contains(m) {
            names.append(m)
            notes.append("\(m) is a member the target does not list (not in the inventory): copied as stopped")
        }
        guard !names.isEmpty, names.count <= maxNodes else {
            throw ClusterError(.dataError, "the snapshot has \(names.count) nodes; the simulator holds 1 to \(maxNodes)")
        }
        let index = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        let info = Dictionary(status.nodes.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var members: UInt64 = 0
        for m in status.members { if let i = index[m] { members |= bit(i) } }

        // A stopped node reports no versions: it gets the ones most nodes run.
        let reported = status.nodes.compactMap(\.versions)
        let counts = Dictionary(reported.map { ("\($0.rabbitmq) \($0.erlang)", 1) }, uniquingKeysWith: +)
        let usual = reported.max { a, b in
            let ca = counts["\(a.rabbitmq) \(a.erlang)"]!, cb = counts["\(b.rabbitmq) \(b.erlang)"]!
            return ca != cb ? ca < cb : "\(a.rabbitmq) \(a.erlang)" > "\(b.rabbitmq) \(b.erlang)"
        }
        var borrowed: [String] = []
        var nodes: [SimNode] = []
        for (i, name) in names.enumerated() {
            let member = has(members, i)
            var node = SimNode(view: member ? members : bit(i))
            node.spare = !member
            let n = info[name]
            switch n?.state ?? .stopped {
            case .running:
                break
            case .booting:
                notes.append("\(name) was booting: copied as running")
            case .appStopped:
                node.app = .stopped
            case .stopped:
                node.vm = false
                node.app = .stopped
            case .unreachable:
                node.vm = false
                node.app = .stopped
                notes.append("\(name) could not be reached (cookie, name resolution or network): copied as stopped")
            }
            node.maintenance = node.vm && (n?.underMaintenance ?? false)
            node.alarms = n?.alarms ?? []
            for p in n?.partitions ?? [] { if let j = index[p] { node.partitionedFrom |= bit(j) } }
            if let v = n?.versions ?? usual {
                if n?.versions == nil { borrowed.append(name) }
                node.rabbitmq = v.rabbitmq
                node.erlang = v.erlang
                node.versionKey = SimNode.versionKey(erlang: v.erlang)
            }
            nodes.append(node)
        }
        if !borrowed.isEmpty, let usual {
            notes.append("no versions reported by \(borrowed.joined(separator: ", ")) (not running): copied as RabbitMQ \(usual.rabbitmq), Erlang \(usual.erlang)")
        }
        if !status.partitions.isEmpty {
            notes.append("partitions listed by cluster_status are copied as recorded (healed, still listed until the nodes restart)")
        }
        if indices(members).allSatisfy({ !nodes[$0].vm || nodes[$0].app != .running }) {
            notes.append("no member was running: which one stopped last is not known, so none boots without its peers (use force_boot)")
        }

        let partitionHandling = copiedPartitionHandling(snap.partitionHandling, notes: &notes)

        var queues: [SimQueue] = []
        var unknownMembers: Set<String> = []
        var offlineOnRunning: [String] = []
        for q in snap.queues.sorted(by: { ($0.vhost, $0.name) < ($1.vhost, $1.name) }) {
            let label = q.vhost == "/" ? q.name : "\(q.vhost)/\(q.name)"
            for m in q.members where index[m] == nil { unknownMembers.insert(m) }
            var queueMembers = q.members.compactMap { index[$0] }
            if q.type == .classic {
                guard let home = queueMembers.first ?? q.leader.flatMap({ index[$0] }) else {
                    notes.append("classic queue \(label): its home node is not known, left out of the copy")
                    continue
                }
                queueMembers = [home]
            } else if q.members.contains(where: { m in q.online.contains(m) == false && info[m]?.state == .running && !(info[m]?.underMaintenance ?? false) }) {
                offlineOnRunning.append(label)
            }
            guard !queueMembers.isEmpty else {
                notes.append("queue \(label): none of its members is a node of the cluster, left out of the copy")
                continue
            }
            let leader = q.type == .classic ? nil : q.leader.flatMap { index[$0] }.flatMap { queueMembers.contains($0) ? $0 : nil }
            queues.append(SimQueue(name: q.name, vhost: q.vhost, type: q.type, durable: q.durable, groupSize: nil,
                                   locator: .clientLocal, members: queueMembers, epochs: queueMembers.map { _ in 0 },
                                   leader: leader, messages: q.messages, published: q.messages, confirmed: q.messages))
        }
        if !unknownMembers.isEmpty {
            notes.append("queue members that are not nodes of the cluster were left out: \(unknownMembers.sorted().joined(separator: ", "))")
        }
        if !offlineOnRunning.isEmpty {
            notes.append("\(offlineOnRunning.count) queue(s) had a replica offline on a running node, which the copy has online: "
                + offlineOnRunning.prefix(10).joined(separator: ", ") + (offlineOnRunning.count > 10 ? ", ..." : ""))
        }

        var id = SystemRandomNumberGenerator()
        var state = SimState(clusterName: snap.clusterName, clusterID: String(id.next() & 0xffff_ffff_ffff, radix: 16),
                             partitionHandling: partitionHandling, rng: SplitMix64(seed: seed), nodes: nodes)
        if names != (0..<names.count).map({ "rabbit@n\($0 + 1)" }) { state.nodeNames = names }
        state.queues = queues
        state.policies = snap.policies ?? []
        // The flags enabled on the copied cluster; without them (a snapshot that is not full), those
        // a new cluster of each node's release has.
        let enabled = snap.featureFlags.map { $0.filter { $0.value == .enabled }.map(\.key) }
        for i in state.nodes.indices {
            state.nodes[i].setFlags(enabled ?? ReleaseFacts.make(state.nodes[i].rabbitmq)?.newClusterFlags ?? [])
        }
        state.copiedFrom = CopyOrigin(cluster: snap.clusterName, target: snap.target, takenAt: snap.takenAt, notes: notes)
        let sim = Simulator(state: state)
        // Leaders the copy cannot keep (no majority of running replicas) are re-elected, as the broker would.
        sim.refreshAll()
        let taken = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: snap.takenAt))
        sim.log(nil, "copy of cluster \(snap.clusterName) (\(snap.target)) from its snapshot of \(taken): \(indices(members).count) member(s), "
            + "\(queues.count) queue(s), seed \(seed), \(partitionHandling.rawValue)")
        return sim
    }

    /// The one partition handling of the copy: the members' common setting; when they disagree,
    /// the first member's, said in a note; a setting the simulator does not model is `ignore`.
    static func copiedPartitionHandling(_ settings: [String: String]?, notes: inout [String]) -> PartitionHandling {
        guard let settings, let first = settings.keys.sorted().first else {
            notes.append("the partition handling could not be read: copied as ignore")
            return .ignore
        }
        let value = settings[first]!
        if Set(settings.values).count > 1 {
            notes.append("the members' partition handling differs (" + settings.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
                + "): the copy uses \(first)'s")
        }
        guard let mode = PartitionHandling(rawValue: value) else {
            notes.append("partition handling \(value) is not simulated: copied as ignore")
            return .ignore
        }
        return mode
    }
}
