import Cluster

/// The shell's `status`, `nodes` and `queues` views.
public enum ClusterTables {
    /// Columns padded to their widest cell; the last column is not padded.
    static func table(_ rows: [[String]]) -> String {
        guard let header = rows.first else { return "" }
        var widths = [Int](repeating: 0, count: header.count)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        return rows.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }

    /// `rabbit@n1` -> `n1` when the target's short names allow it.
    static func short(_ names: [String], _ map: [String: String]) -> String {
        names.isEmpty ? "-" : names.map { map[$0] ?? $0 }.joined(separator: ",")
    }

    public static func status(_ s: ClusterStatus, queues: [QueueInfo]) -> String {
        var out = "cluster \(s.clusterName): \(s.running.count)/\(s.members.count) members running"
        out += s.healthy ? ", healthy\n" : "\n"
        let down = s.members.filter { !s.running.contains($0) }
        if !down.isEmpty { out += "  not running: \(down.joined(separator: ", "))\n" }
        for (n, p) in s.partitions.sorted(by: { $0.key < $1.key }) { out += "  partition: \(n) cannot see \(p.joined(separator: ", "))\n" }
        for (n, a) in s.alarms.sorted(by: { $0.key < $1.key }) { out += "  alarm on \(n): \(a.joined(separator: ", "))\n" }
        if !s.maintenance.isEmpty { out += "  under maintenance (drained): \(s.maintenance.joined(separator: ", "))\n" }
        let replicated = queues.filter { $0.type != .classic }
        let unavailable = queues.filter { !$0.available }
        out += "  queues: \(queues.count) (\(replicated.count) replicated), \(unavailable.count) unavailable"
        if !unavailable.isEmpty { out += ": \(unavailable.prefix(8).map(\.name).joined(separator: ", "))" }
        return out + "\n"
    }

    public static func nodes(_ nodes: [NodeInfo], members: [String]) -> String {
        var rows = [["NODE", "VM", "APP", "MAINT", "MEMBER", "REPLICAS", "LEADERS", "ALARMS", "PARTITIONED FROM"]]
        for n in nodes {
            let vm = n.state.vmUp ? "up" : (n.state == .unreachable ? "unreachable" : "down")
            let app: String
            switch n.state {
            case .running: app = "running"
            case .booting: app = "booting"
            case .appStopped: app = "stopped"
            case .stopped, .unreachable: app = "-"
            }
            rows.append([n.name, vm, app, n.underMaintenance ? "drained" : "-", members.contains(n.name) ? "yes" : "no",
                         String(n.replicas), String(n.leaders), n.alarms.isEmpty ? "-" : n.alarms.joined(separator: ","),
                         n.partitions.isEmpty ? "-" : n.partitions.joined(separator: ",")])
        }
        return table(rows)
    }

    public static func queues(_ queues: [QueueInfo], shortNames: [String: String]) -> String {
        var rows = [["QUEUE", "TYPE", "LEADER", "MEMBERS", "ONLINE", "MESSAGES", "STATE"]]
        for q in queues.sorted(by: { ($0.vhost, $0.name) < ($1.vhost, $1.name) }) {
            rows.append([q.vhost == "/" ? q.name : "\(q.vhost)/\(q.name)", q.type.rawValue, q.leader.map { shortNames[$0] ?? $0 } ?? "-", short(q.members, shortNames),
                         short(q.online, shortNames), String(q.messages), q.available ? "available" : "UNAVAILABLE"])
        }
        return table(rows)
    }
}
