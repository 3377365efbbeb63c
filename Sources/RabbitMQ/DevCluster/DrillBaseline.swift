import Cluster
import Foundation

/// Where every drill on a hosts devcluster starts: no fault in place (no cut, no delay, no
/// alarm), every member running and in maintenance mode none, only the members `up` clustered
/// (spares outside), and no queue left by an earlier drill. Runs in the bastion; a drill that
/// replaced or lost a node is undone by hand (``restoreMembership``), and only what that cannot
/// fix makes the devcluster be made again.
extension DevCluster {
    /// The faults a devcluster makes (``DevClusterFaults``); the simulator's others are refused.
    public static let realFaults: Set<String> = ["partition", "heal", "kill", "alarm", "fail_next_boot", "lose_disk", "delay"]

    /// Brings the devcluster back to its baseline where a drill can leave it: heals the network,
    /// starts a member whose VM is down, clears alarms and maintenance, deletes every queue.
    /// - Throws: ``Failure`` saying what is not as `up` made it (the devcluster must be made again).
    public static func restoreBaseline(_ m: Manifest, backend: RabbitMQBackend, timeout: Double = 120) throws {
        let faults = DevClusterFaults(manifest: m, backend: backend)
        try faults.inject(.heal)
        // A fail_next_boot that never fired.
        for n in m.nodes { try? FileManager.default.removeItem(atPath: n.failMarker) }
        let members = m.nodes.filter { !$0.spare }.map(\.name)
        for n in members where !backend.vmMayRun(n) { try backend.start(n) }
        for n in members { try backend.awaitRunning(n, timeout: timeout) }
        try restoreMembership(m, backend: backend)
        let deadline = monotonicSeconds() + timeout
        var problem = baselineProblem(m, backend: backend)
        while let p = problem, monotonicSeconds() < deadline {
            if p.fixable {
                let s = try backend.status()
                for (n, alarms) in s.alarms {
                    if alarms.contains(where: { $0.contains("disk") }) { try faults.inject(.alarm(node: n, kind: "disk", raised: false)) }
                    if alarms.contains(where: { $0.contains("memory") }) { try faults.inject(.alarm(node: n, kind: "memory", raised: false)) }
                }
                for n in s.maintenance { try backend.revive(n) }
                for q in try backend.queues(type: nil) {
                    _ = backend.cli("rabbitmqctl", node: members.first, ["delete_queue", q.name])
                }
            } else {
                Thread.sleep(forTimeInterval: 0.5)  // a node still joining back, a partition still listed
            }
            problem = baselineProblem(m, backend: backend)
        }
        if let problem { throw Failure("the devcluster in \(m.dir) is not as `up` made it: \(problem.what)") }
    }

    /// Puts the membership back as `up` made it, the way an operator would by hand: a spare
    /// that joined leaves (`stop_app`, `reset`, its VM stopped); a member that boots on its own
    /// (it lost its disk) is forgotten by the cluster and joins it again (`stop_app`, `reset`,
    /// `forget_cluster_node`, `join_cluster`, `start_app`). Nothing is done when nothing differs.
    static func restoreMembership(_ m: Manifest, backend: RabbitMQBackend) throws {
        let members = m.nodes.filter { !$0.spare }.map(\.name)
        /// A node's own view: the members it lists and those it sees running.
        func view(_ n: String) -> (members: Set<String>, running: Set<String>)? {
            let r = backend.cli("rabbitmqctl", node: n, ["cluster_status"], json: true, timeout: 30)
            guard r.exitCode == 0, let st = try? backend.decode(BrokerAnswer.ClusterStatus.self, r) else { return nil }
            let raw = RabbitMQBackend.RawStatus(st)
            return (Set(raw.members), Set(raw.running))
        }
        // The cluster: the view of the first member that lists another member.
        var views: [String: (members: Set<String>, running: Set<String>)] = [:]
        for n in members { views[n] = view(n) }
        guard let (peer, cluster) = members.lazy.compactMap({ n in views[n].flatMap { $0.members.count > 1 ? (n, $0) : nil } }).first else { return }
        for spare in m.nodes.filter(\.spare).map(\.name) where cluster.members.contains(spare) || backend.vmMayRun(spare) {
            if backend.vmMayRun(spare), let own = view(spare), own.members.count > 1 {
                try backend.cliChecked("rabbitmqctl", node: spare, ["stop_app"])
                try backend.cliChecked("rabbitmqctl", node: spare, ["reset"])
            } else if cluster.members.contains(spare) {
                try backend.cliChecked("rabbitmqctl", node: peer, ["forget_cluster_node", spare])
            }
            if backend.vmMayRun(spare) { try backend.stop(spare) }
        }
        for n in members where n != peer {
            guard let own = views[n], !own.members.contains(peer) else { continue }
            // n boots a cluster of its own: it lost its disk and booted anew.
            try backend.cliChecked("rabbitmqctl", node: n, ["stop_app"])
            try backend.cliChecked("rabbitmqctl", node: n, ["reset"])
            if cluster.members.contains(n) { try backend.cliChecked("rabbitmqctl", node: peer, ["forget_cluster_node", n]) }
            try backend.cliChecked("rabbitmqctl", node: n, ["join_cluster", peer])
            try backend.cliChecked("rabbitmqctl", node: n, ["start_app"])
            try backend.awaitRunning(n, timeout: 120)
        }
    }

    /// What differs from the baseline, and whether a drill's leftovers (alarms, maintenance,
    /// queues) explain it; nil: at the baseline.
    static func baselineProblem(_ m: Manifest, backend: RabbitMQBackend) -> (what: String, fixable: Bool)? {
        let members = Set(m.nodes.filter { !$0.spare }.map(\.name))
        guard let s = try? backend.status() else { return ("its status cannot be read", false) }
        if Set(s.members) != members { return ("its members are \(s.members.sorted().joined(separator: ", ")), not \(members.sorted().joined(separator: ", "))", false) }
        if Set(s.running) != members { return ("running are \(s.running.sorted().joined(separator: ", "))", false) }
        if !s.partitions.isEmpty { return ("partitions are listed: \(s.partitions)", false) }
        if !s.alarms.isEmpty { return ("alarms: \(s.alarms)", true) }
        if !s.maintenance.isEmpty { return ("under maintenance: \(s.maintenance.joined(separator: ", "))", true) }
        guard let queues = try? backend.queues(type: nil) else { return ("its queues cannot be listed", false) }
        if !queues.isEmpty { return ("queues are left: \(queues.map(\.name).sorted().joined(separator: ", "))", true) }
        return nil
    }
}
