import Cluster
import Foundation

/// Reads: cluster status, nodes, queues, ping, the quorum check, health checks.
extension RabbitMQBackend {
    // MARK: Reads

    struct RawStatus {
        var clusterName: String
        var members: [String]
        var running: [String]
        var partitions: [String: [String]]
        var alarms: [String: [String]]
        var maintenance: [String]
        var versions: [String: NodeVersions]
        var listeners: [String: [(protocol: String, port: Int)]]
        var viaHTTP: Bool
    }

    func rawStatusHTTP() throws -> RawStatus? {
        for n in orderedNodes {
            guard let base = n.management else { continue }
            do {
                let overview = try http.get(BrokerAnswer.Overview.self, base: base, path: "/api/overview")
                let nodes = try http.get([BrokerAnswer.Node].self, base: base, path: "/api/nodes")
                var s = RawStatus(clusterName: overview.cluster_name ?? "", members: [], running: [],
                                  partitions: [:], alarms: [:], maintenance: [], versions: [:], listeners: [:], viaHTTP: true)
                for node in nodes {
                    s.members.append(node.name)
                    if node.running == true { s.running.append(node.name) }
                    if let p = node.partitions, !p.isEmpty { s.partitions[node.name] = p }
                    var a: [String] = []
                    if node.mem_alarm == true { a.append("memory") }
                    if node.disk_free_alarm == true { a.append("disk") }
                    if !a.isEmpty { s.alarms[node.name] = a }
                }
                if let v = overview.rabbitmq_version, let e = overview.erlang_version, let answering = overview.node {
                    s.versions[answering] = NodeVersions(rabbitmq: v, erlang: e)
                }
                for l in overview.listeners ?? [] {
                    if let node = l.node { s.listeners[node, default: []].append((l.protocol, l.port)) }
                }
                s.maintenance = maintenanceProbe(running: s.running, listeners: s.listeners)
                noteMembers(s.members, readFrom: n.name)
                return s
            } catch ManagementClient.Failure.timedOut {
                return nil
            } catch {
                continue
            }
        }
        return nil
    }

    /// The management API does not report maintenance. A drained node suspends its client
    /// listeners, so a running node whose AMQP port accepts connections is not under maintenance;
    /// for any other (or when its port cannot be reached from here) the CLI is asked.
    func maintenanceProbe(running: [String], listeners: [String: [(protocol: String, port: Int)]]) -> [String] {
        var result: [String] = []
        for n in running where nodeNames.contains(n) {
            let host = String(n.split(separator: "@").last ?? "localhost")
            let amqp = (listeners[n] ?? []).filter { $0.protocol == "amqp" || $0.protocol == "amqp/ssl" }.map(\.port)
            if !amqp.isEmpty, amqp.contains(where: { tcpReachable(host: host, port: $0, timeout: 0.3) }) {
                drainedHere.remove(n) // its listeners are back: revived by someone else
                continue
            }
            if drainedHere.contains(n) {
                result.append(n)
                continue
            }
            let r = cli("rabbitmq-diagnostics", node: n, ["status"], json: true, timeout: 30)
            if r.exitCode == 0, (try? decode(BrokerAnswer.DiagnosticsStatus.self, r))?.is_under_maintenance == true {
                result.append(n)
            }
        }
        return result.sorted()
    }

    func rawStatusCLI() throws -> RawStatus {
        let (answering, r) = try cliOnAnyNode("rabbitmqctl", ["cluster_status"])
        let s = RawStatus(try decode(BrokerAnswer.ClusterStatus.self, r))
        noteMembers(s.members, readFrom: answering)
        return s
    }

    /// Cluster status; `preferCLI` skips the management API.
    func rawStatus(preferCLI: Bool = false) throws -> RawStatus {
        probeHosts()
        if !preferCLI, let s = try rawStatusHTTP() { return s }
        do {
            return try rawStatusCLI()
        } catch let error as ClusterError where error.code == .unavailable {
            // No app runs but a VM does (the last node paused by pause_minority, or apps stopped):
            // `cluster_status` needs the app, so the inventory's members are reported, none
            // running, and buildStatus probes each one's state (`app_stopped` for a paused node).
            // Only when a node positively says so: a cookie mismatch or a boot keeps the error.
            guard orderedNodes.contains(where: { vmMayRun($0.name) && probeState($0.name) == .appStopped }) else { throw error }
            let members = orderedNodes.map(\.name)
            return RawStatus(clusterName: inventory.cluster, members: members, running: [], partitions: [:], alarms: [:],
                             maintenance: [], versions: [:], listeners: [:], viaHTTP: false)
        }
    }

    /// State of a node that is not among the running members (one `check_running`, plus
    /// `is_booting` when the VM answers but the app does not run).
    func probeState(_ node: String) -> NodeState {
        // epmd answers in a millisecond: a node it does not list has no VM (no CLI call needed).
        if !vmMayRun(node) { return .stopped }
        let r = cli("rabbitmq-diagnostics", node: node, ["check_running"], timeout: 30)
        if r.exitCode == 0 { return .running }
        if Self.isCookieMismatch(r.combined) { return .unreachable }
        if Self.isUnreachable(r.combined) || r.timedOut { return .stopped }
        let b = cli("rabbitmq-diagnostics", node: node, ["is_booting", "-q"], timeout: 30)
        return b.stdout.contains("true") ? .booting : .appStopped
    }

    func buildStatus(_ s: RawStatus) -> ClusterStatus {
        var infos: [NodeInfo] = []
        for n in inventory.nodes {
            let name = n.name
            var state: NodeState
            if s.running.contains(name) {
                state = .running
            } else if !s.members.contains(name), s.viaHTTP, let base = n.management,
                      (try? http.get(BrokerAnswer.Overview.self, base: base, path: "/api/overview")) != nil {
                state = .running // a standalone node (spare) whose management API answers
            } else {
                state = probeState(name)
            }
            infos.append(NodeInfo(name: name, state: state, underMaintenance: s.maintenance.contains(name),
                                  members: s.members.contains(name) ? s.members : [name],
                                  alarms: s.alarms[name] ?? [], partitions: s.partitions[name] ?? [],
                                  versions: s.versions[name]))
        }
        return ClusterStatus(clusterName: s.clusterName, members: s.members, running: s.running, partitions: s.partitions,
                             alarms: s.alarms, maintenance: s.maintenance, nodes: infos)
    }

    public func status() throws -> ClusterStatus { try buildStatus(rawStatus()) }

    /// `status()` through the CLI only (`cluster_status`), skipping the management API.
    public func statusViaCLI() throws -> ClusterStatus { try buildStatus(rawStatus(preferCLI: true)) }

    public func nodes() throws -> [NodeInfo] {
        try status().nodesCounting((try? queues(type: nil)) ?? [])
    }

    public func queues(type: QueueType?) throws -> [QueueInfo] {
        let all = try queuesHTTP() ?? queuesViaCLI()
        return type.map { t in all.filter { $0.type == t } } ?? all
    }

    func queuesHTTP() -> [QueueInfo]? {
        managementRead([BrokerAnswer.Queue].self, "/api/queues?columns=name,vhost,type,durable,leader,members,online,node,messages,state")?
            .map(queueInfo)
    }

    /// A GET on the first management API that answers it; nil when none does, or one stalls
    /// (then the CLI is faster than trying the others).
    func managementRead<T: Decodable>(_ type: T.Type, _ path: String) -> T? {
        probeHosts()
        for n in orderedNodes {
            guard let base = n.management else { continue }
            do {
                return try http.get(type, base: base, path: path)
            } catch ManagementClient.Failure.timedOut {
                return nil
            } catch {
                continue
            }
        }
        return nil
    }

    func queueInfo(_ q: BrokerAnswer.Queue) -> QueueInfo {
        let type = QueueType(rawValue: q.type ?? "classic") ?? .classic
        let vhost = q.vhost ?? "/"
        if type == .classic {
            let home = q.node.flatMap { $0.isEmpty ? nil : $0 }
            return QueueInfo(name: q.name, vhost: vhost, type: type, durable: q.durable ?? true,
                             leader: home, members: home.map { [$0] } ?? [], online: q.state == "down" ? [] : home.map { [$0] } ?? [],
                             messages: q.messages ?? 0, available: q.state != "down" && q.state != "stopped")
        }
        let members = q.members?.nodes ?? []
        let online = q.online?.nodes ?? []
        let leader = (q.leader ?? q.node).flatMap { $0.isEmpty ? nil : $0 }
        return QueueInfo(name: q.name, vhost: vhost, type: type, durable: q.durable ?? true,
                         leader: leader, members: members, online: online, messages: q.messages ?? 0,
                         available: !members.isEmpty && online.count > members.count / 2)
    }

    /// `list_queues` through the CLI, every virtual host.
    public func queuesViaCLI() throws -> [QueueInfo] {
        let (node, vhosts) = try vhostsViaCLI()
        var result: [QueueInfo] = []
        for vhost in vhosts {
            let r = try cliChecked("rabbitmqctl", node: node, ["list_queues", "-p", vhost, "name", "type", "durable", "leader",
                                                               "members", "online", "messages", "state"], json: true)
            var rows = try decode([BrokerAnswer.Queue].self, r)
            if rows.contains(where: { $0.type == "classic" }) {
                // The JSON formatter hides a classic queue's home node inside an opaque pid.
                let t = try cliChecked("rabbitmqctl", node: node, ["list_queues", "-p", vhost, "-s", "name", "pid"])
                var homes: [String: String] = [:]
                for line in t.stdout.split(separator: "\n") {
                    let cols = line.split(separator: "\t").map(String.init)
                    guard cols.count == 2, cols[1].hasPrefix("<") else { continue }
                    let parts = cols[1].dropFirst().dropLast().split(separator: ".")
                    if parts.count > 3 { homes[cols[0]] = parts.dropLast(3).joined(separator: ".") }
                }
                for i in rows.indices where rows[i].type == "classic" { rows[i].node = homes[rows[i].name] }
            }
            for i in rows.indices { rows[i].vhost = vhost }
            result += rows.map(queueInfo)
        }
        return result
    }

    /// The virtual hosts, and the node that listed them (to ask it about each).
    func vhostsViaCLI() throws -> (node: String, vhosts: [String]) {
        let (node, r) = try cliOnAnyNode("rabbitmqctl", ["list_vhosts", "name"])
        return (node, try decode([BrokerAnswer.VHost].self, r).map(\.name))
    }

    /// Whether the node's runtime answers. The cheap answers first: a node epmd does not list has
    /// no VM, and a node whose management API answers is up; only otherwise
    /// `rabbitmq-diagnostics ping` (a VM starting or with its app stopped).
    public func ping(_ node: String) throws -> Bool {
        let n = try resolve(node)
        if !vmMayRun(n) { return false }
        if managementAnswers(n) { return true }
        return cli("rabbitmq-diagnostics", node: n, ["ping"], timeout: 30).exitCode == 0
    }

    /// `rabbitmq-queues check_if_node_is_quorum_critical` semantics: a node under maintenance
    /// (drained) is never critical. The management endpoint of 3.10.8 does not apply that
    /// exemption (rabbit_mgmt_wm_health_check_node_is_quorum_critical.erl against
    /// check_if_node_is_quorum_critical_command.ex; the differential suite's scenario 03), so its
    /// "ok" is taken at once and its "critical" is confirmed by the CLI.
    public func quorumCritical(_ node: String) throws -> [String] {
        let n = try resolve(node)
        if let base = entry(n).management,
           let r = try? http.request("GET", base: base, path: "/api/health/checks/node-is-quorum-critical"),
           r.status == 200 {
            return []
        }
        let r = cli("rabbitmq-queues", node: n, ["check_if_node_is_quorum_critical"], json: true)
        if r.exitCode == 0 { return [] }
        if r.exitCode == 69, let o = try? decode(BrokerAnswer.QuorumCheck.self, r), o.result == "error" {
            return (o.queues ?? []).map(\.name)
        }
        throw cliError("rabbitmq-queues", node: n, args: ["check_if_node_is_quorum_critical"], r)
    }

    public func awaitOnlineQuorumPlusOne(_ node: String, timeout: Double) throws {
        let n = try resolve(node)
        let seconds = String(max(1, Int(timeout.rounded(.up))))
        try cliChecked("rabbitmq-upgrade", node: n, ["await_online_quorum_plus_one", "--timeout", seconds], timeout: timeout + 30)
    }

    public func health(_ node: String) throws -> [HealthCheck] {
        let n = try resolve(node)
        let host = String(n.split(separator: "@").last ?? "localhost")
        if let base = entry(n).management, let overview = try? http.get(BrokerAnswer.Overview.self, base: base, path: "/api/overview"),
           overview.node == n {
            var checks = [HealthCheck(name: "running", ok: true, detail: "management API answers")]
            for (name, path) in [("local_alarms", "local-alarms"), ("virtual_hosts", "virtual-hosts")] {
                if let r = try? http.request("GET", base: base, path: "/api/health/checks/\(path)") {
                    checks.append(HealthCheck(name: name, ok: r.status == 200, detail: r.status == 200 ? "" : r.text))
                }
            }
            let ports = (overview.listeners ?? []).filter { $0.node == n }.map(\.port)
            let closed = ports.filter { !tcpReachable(host: host, port: $0, timeout: 1) }
            checks.append(HealthCheck(name: "port_connectivity", ok: closed.isEmpty,
                                      detail: closed.isEmpty ? "ports \(ports.map(String.init).joined(separator: ",")) accept connections"
                                                             : "ports not accepting connections: \(closed.map(String.init).joined(separator: ","))"))
            if checks.count == 4 { return checks + versionedChecks(n) }
        }
        var checks: [HealthCheck] = []
        for (name, cmd) in [("running", "check_running"), ("local_alarms", "check_local_alarms"),
                            ("port_connectivity", "check_port_connectivity"), ("virtual_hosts", "check_virtual_hosts")] {
            let r = cli("rabbitmq-diagnostics", node: n, [cmd], timeout: 30)
            checks.append(HealthCheck(name: name, ok: r.exitCode == 0, detail: redactor.redact(cleanCLIMessage(r.combined))))
        }
        return checks + versionedChecks(n)
    }

    /// The newer health checks, where the node's release has them (the version table's
    /// `commands`: metadata store initialised from 4.0.6, quorum queues without a leader from
    /// 4.0.8). 3.10.8 has neither: modelled, not run on a real broker here.
    func versionedChecks(_ n: String) -> [HealthCheck] {
        guard let text = (try? rawStatus())?.versions[n]?.rabbitmq ?? (try? rawStatus(preferCLI: true))?.versions[n]?.rabbitmq, let v = try? RabbitMQVersion(parsing: text),
              let rules = try? VersionTable.rules(for: v) else { return [] }
        var checks: [HealthCheck] = []
        for (command, args) in [(VersionedCommand.checkIfMetadataStoreIsInitialized, [String]()),
                                (.checkForQuorumQueuesWithoutAnElectedLeader, ["--across-all-vhosts", ".*"])]
        where rules.has(command, patch: v.patch) {
            let r = cli("rabbitmq-diagnostics", node: n, [command.rawValue] + args, timeout: 30)
            checks.append(HealthCheck(name: command.rawValue, ok: r.exitCode == 0, detail: redactor.redact(cleanCLIMessage(r.combined))))
        }
        return checks
    }

}

extension RabbitMQBackend.RawStatus {
    /// What `rabbitmqctl cluster_status --formatter json` says.
    init(_ o: BrokerAnswer.ClusterStatus) {
        // Without a list of running nodes (4.1.2-4.1.3), those with versions: only running nodes have one.
        let running = o.running_nodes.map { $0.names ?? (o.versions ?? [:]).keys.sorted() } ?? []
        self.init(clusterName: o.cluster_name ?? "", members: (o.disk_nodes ?? []) + (o.ram_nodes ?? []),
                  running: running, partitions: [:], alarms: [:], maintenance: [], versions: [:], listeners: [:], viaHTTP: false)
        for (node, list) in o.partitions?.value ?? [:] where !list.isEmpty { partitions[node] = list }
        for a in o.alarms ?? [] { alarms[a.node ?? "?", default: []].append(a.resource ?? "alarm") }
        for (node, text) in o.maintenance_status ?? [:] where !stripANSI(text).contains("not under maintenance") {
            maintenance.append(node)
        }
        maintenance.sort()
        for (node, v) in o.versions ?? [:] { versions[node] = NodeVersions(rabbitmq: v.rabbitmq_version, erlang: v.erlang_version) }
        for (node, ls) in o.listeners ?? [:] {
            for l in ls { listeners[node, default: []].append((l.protocol, l.port)) }
        }
    }
}
