import Cluster
import Foundation

/// The real backend: a RabbitMQ cluster described by an ``Inventory``.
///
/// Changes go through the CLI tools (`rabbitmqctl`, `rabbitmq-diagnostics`, `rabbitmq-queues`,
/// `rabbitmq-upgrade`, with `-n NODE`); reads go to the management HTTP API first, each call
/// time-boxed (`management.timeout`, 2 s), and fall back to the CLI (`--formatter json`) when the
/// API is down, slow or has no credentials. Node start/stop run the inventory's commands. Before
/// the first change, the cluster's name must equal the inventory's `cluster`.
public final class RabbitMQBackend: Backend {
    public let inventory: Inventory
    /// Hides secrets in everything handed to ``onCommand`` and in error messages.
    public private(set) var redactor: Redactor
    /// Called after every command (CLI, start/stop, HTTP) with its redacted record: the journal hook.
    public var onCommand: ((CommandRecord) -> Void)?
    /// Check the cluster name before the first change (`devcluster` turns it off while forming).
    public var verifyClusterName = true
    /// Deadline for one CLI call.
    public var cliTimeout: Double = 120
    /// Asked while a command runs or the backend waits between polls: true (Ctrl-C) ends the
    /// command's process group and fails the primitive with ``ClusterError/Code/interrupted``,
    /// instead of letting a `await_startup --timeout 300` run its course.
    public var interruptRequested: () -> Bool = { false }
    /// How long the inventory's start command may run (it returns once the node is launched).
    public var startCommandTimeout: Double = 120
    /// How long `start` polls `ping` after the start command, and `stop` waits for the VM to go.
    public var startTimeout: Double = 90
    public var stopTimeout: Double = 90

    /// Things the operator should know about this target before using it (e.g. no management
    /// credentials in the environment, so every read goes through the slower CLI).
    public let notices: [String]

    let http: ManagementClient
    let environment: [String: String]
    private var identityChecked = false
    /// Nodes this backend drained and has not restarted or revived since: their closed AMQP port
    /// is that drain, no CLI call needed to tell (see `maintenanceProbe`).
    private var drainedHere: Set<String> = []

    public init(inventory: Inventory, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.inventory = inventory
        self.environment = environment
        self.redactor = Redactor(inventory: inventory, environment: environment)
        self.http = ManagementClient(timeout: inventory.httpTimeout, credentials: inventory.credentials(environment: environment))
        var notices: [String] = []
        if inventory.credentials(environment: environment) == nil {
            let names = [inventory.userEnv, inventory.passwordEnv].compactMap { $0 }
            notices.append(names.isEmpty
                ? "the inventory names no management credentials (management.user_env/password_env): reads use the CLI tools"
                : "\(names.joined(separator: " and ")) not set in the environment: reads use the CLI tools, changes that need the management API fail")
        }
        if inventory.nodes.allSatisfy({ $0.management == nil }) {
            notices.append("no node has a management URL: reads use the CLI tools")
        }
        self.notices = notices
        self.http.onRequest = { [weak self] record in self?.record(record) }
    }

    /// Loads the inventory file and builds the backend.
    public convenience init(inventoryPath: String) throws {
        self.init(inventory: try Inventory.load(path: inventoryPath))
    }

    public var targetDescription: String { inventory.cluster }
    public var nodeNames: [String] { inventory.nodes.map(\.name) }

    func record(_ r: CommandRecord) {
        guard let hook = onCommand else { return }
        var r = r
        r.argv = r.argv.map(redactor.redact)
        // Redacted before it is cut: a cut through a secret would leave its first part readable.
        r.output = String(redactor.redact(r.output).prefix(4096))
        hook(r)
    }

    // MARK: Names

    public func resolve(_ node: String) throws -> String {
        let names = nodeNames
        if names.contains(node) { return node }
        let byName = names.filter { $0.split(separator: "@").first.map(String.init) == node }
        if byName.count == 1 { return byName[0] }
        let byHost = names.filter { $0.split(separator: "@").last.map(String.init) == node }
        if byHost.count == 1 { return byHost[0] }
        throw ClusterError.unknownNode(node, known: names)
    }

    func entry(_ node: String) -> Inventory.Node { inventory.nodes.first { $0.name == node }! }

    /// Members first (as listed), then the spares seen in the cluster: a spare that has not
    /// joined is a standalone node, and its answer would describe its own one-node "cluster"
    /// (e.g. during a full startup, when no member runs yet).
    var orderedNodes: [Inventory.Node] {
        inventory.nodes.filter { !$0.spare } + inventory.nodes.filter { $0.spare && joinedSpares.contains($0.name) }
    }
    /// Spares that the last status read from a member listed as members (after add-node).
    private var joinedSpares: Set<String> = []

    /// Learns which spares have joined from a status a member gave.
    private func noteMembers(_ members: [String], readFrom node: String) {
        guard inventory.nodes.contains(where: { $0.name == node && !$0.spare }) else { return }
        joinedSpares = Set(inventory.nodes.filter { $0.spare && members.contains($0.name) }.map(\.name))
    }

    // MARK: Running the CLI

    func cliEnvironment(for node: String?) -> [String: String] {
        var env = environment
        for (k, v) in inventory.cliEnv { env[k] = v }
        if let n = node { for (k, v) in entry(n).env { env[k] = v } }
        return env
    }

    /// Runs a CLI tool; never throws (see ``cliChecked``).
    @discardableResult
    func cli(_ tool: String, node: String?, _ args: [String], json: Bool = false, timeout: Double? = nil) -> ProcessResult {
        var argv: [String] = []
        if let n = node { argv += ["-n", n] }
        argv += args
        if json { argv += ["--formatter", "json"] }
        let exe = (inventory.cliPath as NSString).appendingPathComponent(tool)
        let result = ProcessRunner.run(exe, argv, environment: cliEnvironment(for: node), timeout: timeout ?? cliTimeout,
                                       interrupted: interruptRequested)
        record(CommandRecord(kind: .cli, argv: [exe] + argv, exitCode: result.exitCode, duration: result.duration,
                             output: result.combined, timedOut: result.timedOut))
        return result
    }

    /// Runs a CLI tool and maps a failure to a ``ClusterError`` with the tool's own message.
    @discardableResult
    func cliChecked(_ tool: String, node: String?, _ args: [String], json: Bool = false, timeout: Double? = nil) throws -> ProcessResult {
        let r = cli(tool, node: node, args, json: json, timeout: timeout)
        if r.exitCode == 0 { return r }
        throw cliError(tool, node: node, args: args, r)
    }

    func cliError(_ tool: String, node: String?, args: [String], _ r: ProcessResult) -> ClusterError {
        let what = ([tool] + (node.map { ["-n", $0] } ?? []) + args).joined(separator: " ")
        if r.interrupted { return Self.interrupted("`\(what)` was stopped before it finished", node: node) }
        if r.timedOut {
            return ClusterError(.timeout, "timed out: `\(what)` did not finish within \(Int(r.duration.rounded())) s and was stopped", node: node)
        }
        if r.exitCode == 127 {
            return ClusterError(.unavailable, "cannot run \(tool) from \(inventory.cliPath): \(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines)). "
                + "Install RabbitMQ (`apt-get install rabbitmq-server`) or fix `cli.path` in the inventory.", node: node)
        }
        var message = cleanCLIMessage(r.combined)
        if message.isEmpty { message = "`\(what)` failed with exit code \(r.exitCode)" }
        if Self.isCookieMismatch(r.combined) {
            message += "\nThe CLI tools read the Erlang cookie from \(inventory.effectiveCookieFile) (HOME=\(cliEnvironment(for: node)["HOME"] ?? "?")); "
                + "it must hold the same cookie as the nodes. Its value is not shown."
        }
        let code = ClusterError.Code(rawValue: r.exitCode) ?? .software
        return ClusterError(code, redactor.redact(message), node: node)
    }

    /// Whether the CLI reached the node's port but was refused: a cookie mismatch.
    static func isCookieMismatch(_ output: String) -> Bool {
        output.contains("Erlang distribution failed") || output.contains("check if the Erlang cookie is identical")
    }

    /// Whether the CLI could not reach the node at all (VM down, host unreachable, cookie).
    static func isUnreachable(_ output: String) -> Bool {
        output.contains("DIAGNOSTICS") || output.contains("Failed to connect and authenticate")
    }

    /// The CLI's message without the usage text and the "Arguments given" noise; for a node that
    /// cannot be reached, the first line and the diagnostics about that node only.
    func cleanCLIMessage(_ text: String) -> String {
        let all = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if let d = all.firstIndex(of: "DIAGNOSTICS") {
            let first = all.first { $0.hasPrefix("Error") } ?? all[0]
            let end = all[d...].firstIndex { $0.hasPrefix("Current node details") } ?? all.endIndex
            let details = all[d..<end].filter { $0.hasPrefix("  *") || $0.hasPrefix("   ") }
                .map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.contains("see the CLI, clustering and networking guides") && !$0.contains("TLS") }
            return ([first.replacingOccurrences(of: " Please see diagnostics information and suggestions below.", with: "")] + details)
                .joined(separator: "\n")
        }
        var lines: [String] = []
        for l in all {
            if l.contains("Usage") { break }
            if l.hasPrefix("Arguments given") || l.hasPrefix("\t-n ") { continue }
            lines.append(l)
        }
        let joined = lines.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        let capped = joined.split(separator: "\n", omittingEmptySubsequences: false).prefix(30).joined(separator: "\n")
        return capped.replacingOccurrences(of: "Error:\n", with: "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func decode(_ r: ProcessResult) throws -> Any {
        // The JSON document may be preceded by log or error lines, and some commands print it on
        // standard error when they fail: try the whole text, then from each line that opens one.
        for text in [r.stdout, r.stderr] {
            if let j = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]),
               j is [Any] || j is [String: Any] { return j }
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                guard line.first == "{" || line.first == "[" else { continue }
                if let j = try? JSONSerialization.jsonObject(with: Data(text[line.startIndex...].utf8)) { return j }
            }
        }
        throw ClusterError(.software, "could not parse the CLI's JSON output: \(redactor.redact(String(r.combined.prefix(300))))")
    }

    /// Runs a read on the first node whose VM answers; exit 69/78 (down, cookie) moves on to the next.
    func cliOnAnyNode(_ tool: String, _ args: [String], json: Bool = true, prefer: [String] = []) throws -> (node: String, result: ProcessResult) {
        var errors: [(ClusterError, ProcessResult)] = []
        let order = prefer + orderedNodes.map(\.name).filter { !prefer.contains($0) }
        for n in order {
            if !vmMayRun(n) {
                let host = n.split(separator: "@").last.map(String.init) ?? "?"
                errors.append((ClusterError(.unavailable, "\(n) is not running (epmd on \(host) does not list it)", node: n), ProcessResult(exitCode: 69, stdout: "", stderr: "", duration: 0, timedOut: false)))
                continue
            }
            let r = cli(tool, node: n, args, json: json, timeout: min(cliTimeout, 30))
            if r.exitCode == 0 { return (n, r) }
            let err = cliError(tool, node: n, args: args, r)
            if ![69, 75, 78, -1].contains(r.exitCode) { throw err }
            errors.append((err, r))
        }
        // A cookie mismatch explains more than "node down"; else the first (a member's) error.
        guard let chosen = errors.first(where: { Self.isCookieMismatch($0.1.combined) }) ?? errors.first else {
            throw ClusterError(.unavailable, "the inventory of \(inventory.cluster) lists no node")
        }
        var e = chosen.0
        e.message = "no node of \(inventory.cluster) answered `\(tool) \(args.joined(separator: " "))`; \(chosen.0.node ?? "?"): " + e.message
        throw e
    }

    /// Whether epmd on the node's host lists the node (its VM is up: it registers as soon as its
    /// distribution listener runs, and is gone the moment the VM exits); nil when epmd cannot be
    /// asked. One TCP round trip, against 0.5-1 s for a CLI call.
    func epmdRegistered(_ node: String) -> Bool? {
        let parts = node.split(separator: "@").map(String.init)
        guard parts.count == 2, let names = epmdNames(host: parts[1]) else { return nil }
        return names.contains(parts[0])
    }

    /// False only when epmd on the node's host answers and does not list the node (no VM there):
    /// lets reads skip a down node without a CLI call.
    func vmMayRun(_ node: String) -> Bool { epmdRegistered(node) ?? true }

    /// Whether the node's own management API answers (only a booted node serves it).
    func managementAnswers(_ node: String) -> Bool {
        guard let base = entry(node).management,
              let o = try? http.getJSON(base: base, path: "/api/overview") as? [String: Any] else { return false }
        return o["node"] as? String == node
    }

    /// The first running node other than `excluding`, for commands that must run on a live member.
    func executor(excluding: String? = nil) throws -> String {
        for n in orderedNodes.map(\.name) where n != excluding {
            if (try? ping(n)) == true { return n }  // ping asks epmd first: a down node costs no CLI call
        }
        throw ClusterError(.unavailable, "no running node of \(inventory.cluster) answers ping" + (excluding.map { " (other than \($0))" } ?? ""))
    }

    // MARK: Identity

    /// The cluster's name: management API first, then `cluster_status`.
    public func clusterName() throws -> String {
        for n in orderedNodes {
            guard let base = n.management else { continue }
            do {
                if let o = try http.getJSON(base: base, path: "/api/overview") as? [String: Any], let name = o["cluster_name"] as? String {
                    return name
                }
            } catch ManagementClient.Failure.timedOut { break } catch { continue }
        }
        let (_, r) = try cliOnAnyNode("rabbitmqctl", ["cluster_status"])
        guard let o = try decode(r) as? [String: Any], let name = o["cluster_name"] as? String else {
            throw ClusterError(.software, "cluster_status did not report a cluster_name")
        }
        return name
    }

    /// Before any change: the cluster must be the one the inventory names. Checked once, cached.
    /// - Parameter allowUnreachable: when no node answers (full cluster start), let the change go on.
    func ensureIdentity(allowUnreachable: Bool = false) throws {
        guard verifyClusterName, !identityChecked else { return }
        let name: String
        do {
            name = try clusterName()
        } catch {
            if allowUnreachable { return }
            throw ClusterError(.unavailable, "cannot check that this is cluster '\(inventory.cluster)' before changing it: \(error). Nothing was changed.")
        }
        guard name == inventory.cluster else {
            throw ClusterError(.dataError, "the cluster answering is named '\(name)', but the inventory \(inventory.path ?? "") expects '\(inventory.cluster)'. "
                + "Nothing was changed. Check that the inventory targets this cluster (or set the name with `rabbitmqctl set_cluster_name`).")
        }
        identityChecked = true
    }

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
                guard let overview = try http.getJSON(base: base, path: "/api/overview") as? [String: Any],
                      let nodes = try http.getJSON(base: base, path: "/api/nodes") as? [[String: Any]] else { continue }
                var s = RawStatus(clusterName: overview["cluster_name"] as? String ?? "", members: [], running: [],
                                  partitions: [:], alarms: [:], maintenance: [], versions: [:], listeners: [:], viaHTTP: true)
                for node in nodes {
                    guard let name = node["name"] as? String else { continue }
                    s.members.append(name)
                    if node["running"] as? Bool == true { s.running.append(name) }
                    if let p = node["partitions"] as? [String], !p.isEmpty { s.partitions[name] = p }
                    var a: [String] = []
                    if node["mem_alarm"] as? Bool == true { a.append("memory") }
                    if node["disk_free_alarm"] as? Bool == true { a.append("disk") }
                    if !a.isEmpty { s.alarms[name] = a }
                }
                if let v = overview["rabbitmq_version"] as? String, let e = overview["erlang_version"] as? String,
                   let answering = overview["node"] as? String {
                    s.versions[answering] = NodeVersions(rabbitmq: v, erlang: e)
                }
                for l in overview["listeners"] as? [[String: Any]] ?? [] {
                    if let node = l["node"] as? String, let proto = l["protocol"] as? String, let port = l["port"] as? Int {
                        s.listeners[node, default: []].append((proto, port))
                    }
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
            if r.exitCode == 0, let o = try? decode(r) as? [String: Any], o["is_under_maintenance"] as? Bool == true {
                result.append(n)
            }
        }
        return result.sorted()
    }

    func rawStatusCLI() throws -> RawStatus {
        let (answering, r) = try cliOnAnyNode("rabbitmqctl", ["cluster_status"])
        guard let o = try decode(r) as? [String: Any] else { throw ClusterError(.software, "cluster_status: unexpected output") }
        var s = RawStatus(clusterName: o["cluster_name"] as? String ?? "",
                          members: (o["disk_nodes"] as? [String] ?? []) + (o["ram_nodes"] as? [String] ?? []),
                          running: o["running_nodes"] as? [String] ?? [], partitions: [:], alarms: [:], maintenance: [],
                          versions: [:], listeners: [:], viaHTTP: false)
        noteMembers(s.members, readFrom: answering)
        for (node, p) in o["partitions"] as? [String: Any] ?? [:] {
            if let list = p as? [String], !list.isEmpty { s.partitions[node] = list }
        }
        // alarms: [{"node":..,"resource":"memory"|"disk"...}] or strings, depending on the alarm kind
        for a in o["alarms"] as? [Any] ?? [] {
            if let d = a as? [String: Any] {
                let node = d["node"] as? String ?? "?"
                s.alarms[node, default: []].append(d["resource"] as? String ?? d["type"] as? String ?? "alarm")
            } else if let t = a as? String {
                s.alarms["?", default: []].append(t)
            }
        }
        for (node, m) in o["maintenance_status"] as? [String: Any] ?? [:] {
            if let text = m as? String, text != "not under maintenance" { s.maintenance.append(node) }
        }
        s.maintenance.sort()
        for (node, v) in o["versions"] as? [String: Any] ?? [:] {
            if let d = v as? [String: Any], let rv = d["rabbitmq_version"] as? String, let ev = d["erlang_version"] as? String {
                s.versions[node] = NodeVersions(rabbitmq: rv, erlang: ev)
            }
        }
        for (node, ls) in o["listeners"] as? [String: Any] ?? [:] {
            for l in ls as? [[String: Any]] ?? [] {
                if let proto = l["protocol"] as? String, let port = l["port"] as? Int { s.listeners[node, default: []].append((proto, port)) }
            }
        }
        return s
    }

    /// Cluster status; `preferCLI` skips the management API.
    func rawStatus(preferCLI: Bool = false) throws -> RawStatus {
        if !preferCLI, let s = try rawStatusHTTP() { return s }
        return try rawStatusCLI()
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
                      (try? http.getJSON(base: base, path: "/api/overview")) != nil {
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

    func queuesHTTP() throws -> [QueueInfo]? {
        for n in orderedNodes {
            guard let base = n.management else { continue }
            do {
                guard let list = try http.getJSON(base: base, path: "/api/queues?columns=name,vhost,type,durable,leader,members,online,node,messages,state")
                        as? [[String: Any]] else { continue }
                return list.compactMap(queueInfo)
            } catch ManagementClient.Failure.timedOut {
                return nil
            } catch {
                continue
            }
        }
        return nil
    }

    func queueInfo(_ q: [String: Any]) -> QueueInfo? {
        guard let name = q["name"] as? String else { return nil }
        let type = QueueType(rawValue: q["type"] as? String ?? "classic") ?? .classic
        let state = q["state"] as? String
        if type == .classic {
            let home = (q["node"] as? String).flatMap { $0.isEmpty ? nil : $0 }
            return QueueInfo(name: name, vhost: q["vhost"] as? String ?? "/", type: type, durable: q["durable"] as? Bool ?? true,
                             leader: home, members: home.map { [$0] } ?? [], online: state == "down" ? [] : home.map { [$0] } ?? [],
                             messages: q["messages"] as? Int ?? 0, available: state != "down" && state != "stopped")
        }
        let members = q["members"] as? [String] ?? []
        let online = q["online"] as? [String] ?? []
        let leader = (q["leader"] as? String).flatMap { $0.isEmpty ? nil : $0 }
        return QueueInfo(name: name, vhost: q["vhost"] as? String ?? "/", type: type, durable: q["durable"] as? Bool ?? true,
                         leader: leader, members: members, online: online, messages: q["messages"] as? Int ?? 0,
                         available: !members.isEmpty && online.count > members.count / 2)
    }

    /// `list_queues` through the CLI, every virtual host.
    public func queuesViaCLI() throws -> [QueueInfo] {
        let (node, vr) = try cliOnAnyNode("rabbitmqctl", ["list_vhosts", "name"])
        let vhosts = (try decode(vr) as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        var result: [QueueInfo] = []
        for vhost in vhosts {
            let r = try cliChecked("rabbitmqctl", node: node, ["list_queues", "-p", vhost, "name", "type", "durable", "leader",
                                                               "members", "online", "messages", "state"], json: true)
            var rows = try decode(r) as? [[String: Any]] ?? []
            if rows.contains(where: { ($0["type"] as? String) == "classic" }) {
                // The JSON formatter hides a classic queue's home node inside an opaque pid.
                let t = try cliChecked("rabbitmqctl", node: node, ["list_queues", "-p", vhost, "-s", "name", "pid"])
                var homes: [String: String] = [:]
                for line in t.stdout.split(separator: "\n") {
                    let cols = line.split(separator: "\t").map(String.init)
                    guard cols.count == 2, cols[1].hasPrefix("<") else { continue }
                    let parts = cols[1].dropFirst().dropLast().split(separator: ".")
                    if parts.count > 3 { homes[cols[0]] = parts.dropLast(3).joined(separator: ".") }
                }
                for i in rows.indices where (rows[i]["type"] as? String) == "classic" {
                    rows[i]["node"] = homes[rows[i]["name"] as? String ?? ""]
                }
            }
            for i in rows.indices { rows[i]["vhost"] = vhost }
            result += rows.compactMap(queueInfo)
        }
        return result
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

    public func quorumCritical(_ node: String) throws -> [String] {
        let n = try resolve(node)
        if let base = entry(n).management {
            do {
                let r = try http.request("GET", base: base, path: "/api/health/checks/node-is-quorum-critical")
                if r.status == 200 { return [] }
                if r.status == 503, let o = r.json as? [String: Any] {
                    return (o["queues"] as? [Any] ?? []).compactMap { ($0 as? [String: Any])?["name"] as? String ?? $0 as? String }
                }
            } catch {}
        }
        let r = cli("rabbitmq-queues", node: n, ["check_if_node_is_quorum_critical"], json: true)
        if r.exitCode == 0 { return [] }
        if r.exitCode == 69, let o = try? decode(r) as? [String: Any], o["result"] as? String == "error" {
            return (o["queues"] as? [Any] ?? []).compactMap { ($0 as? [String: Any])?["name"] as? String ?? $0 as? String }
        }
        throw cliError("rabbitmq-queues", node: n, args: ["check_if_node_is_quorum_critical"], r)
    }

    public func health(_ node: String) throws -> [HealthCheck] {
        let n = try resolve(node)
        let host = String(n.split(separator: "@").last ?? "localhost")
        if let base = entry(n).management, let overview = try? http.getJSON(base: base, path: "/api/overview") as? [String: Any],
           overview["node"] as? String == n {
            var checks = [HealthCheck(name: "running", ok: true, detail: "management API answers")]
            for (name, path) in [("local_alarms", "local-alarms"), ("virtual_hosts", "virtual-hosts")] {
                if let r = try? http.request("GET", base: base, path: "/api/health/checks/\(path)") {
                    checks.append(HealthCheck(name: name, ok: r.status == 200, detail: r.status == 200 ? "" : r.text))
                }
            }
            let ports = (overview["listeners"] as? [[String: Any]] ?? []).filter { $0["node"] as? String == n }.compactMap { $0["port"] as? Int }
            let closed = ports.filter { !tcpReachable(host: host, port: $0, timeout: 1) }
            checks.append(HealthCheck(name: "port_connectivity", ok: closed.isEmpty,
                                      detail: closed.isEmpty ? "ports \(ports.map(String.init).joined(separator: ",")) accept connections"
                                                             : "ports not accepting connections: \(closed.map(String.init).joined(separator: ","))"))
            if checks.count == 4 { return checks }
        }
        var checks: [HealthCheck] = []
        for (name, cmd) in [("running", "check_running"), ("local_alarms", "check_local_alarms"),
                            ("port_connectivity", "check_port_connectivity"), ("virtual_hosts", "check_virtual_hosts")] {
            let r = cli("rabbitmq-diagnostics", node: n, [cmd], timeout: 30)
            checks.append(HealthCheck(name: name, ok: r.exitCode == 0, detail: redactor.redact(cleanCLIMessage(r.combined))))
        }
        return checks
    }

    // MARK: Node lifecycle

    func runShell(_ command: String, node: String, timeout: Double) -> ProcessResult {
        let r = ProcessRunner.run("/bin/sh", ["-c", command], environment: cliEnvironment(for: node), timeout: timeout,
                                  interrupted: interruptRequested)
        record(CommandRecord(kind: .shell, argv: ["/bin/sh", "-c", command], exitCode: r.exitCode, duration: r.duration,
                             output: r.combined, timedOut: r.timedOut))
        return r
    }

    /// The last lines of the node's log (inventory `log`), redacted, for error messages.
    public func lastLogLines(_ node: String, count: Int = 15) -> String {
        guard let path = entry(node).log, let text = try? String(contentsOfFile: path, encoding: .utf8) else { return "" }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true).suffix(count)
        return redactor.redact("last lines of \(path):\n" + lines.map { "  " + $0 }.joined(separator: "\n"))
    }

    public func start(_ node: String) throws {
        let n = try resolve(node)
        drainedHere.remove(n)
        try ensureIdentity(allowUnreachable: true)
        // A VM already registered with epmd is up or booting: starting it again would launch a
        // second one for the same node. Wait for it instead.
        let r = epmdRegistered(n) == true ? ProcessResult.skipped : runShell(entry(n).start, node: n, timeout: startCommandTimeout)
        if r.interrupted { throw Self.interrupted("the start command of \(n) was stopped before it finished", node: n) }
        if r.exitCode != 0 {
            var m = r.timedOut ? "the start command of \(n) did not finish within \(Int(startCommandTimeout)) s and was stopped: `\(entry(n).start)`"
                : "the start command of \(n) failed (exit \(r.exitCode)): `\(entry(n).start)`"
            if !r.combined.isEmpty { m += "\n" + r.combined }
            let log = lastLogLines(n)
            if !log.isEmpty { m += "\n" + log }
            throw ClusterError(r.timedOut ? .timeout : .unavailable, redactor.redact(m), node: n)
        }
        // Up once epmd lists the VM (polled: a TCP round trip each); without epmd, once it answers ping.
        let deadline = now() + startTimeout
        while now() < deadline {
            if try epmdRegistered(n) ?? ping(n) { return }
            try pause(0.2, waitingFor: "\(n) to come up")
        }
        var m = "\(n) did not answer ping within \(Int(startTimeout)) s after its start command"
        let log = lastLogLines(n)
        if !log.isEmpty { m += "\n" + log }
        throw ClusterError(.timeout, m, node: n)
    }

    public func stop(_ node: String) throws {
        let n = try resolve(node)
        drainedHere.remove(n)
        try ensureIdentity()
        let r = runShell(entry(n).stop, node: n, timeout: stopTimeout)
        if r.interrupted { throw Self.interrupted("the stop command of \(n) was stopped before it finished", node: n) }
        if r.exitCode != 0 {
            let what = r.timedOut ? "did not finish within \(Int(stopTimeout)) s and was stopped" : "failed (exit \(r.exitCode))"
            throw ClusterError(r.timedOut ? .timeout : .unavailable,
                               redactor.redact("the stop command of \(n) \(what): `\(entry(n).stop)`\n\(r.combined)"), node: n)
        }
        let deadline = now() + stopTimeout
        while now() < deadline {
            if !(try ping(n)) { return }
            try pause(0.2, waitingFor: "\(n) to go down")
        }
        throw ClusterError(.timeout, "\(n) still answers ping \(Int(stopTimeout)) s after its stop command", node: n)
    }

    func change(_ tool: String, _ node: String, _ args: [String]) throws {
        let n = try resolve(node)
        try ensureIdentity()
        drainedHere.remove(n)
        try cliChecked(tool, node: n, args)
        if args == ["drain"] { drainedHere.insert(n) }
    }

    public func startApp(_ node: String) throws { try change("rabbitmqctl", node, ["start_app"]) }
    public func stopApp(_ node: String) throws { try change("rabbitmqctl", node, ["stop_app"]) }
    public func reset(_ node: String) throws { try change("rabbitmqctl", node, ["reset"]) }
    public func forceReset(_ node: String) throws { try change("rabbitmqctl", node, ["force_reset"]) }
    public func forceBoot(_ node: String) throws { try change("rabbitmqctl", node, ["force_boot"]) }
    public func drain(_ node: String) throws { try change("rabbitmq-upgrade", node, ["drain"]) }
    public func revive(_ node: String) throws { try change("rabbitmq-upgrade", node, ["revive"]) }

    public func awaitRunning(_ node: String, timeout: Double) throws {
        let n = try resolve(node)
        let deadline = now() + timeout
        while true {
            // await_startup fails at once while the VM is not up yet: wait for epmd to list it
            // (or, without epmd, for ping to answer).
            while !(try epmdRegistered(n) ?? ping(n)) {
                if now() >= deadline {
                    throw ClusterError(.timeout, "timed out: \(n) did not answer ping within \(Int(timeout)) s", node: n)
                }
                try pause(0.2, waitingFor: "\(n) to come up")
            }
            let remaining = max(1, Int((deadline - now()).rounded(.up)))
            let r = cli("rabbitmqctl", node: n, ["await_startup", "--timeout", String(remaining)], timeout: Double(remaining) + 15)
            if r.exitCode == 0 { return }
            // A VM that registered a moment ago may not take the call yet: try again while time is left.
            if r.duration < 5, Self.isUnreachable(r.combined), !Self.isCookieMismatch(r.combined), now() + 0.5 < deadline {
                try pause(0.5, waitingFor: "\(n) to take await_startup")
                continue
            }
            throw cliError("rabbitmqctl", node: n, args: ["await_startup"], r)
        }
    }

    // MARK: Membership

    public func join(_ node: String, seed: String) throws {
        let n = try resolve(node)
        let s = try resolve(seed)
        try ensureIdentity()
        try cliChecked("rabbitmqctl", node: n, ["join_cluster", s])
    }

    public func forget(_ target: String, from executor: String, offline: Bool) throws {
        let t = try resolve(target)
        let e = try resolve(executor)
        try ensureIdentity(allowUnreachable: offline)
        try cliChecked("rabbitmqctl", node: e, ["forget_cluster_node"] + (offline ? ["--offline"] : []) + [t])
    }

    // MARK: Queues

    func membershipResults(_ r: ProcessResult) throws -> [String] {
        let rows = try decode(r) as? [[String: Any]] ?? []
        return rows.filter { ($0["result"] as? String) == "ok" }.compactMap { $0["name"] as? String }
    }

    @discardableResult
    public func grow(_ node: String, strategy: GrowStrategy) throws -> [String] {
        let n = try resolve(node)
        try ensureIdentity()
        let e = (try? ping(n)) == true ? n : try executor(excluding: n)
        return try membershipResults(cliChecked("rabbitmq-queues", node: e, ["grow", n, strategy.rawValue], json: true))
    }

    @discardableResult
    public func shrink(_ node: String) throws -> [String] {
        let n = try resolve(node)
        try ensureIdentity()
        let e = try executor(excluding: n)
        return try membershipResults(cliChecked("rabbitmq-queues", node: e, ["shrink", n], json: true))
    }

    public func rebalance(_ kind: String) throws {
        try ensureIdentity()
        try cliChecked("rabbitmq-queues", node: try executor(), ["rebalance", kind])
    }

    /// A management URL to send a write to: the given node's, else the first that answers.
    func managementBase(_ node: String?) throws -> String {
        if let n = node {
            let name = try resolve(n)
            guard let base = entry(name).management else {
                throw ClusterError(.unavailable, "\(name) has no management URL in the inventory; this operation needs the management API", node: name)
            }
            return base
        }
        var refused: [String] = []
        for n in orderedNodes {
            guard let base = n.management, let status = (try? http.request("GET", base: base, path: "/api/overview"))?.status else { continue }
            if status == 200 { return base }
            if status == 401 || status == 403 { refused.append(n.name) }
        }
        if !refused.isEmpty { throw credentialsRefused(refused.joined(separator: ", ")) }
        throw ClusterError(.unavailable, "no management API of \(inventory.cluster) answers; this operation needs it (credentials: \(credentialVariables))")
    }

    var credentialVariables: String { "$\(inventory.userEnv ?? "unset") / $\(inventory.passwordEnv ?? "unset")" }

    func credentialsRefused(_ where: String) -> ClusterError {
        ClusterError(.unavailable, "the management API of \(`where`) refused the credentials from \(credentialVariables); this operation needs it. "
            + "Check the user and password those variables hold. Nothing was changed")
    }

    func httpWrite(_ method: String, _ base: String, _ path: String, body: Any, timeout: Double = 30) throws -> ManagementClient.Response {
        let r: ManagementClient.Response
        do {
            r = try http.request(method, base: base, path: path, body: body, timeout: timeout)
        } catch let f as ManagementClient.Failure {
            throw ClusterError(.unavailable, redactor.redact("\(f)"))
        }
        if r.status == 401 { throw credentialsRefused(base) }
        return r
    }

    static func pathSegment(_ s: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#%")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    public func declareQueue(_ spec: QueueSpec) throws {
        try ensureIdentity()
        let base = try managementBase(spec.node)
        var args: [String: Any] = ["x-queue-type": spec.type.rawValue]
        if let size = spec.initialGroupSize, spec.type != .classic { args["x-quorum-initial-group-size"] = size }
        if spec.leaderLocator == .balanced, spec.type != .classic { args["x-queue-leader-locator"] = "balanced" }
        let r = try httpWrite("PUT", base, "/api/queues/%2F/\(Self.pathSegment(spec.name))",
                              body: ["durable": spec.durable, "auto_delete": false, "arguments": args])
        guard r.status == 201 || r.status == 204 else {
            throw ClusterError(r.status == 400 ? .dataError : .unavailable, "declaring queue '\(spec.name)' failed: HTTP \(r.status) \(r.text.prefix(300))")
        }
    }

    @discardableResult
    public func publish(queue: String, count: Int) throws -> Int {
        let base = try managementBase(nil)
        var routed = 0
        for i in 0..<count {
            let r = try httpWrite("POST", base, "/api/exchanges/%2F/amq.default/publish",
                                  body: ["properties": ["delivery_mode": 2], "routing_key": queue,
                                         "payload": "warren \(i)", "payload_encoding": "string"])
            if r.status == 200, (r.json as? [String: Any])?["routed"] as? Bool == true { routed += 1 }
        }
        return routed
    }

    @discardableResult
    public func consume(queue: String, max: Int) throws -> Int {
        let base = try managementBase(nil)
        let r = try httpWrite("POST", base, "/api/queues/%2F/\(Self.pathSegment(queue))/get",
                              body: ["count": max, "ackmode": "ack_requeue_false", "encoding": "auto", "truncate": 1000])
        guard r.status == 200, let list = r.json as? [Any] else {
            throw ClusterError(.unavailable, "consuming from '\(queue)' failed: HTTP \(r.status) \(r.text.prefix(300))")
        }
        return list.count
    }

    public func exportDefinitions(to path: String) throws {
        if let base = try? managementBase(nil), let r = try? http.request("GET", base: base, path: "/api/definitions", timeout: 30), r.status == 200 {
            // Readable by the operator only: it holds password hashes.
            guard FileManager.default.createFile(atPath: path, contents: r.body, attributes: [.posixPermissions: 0o600]) else {
                throw ClusterError(.unavailable, "cannot write the definitions to \(path)")
            }
            return
        }
        let (_, _) = try cliOnAnyNode("rabbitmqctl", ["export_definitions", path], json: false)
    }

    // MARK: Time

    public func now() -> Double { monotonicSeconds() }
    public func sleep(_ seconds: Double) { try? pause(seconds, waitingFor: "the runbook's condition") }

    /// Waits between two polls of the broker, journaled as a `wait`. Throws
    /// ``ClusterError/Code/interrupted`` as soon as an interrupt is requested.
    func pause(_ seconds: Double, waitingFor what: String) throws {
        guard seconds > 0 else { return }
        let start = monotonicSeconds()
        defer {
            record(CommandRecord(kind: .wait, argv: [what], exitCode: 0, duration: monotonicSeconds() - start, output: "", timedOut: false))
        }
        while true {
            if interruptRequested() { throw Self.interrupted("stopped waiting for \(what)", node: nil) }
            let left = seconds - (monotonicSeconds() - start)
            if left <= 0 { return }
            Thread.sleep(forTimeInterval: min(left, 0.05))
        }
    }

    static func interrupted(_ what: String, node: String?) -> ClusterError {
        ClusterError(.interrupted, "interrupted (Ctrl-C): \(what)", node: node)
    }
}
