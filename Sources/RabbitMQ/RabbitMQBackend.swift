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
    /// Where the backend says what it waits for (a CLI call, a start command, an HTTP request, a
    /// poll): the session shows it live.
    public var waits: Waits? {
        didSet { http.waits = waits }
    }
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
    /// How long the inventory's `upgrade:` command may run.
    public var upgradeTimeout: Double = 900
    public var upgradeUnderWay: (() -> UpgradeUnderWay?)?

    /// Things the operator should know about this target before using it (e.g. no management
    /// credentials in the environment, so every read goes through the slower CLI).
    public internal(set) var notices: [String]

    let http: ManagementClient
    /// What each host's epmd answered a moment ago (see ``unreachableReason(_:)``).
    let reachability = Reachability()
    let environment: [String: String]
    private var identityChecked = false
    /// Nodes this backend drained and has not restarted or revived since: their closed AMQP port
    /// is that drain, no CLI call needed to tell (see `maintenanceProbe`).
    var drainedHere: Set<String> = []

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
        self.http.knownUnreachable = { [reachability] host in
            switch reachability.recent(host) {
            case .unresolved?: return "\(host) does not resolve"
            case .silent?: return "\(host) does not answer"
            default: return nil
            }
        }
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
    func noteMembers(_ members: [String], readFrom node: String) {
        guard inventory.nodes.contains(where: { $0.name == node && !$0.spare }) else { return }
        joinedSpares = Set(inventory.nodes.filter { $0.spare && members.contains($0.name) }.map(\.name))
    }

    // MARK: Identity

    /// The cluster's name: management API first, then `cluster_status`.
    public func clusterName() throws -> String {
        probeHosts()
        for n in orderedNodes {
            guard let base = n.management else { continue }
            do {
                if let name = try http.get(BrokerAnswer.Overview.self, base: base, path: "/api/overview").cluster_name {
                    return name
                }
            } catch ManagementClient.Failure.timedOut { break } catch { continue }
        }
        let (_, r) = try cliOnAnyNode("rabbitmqctl", ["cluster_status"])
        guard let name = try decode(BrokerAnswer.ClusterStatus.self, r).cluster_name else {
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
        waits?.observe("waiting for \(what)")
        while true {
            if interruptRequested() { throw Self.interrupted("stopped waiting for \(what)", node: nil) }
            let left = seconds - (monotonicSeconds() - start)
            if left <= 0 { return }
            Thread.sleep(forTimeInterval: min(left, 0.05))
        }
    }

    /// Runs `body` as a wait the session can show (see ``waits``).
    func waiting<T>(_ what: String, limit: Double?, _ body: () throws -> T) rethrows -> T {
        guard let waits else { return try body() }
        return try waits.during(what, limit: limit, body)
    }

    static func interrupted(_ what: String, node: String?) -> ClusterError {
        ClusterError(.interrupted, "interrupted (Ctrl-C or a signal to stop): \(what)", node: node)
    }
}
