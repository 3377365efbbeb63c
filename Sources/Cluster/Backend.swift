/// One cluster target: the simulator or a real RabbitMQ cluster. Runbooks never know which.
///
/// Node arguments accept full names (`rabbit@n1`) and, where unambiguous, the host part alone
/// (`n1`); an unknown name throws ``ClusterError/unknownNode(_:known:)``. Every call is synchronous:
/// it returns when the primitive has taken effect (or throws). Waiting goes through ``sleep(_:)``
/// so that the simulator can advance its virtual clock instead of real time.
public protocol Backend: AnyObject {
    /// Short description for prompts and reports, e.g. `sim:3` or `prod-eu`.
    var targetDescription: String { get }
    /// Names of every node of the target (inventory or simulator), in a stable order.
    var nodeNames: [String] { get }

    /// Resolves a full or short node name to a full one, or throws `unknownNode`.
    func resolve(_ node: String) throws -> String

    // MARK: Reads
    func status() throws -> ClusterStatus
    func nodes() throws -> [NodeInfo]
    func queues(type: QueueType?) throws -> [QueueInfo]
    /// Whether the node's VM answers (`rabbitmq-diagnostics ping`). Never throws for a down node.
    func ping(_ node: String) throws -> Bool
    /// Names of the queues for which the node is quorum-critical; empty when it is safe to stop.
    /// As `rabbitmq-queues check_if_node_is_quorum_critical`: a drained node is exempt, and a
    /// replica still catching up counts as online.
    func quorumCritical(_ node: String) throws -> [String]
    /// As `rabbitmq-upgrade await_online_quorum_plus_one -t TIMEOUT`: waits until every quorum
    /// queue the node hosts has more than a bare majority online. A drained node's stopped
    /// replicas count as offline, so on a drained node it times out. Throws 69 on timeout, naming
    /// the queues.
    func awaitOnlineQuorumPlusOne(_ node: String, timeout: Double) throws
    /// The node's health checks (running, local alarms, port connectivity, virtual hosts).
    func health(_ node: String) throws -> [HealthCheck]
    /// The source document's requirements, checked.
    func preflight() throws -> [PreflightCheck]
    /// Each running member's `cluster_partition_handling` as its configuration has it: `ignore`,
    /// `pause_minority`, `autoheal` or `pause_if_all_down` (what a snapshot copies).
    func partitionHandlingByNode() throws -> [String: String]

    // MARK: Versions, feature flags, policies (what an upgrade is planned from)
    /// Each running node's RabbitMQ and Erlang versions, by node (a stopped node reports none).
    func nodeVersions() throws -> [String: NodeVersions]
    /// The cluster's feature flags, as a running member lists them.
    func featureFlags() throws -> [FeatureFlag]
    /// `rabbitmqctl enable_feature_flag NAME`: enables one flag on every node (it cannot be
    /// disabled again).
    func enableFeatureFlag(_ name: String) throws
    /// `rabbitmqctl enable_feature_flag all`: every stable flag (3.13+ leaves experimental ones
    /// alone); what each upgrade ends with, and what the next one needs first.
    func enableAllFeatureFlags() throws
    /// The policies of every virtual host.
    func policies() throws -> [Policy]
    /// The metadata store the cluster uses (Khepri once `khepri_db` is enabled); nil when no
    /// node can tell (every node down on a real cluster).
    func metadataStore() throws -> MetadataStore?
    /// Asked by ``preflight()`` and the upgrade check when the cluster runs mixed versions: the
    /// unfinished rolling upgrade of this cluster that warren knows of, if any (the session
    /// runner sets it; nil: none known).
    var upgradeUnderWay: (() -> UpgradeUnderWay?)? { get set }

    // MARK: Node lifecycle
    /// Starts the node and returns once its VM answers `ping`; the app may still be booting.
    func start(_ node: String) throws
    /// Stops the node (VM and app) and returns once it is down.
    func stop(_ node: String) throws
    func startApp(_ node: String) throws
    func stopApp(_ node: String) throws
    /// Waits until the app runs on the node (`await_startup`), at most `timeout` seconds.
    func awaitRunning(_ node: String, timeout: Double) throws
    func reset(_ node: String) throws
    func forceReset(_ node: String) throws
    func forceBoot(_ node: String) throws
    func drain(_ node: String) throws
    func revive(_ node: String) throws
    /// Installs RabbitMQ `version` on a stopped node: the inventory's `upgrade:` command with
    /// `{version}` replaced; on the simulator the node's release changes. The node runs it from
    /// its next start. Refused while the node's VM runs.
    func upgrade(_ node: String, to version: RabbitMQVersion) throws

    // MARK: Membership
    /// `rabbitmqctl -n node join_cluster seed`.
    func join(_ node: String, seed: String) throws
    /// `rabbitmqctl -n executor forget_cluster_node [--offline] target`.
    func forget(_ target: String, from executor: String, offline: Bool) throws

    // MARK: Queues
    /// Adds the node as a member of quorum queues; returns the queues grown.
    @discardableResult func grow(_ node: String, strategy: GrowStrategy) throws -> [String]
    /// Removes the node from every quorum queue; returns the queues shrunk.
    @discardableResult func shrink(_ node: String) throws -> [String]
    /// `rabbitmq-queues rebalance kind` (`quorum`, `stream`, `all`).
    func rebalance(_ kind: String) throws
    func declareQueue(_ spec: QueueSpec) throws
    /// Publishes with confirms. A message to a queue that cannot take it (a classic queue whose
    /// node is down) is unroutable: with `mandatory` it comes back and does not count; without,
    /// the broker confirms it and drops it (rabbitmq.md §3). Returns how many were confirmed and,
    /// with `mandatory`, taken by the queue.
    @discardableResult func publish(queue: String, count: Int, mandatory: Bool) throws -> Int
    /// Consumes and acknowledges up to `max` messages; returns how many.
    @discardableResult func consume(queue: String, max: Int) throws -> Int
    /// Writes the definitions (users, vhosts, queues, policies...) as JSON to `path`.
    func exportDefinitions(to path: String) throws

    // MARK: Time
    /// Seconds since an arbitrary origin; virtual on the simulator.
    func now() -> Double
    /// Waits; the simulator advances its virtual clock and returns at once.
    func sleep(_ seconds: Double)
    /// Whether ``now()`` is a virtual clock (the simulator's): durations shown are marked simulated.
    var clockIsVirtual: Bool { get }
}

extension Backend {
    public var clockIsVirtual: Bool { false }
}
