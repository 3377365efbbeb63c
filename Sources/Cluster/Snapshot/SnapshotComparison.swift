/// What a run did to the cluster on purpose, as its journal says: the changes a comparison of
/// its start and end expects.
public struct ExpectedChanges: Equatable, Sendable {
    /// Nodes the run took out of the cluster (`forget`, `reset`, `force_reset`).
    public var removed: Set<String>
    /// Nodes the run left stopped: its last lifecycle primitive on each was `stop` or `stop_app`.
    public var leftStopped: Set<String>
    /// Nodes the run upgraded (`upgrade`): a version change there is the point.
    public var upgraded: Set<String>
    /// Queues warren itself uses (the canary's), left out of the comparison.
    public var ownQueues: Set<String>

    public init(removed: Set<String> = [], leftStopped: Set<String> = [], upgraded: Set<String> = [], ownQueues: Set<String> = []) {
        self.removed = removed
        self.leftStopped = leftStopped
        self.upgraded = upgraded
        self.ownQueues = ownQueues
    }
}

/// The differences between a cluster at the start and at the end of a run, each marked
/// unexpected or not: a queue gone or with fewer messages, a member lost or stopped, a node left
/// drained, every leader on one node, a version that changed without an upgrade, an alarm, a
/// partition are unexpected unless the run did it on purpose (``ExpectedChanges``).
public struct SnapshotComparison: Equatable, Sendable {
    public struct Finding: Equatable, Sendable {
        public var text: String
        public var unexpected: Bool
        public init(text: String, unexpected: Bool) {
            self.text = text
            self.unexpected = unexpected
        }
    }

    /// One line of the overview: what, at the start, at the end.
    public struct Row: Equatable, Sendable {
        public var what: String
        public var start: String
        public var end: String
    }

    public var rows: [Row]
    public var findings: [Finding]
    public var unexpected: [Finding] { findings.filter(\.unexpected) }

    public init(start: ClusterSnapshot, end: ClusterSnapshot, expected: ExpectedChanges = ExpectedChanges()) {
        var findings: [Finding] = []
        func flag(_ text: String) { findings.append(Finding(text: text, unexpected: true)) }
        func note(_ text: String) { findings.append(Finding(text: text, unexpected: false)) }
        let s0 = start.status, s1 = end.status
        let nodes0 = Dictionary(s0.nodes.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let nodes1 = Dictionary(s1.nodes.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })

        // Members
        for n in s0.members where !s1.members.contains(n) {
            if expected.removed.contains(n) { note("\(n) left the cluster (the run removed it)") } else { flag("\(n) is no longer a member of the cluster") }
        }
        for n in s1.members where !s0.members.contains(n) { note("\(n) joined the cluster") }
        for n in s1.members {
            let wasRunning = s0.running.contains(n), isRunning = s1.running.contains(n)
            let state = nodes1[n]?.state.rawValue.replacingOccurrences(of: "_", with: " ") ?? "not running"
            if wasRunning && !isRunning {
                if expected.leftStopped.contains(n) { note("\(n) is \(state) (the run stopped it)") } else {
                    flag("\(n) was running at the start and is \(state) at the end")
                }
            } else if !wasRunning && !isRunning && s0.members.contains(n) && !expected.leftStopped.contains(n) {
                flag("\(n) is \(state), as at the start")
            } else if !wasRunning && isRunning && s0.members.contains(n) {
                note("\(n) runs again")
            }
            if s1.maintenance.contains(n) {
                flag("\(n) is still drained (under maintenance)\(s0.maintenance.contains(n) ? ", as at the start" : ""): `revive` it or restart it")
            }
        }

        // Queues (warren's own left out)
        func key(_ q: QueueInfo) -> String { q.vhost == "/" ? q.name : "\(q.vhost)/\(q.name)" }
        let q0 = start.queues.filter { !expected.ownQueues.contains($0.name) }
        let q1 = end.queues.filter { !expected.ownQueues.contains($0.name) }
        let byKey1 = Dictionary(q1.map { (key($0), $0) }, uniquingKeysWith: { a, _ in a })
        let keys0 = Set(q0.map(key))
        for a in q0.sorted(by: { key($0) < key($1) }) {
            let k = key(a)
            guard let b = byKey1[k] else {
                flag("queue \(k) (\(a.type.rawValue)) is gone; it had \(a.messages) message\(a.messages == 1 ? "" : "s") at the start")
                continue
            }
            if b.messages < a.messages && a.type != .stream {
                flag("queue \(k) has fewer messages: \(a.messages) -> \(b.messages) (consumed, expired, or lost)")
            }
            // Members offline because the run stopped or removed their node are its doing.
            let offline = Set(b.members).subtracting(b.online)
            let explained = offline.allSatisfy { expected.leftStopped.contains($0) || expected.removed.contains($0) }
            if !b.available && !offline.isEmpty && explained {
                note("queue \(k) is not available: the run stopped its members")
            } else if a.available && !b.available {
                flag("queue \(k) is not available at the end (\(b.online.count) of \(b.members.count) members online)")
            } else if !b.available {
                flag("queue \(k) is not available, as at the start")
            }
            if Set(a.members) != Set(b.members) {
                note("queue \(k) members: \(Self.list(a.members)) -> \(Self.list(b.members))")
            }
            if b.available && b.type != .classic && !offline.isEmpty && !explained && Set(a.online).isSuperset(of: a.members) {
                flag("queue \(k) has \(b.online.count) of \(b.members.count) members online at the end (offline: \(Self.list(offline.sorted())))")
            }
        }
        for b in q1.sorted(by: { key($0) < key($1) }) where !keys0.contains(key(b)) {
            note("queue \(key(b)) (\(b.type.rawValue)) is new")
        }

        // Leader balance
        let leaders0 = Self.leaders(q0), leaders1 = Self.leaders(q1)
        if let only = Self.allOnOne(leaders1), s1.running.count > 1 {
            flag("every quorum queue and stream leader is on \(only)\(Self.allOnOne(leaders0) == only ? ", as at the start" : ""): "
                + "`cluster.rebalance(\"quorum\")` spreads them")
        }

        // Versions
        for n in s1.members {
            guard let a = nodes0[n]?.versions, let b = nodes1[n]?.versions, a != b else { continue }
            let change = [a.rabbitmq != b.rabbitmq ? "RabbitMQ \(a.rabbitmq) -> \(b.rabbitmq)" : nil,
                          a.erlang != b.erlang ? "Erlang \(a.erlang) -> \(b.erlang)" : nil].compactMap { $0 }.joined(separator: ", ")
            if expected.upgraded.contains(n) { note("\(n): \(change) (the run upgraded it)") } else {
                flag("\(n): \(change), and the run did not upgrade it")
            }
        }

        // Alarms and partitions
        for (n, alarms) in s1.alarms.sorted(by: { $0.key < $1.key }) where !alarms.isEmpty {
            flag("\(alarms.joined(separator: " and ")) alarm on \(n)\(s0.alarms[n] == alarms ? ", as at the start" : "")")
        }
        for (n, peers) in s1.partitions.sorted(by: { $0.key < $1.key }) where !peers.isEmpty {
            flag("\(n) is partitioned from \(Self.list(peers))\(s0.partitions[n] == peers ? ", as at the start" : "")")
        }

        self.findings = findings
        rows = [
            Row(what: "Members", start: Self.members(s0), end: Self.members(s1)),
            Row(what: "Queues", start: Self.queues(q0), end: Self.queues(q1)),
            Row(what: "Messages", start: String(q0.reduce(0) { $0 + $1.messages }), end: String(q1.reduce(0) { $0 + $1.messages })),
            Row(what: "Leaders", start: Self.balance(leaders0), end: Self.balance(leaders1)),
            Row(what: "Versions", start: Self.versions(s0), end: Self.versions(s1)),
            Row(what: "Alarms", start: Self.perNode(s0.alarms), end: Self.perNode(s1.alarms)),
            Row(what: "Partitions", start: Self.perNode(s0.partitions), end: Self.perNode(s1.partitions)),
        ]
    }

    static func list(_ names: [String]) -> String { names.isEmpty ? "none" : names.joined(separator: ", ") }

    static func members(_ s: ClusterStatus) -> String {
        "\(s.members.count), \(s.running.count) running" + (s.maintenance.isEmpty ? "" : ", \(s.maintenance.count) drained")
    }

    static func queues(_ qs: [QueueInfo]) -> String {
        let down = qs.filter { !$0.available }.count
        return "\(qs.count), " + (down == 0 ? "all available" : "\(down) not available")
    }

    /// Leaders per node, quorum queues and streams.
    static func leaders(_ qs: [QueueInfo]) -> [String: Int] {
        var out: [String: Int] = [:]
        for q in qs where q.type != .classic { if let l = q.leader { out[l, default: 0] += 1 } }
        return out
    }

    /// The one node holding every leader, when there are at least two leaders.
    static func allOnOne(_ leaders: [String: Int]) -> String? {
        guard leaders.count == 1, let (node, count) = leaders.first, count > 1 else { return nil }
        return node
    }

    static func balance(_ leaders: [String: Int]) -> String {
        leaders.isEmpty ? "none" : leaders.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }

    /// The distinct versions the members run, e.g. `RabbitMQ 3.10.8, Erlang 25.2.1`.
    public static func versions(_ s: ClusterStatus) -> String {
        let distinct = Set(s.nodes.filter { s.members.contains($0.name) }.compactMap(\.versions).map { "RabbitMQ \($0.rabbitmq), Erlang \($0.erlang)" })
        return distinct.isEmpty ? "not read" : distinct.sorted().joined(separator: "; ")
    }

    static func perNode(_ map: [String: [String]]) -> String {
        let entries = map.filter { !$0.value.isEmpty }.sorted { $0.key < $1.key }
        return entries.isEmpty ? "none" : entries.map { "\($0.key): \($0.value.joined(separator: ", "))" }.joined(separator: "; ")
    }
}
