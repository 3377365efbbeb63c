/// The state of one node as its peers and the CLI tools see it.
public enum NodeState: String, Codable, Sendable, CaseIterable {
    /// The Erlang VM and the `rabbit` application both run.
    case running
    /// The VM runs, the `rabbit` application is stopped (`stop_app`).
    case appStopped = "app_stopped"
    /// The VM runs and the application is booting (for example waiting for Mnesia tables from
    /// peers): `ping` succeeds, `check_running` fails.
    case booting
    /// The VM is not running.
    case stopped
    /// The node cannot be reached at all (cookie mismatch, unresolvable hostname, partitioned away).
    case unreachable

    /// Whether the Erlang VM answers `ping`.
    public var vmUp: Bool { self == .running || self == .appStopped || self == .booting }
}

/// Versions a node reports.
public struct NodeVersions: Codable, Equatable, Sendable {
    public var rabbitmq: String
    public var erlang: String
    public init(rabbitmq: String, erlang: String) {
        self.rabbitmq = rabbitmq
        self.erlang = erlang
    }
}

/// One node, as listed by `cluster.nodes()` and the shell's `nodes` command.
public struct NodeInfo: Codable, Equatable, Sendable {
    /// Full node name, `rabbit@host`.
    public var name: String
    public var state: NodeState
    /// Drained (`rabbitmq-upgrade drain`) and not yet revived or rebooted.
    public var underMaintenance: Bool
    /// Cluster members as this node knows them (its `disk_nodes`), itself included.
    public var members: [String]
    /// Resource alarms raised on this node (`memory`, `disk`).
    public var alarms: [String]
    /// Nodes this node is partitioned from.
    public var partitions: [String]
    /// Quorum queue and stream replicas hosted here, and how many of them lead.
    public var replicas: Int
    public var leaders: Int
    public var versions: NodeVersions?

    public init(name: String, state: NodeState, underMaintenance: Bool = false, members: [String] = [],
                alarms: [String] = [], partitions: [String] = [], replicas: Int = 0, leaders: Int = 0,
                versions: NodeVersions? = nil) {
        self.name = name
        self.state = state
        self.underMaintenance = underMaintenance
        self.members = members
        self.alarms = alarms
        self.partitions = partitions
        self.replicas = replicas
        self.leaders = leaders
        self.versions = versions
    }
}

/// The view of `rabbitmqctl cluster_status`.
public struct ClusterStatus: Codable, Equatable, Sendable {
    public var clusterName: String
    /// Members (`disk_nodes`), as seen by the node that answered.
    public var members: [String]
    /// `running_nodes`.
    public var running: [String]
    /// node -> nodes it is partitioned from (only non-empty entries).
    public var partitions: [String: [String]]
    /// node -> alarms (only non-empty entries).
    public var alarms: [String: [String]]
    /// Nodes under maintenance (drained).
    public var maintenance: [String]
    /// Every node of the target, in a stable order, with its state.
    public var nodes: [NodeInfo]

    public init(clusterName: String, members: [String], running: [String],
                partitions: [String: [String]] = [:], alarms: [String: [String]] = [:],
                maintenance: [String] = [], nodes: [NodeInfo]) {
        self.clusterName = clusterName
        self.members = members
        self.running = running
        self.partitions = partitions
        self.alarms = alarms
        self.maintenance = maintenance
        self.nodes = nodes
    }

    /// Every member running, no partitions, no alarms.
    /// Every member runs and serves clients: none down, drained, partitioned or in alarm.
    public var healthy: Bool {
        Set(members) == Set(running) && partitions.isEmpty && alarms.isEmpty && maintenance.isEmpty
    }

    /// The nodes with their quorum queue and stream replicas and leaders counted from `queues`.
    public func nodesCounting(_ queues: [QueueInfo]) -> [NodeInfo] {
        let replicated = queues.filter { $0.type != .classic }
        return nodes.map { n in
            var n = n
            n.replicas = replicated.filter { $0.members.contains(n.name) }.count
            n.leaders = replicated.filter { $0.leader == n.name }.count
            return n
        }
    }
}

public enum QueueType: String, Codable, Sendable, CaseIterable {
    case classic, quorum, stream
}

/// Where a new queue's leader goes (`queue_leader_locator`).
public enum LeaderLocator: String, Codable, Sendable {
    case clientLocal = "client-local"
    case balanced
}

/// A queue to declare.
public struct QueueSpec: Codable, Equatable, Sendable {
    public var name: String
    public var type: QueueType
    public var durable: Bool
    /// The node the declaring client is connected to; nil: any running node.
    public var node: String?
    /// `x-quorum-initial-group-size` (quorum queues); nil: 3, capped at the cluster size.
    public var initialGroupSize: Int?
    public var leaderLocator: LeaderLocator

    public init(name: String, type: QueueType = .quorum, durable: Bool = true, node: String? = nil,
                initialGroupSize: Int? = nil, leaderLocator: LeaderLocator = .clientLocal) {
        self.name = name
        self.type = type
        self.durable = durable
        self.node = node
        self.initialGroupSize = initialGroupSize
        self.leaderLocator = leaderLocator
    }
}

/// A queue as listed by `list_queues name type leader members online messages`.
public struct QueueInfo: Codable, Equatable, Sendable {
    public var name: String
    public var vhost: String
    public var type: QueueType
    public var durable: Bool
    /// Quorum queues and streams: the leader; classic queues: the home node.
    public var leader: String?
    /// Quorum queues and streams: replica nodes; classic queues: the home node.
    public var members: [String]
    /// Members whose replica is up (its Ra server runs), a replica still catching up included.
    public var online: [String]
    /// Online members whose replica is still catching up with the leader's log: they do not count
    /// towards a majority yet. (Known on the simulator; 3.10.8's listings do not show it.)
    public var catchingUp: [String]
    public var messages: Int
    /// Whether clients can use the queue now (a majority online, or the home node up).
    public var available: Bool

    public init(name: String, vhost: String = "/", type: QueueType, durable: Bool = true,
                leader: String?, members: [String], online: [String], catchingUp: [String] = [], messages: Int,
                available: Bool) {
        self.name = name
        self.vhost = vhost
        self.type = type
        self.durable = durable
        self.leader = leader
        self.members = members
        self.online = online
        self.catchingUp = catchingUp
        self.messages = messages
        self.available = available
    }
}

/// `rabbitmq-queues grow NODE all|even`.
public enum GrowStrategy: String, Codable, Sendable {
    case all, even
}

/// One health check of a node (`rabbitmq-diagnostics check_*`).
public struct HealthCheck: Codable, Equatable, Sendable {
    public var name: String
    public var ok: Bool
    public var detail: String
    public init(name: String, ok: Bool, detail: String = "") {
        self.name = name
        self.ok = ok
        self.detail = detail
    }
}

/// One check of `warren preflight`.
public struct PreflightCheck: Codable, Equatable, Sendable {
    public enum Outcome: String, Codable, Sendable { case pass, warn, fail }
    public var name: String
    public var outcome: Outcome
    public var detail: String
    public init(name: String, outcome: Outcome, detail: String) {
        self.name = name
        self.outcome = outcome
        self.detail = detail
    }
}
