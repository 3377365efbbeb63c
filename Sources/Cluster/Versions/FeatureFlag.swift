/// A feature flag as `rabbitmqctl list_feature_flags name state stability provided_by desc doc_url`
/// lists it (the same objects as the `feature_flags` of `cluster_status`).
public struct FeatureFlag: Codable, Equatable, Sendable {
    public var name: String
    public var state: FeatureFlagState
    public var stability: FeatureFlagStability
    /// `rabbit`, or the plugin providing the flag.
    public var providedBy: String
    public var description: String
    public var docURL: String

    public init(name: String, state: FeatureFlagState, stability: FeatureFlagStability, providedBy: String = "rabbit",
                description: String = "", docURL: String = "") {
        self.name = name
        self.state = state
        self.stability = stability
        self.providedBy = providedBy
        self.description = description
        self.docURL = docURL
    }
}

/// `state` of a flag: rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_feature_flags.erl@v4.2.9
/// L743-755 (`get_state/1`); the same values at v3.10.8.
public enum FeatureFlagState: String, Codable, Sendable {
    case enabled, disabled
    /// Being enabled (its migration runs).
    case stateChanging = "state_changing"
    /// Known to some nodes of the cluster only.
    case unavailable
}

/// `stability` of a flag: required flags are always enabled and must be enabled before an
/// upgrade to the series that requires them; experimental ones are never enabled by
/// `enable_feature_flag all` (3.13+, rabbit_feature_flags.erl@v3.13.0 L427-428).
public enum FeatureFlagStability: String, Codable, Sendable {
    case stable, experimental, required
}

/// The versions a cluster runs, as warren plans upgrades from them: each running node's RabbitMQ
/// and Erlang, the feature flags, the metadata store.
public struct ClusterVersions: Equatable, Sendable {
    public struct Node: Equatable, Sendable {
        public var name: String
        public var rabbitmq: RabbitMQVersion
        public var erlang: String
        public init(name: String, rabbitmq: RabbitMQVersion, erlang: String) {
            self.name = name
            self.rabbitmq = rabbitmq
            self.erlang = erlang
        }
    }

    /// Running nodes only: a stopped node reports no version (cluster_status_command.ex@v4.2.9
    /// L56-100, `versions_by_node`).
    public var nodes: [Node]
    /// Members whose version could not be read (not running).
    public var unread: [String]
    public var flags: [FeatureFlag]

    public init(nodes: [Node], unread: [String] = [], flags: [FeatureFlag]) {
        self.nodes = nodes
        self.unread = unread
        self.flags = flags
    }

    /// Reads them from a backend.
    /// - Throws: ``VersionError/reportedByNode(_:_:)`` for a node whose version the table does
    ///   not know; the backend's error when the cluster cannot be read.
    public static func read(from backend: Backend) throws -> ClusterVersions {
        let members = try backend.status().members
        let reported = try backend.nodeVersions()
        let nodes = try reported.keys.sorted().map { name in
            Node(name: name, rabbitmq: try VersionTable.release(reported[name]!.rabbitmq, reportedBy: name), erlang: reported[name]!.erlang)
        }
        return ClusterVersions(nodes: nodes, unread: members.filter { reported[$0] == nil }.sorted(),
                               flags: try backend.featureFlags())
    }

    /// The oldest version a node runs (the one an upgrade starts from).
    public var oldest: RabbitMQVersion? { nodes.map(\.rabbitmq).min() }

    /// Whether nodes run different versions (a rolling upgrade under way).
    public var mixed: Bool { Set(nodes.map(\.rabbitmq)).count > 1 }

    /// Khepri once `khepri_db` is enabled, else Mnesia (docs/metadata-store/index.md and
    /// metadata_store_status_command.ex@v4.2.9 L16-23: the flag's state is the store in use).
    public var metadataStore: MetadataStore {
        flags.contains { $0.name == "khepri_db" && $0.state == .enabled } ? .khepri : .mnesia
    }

    /// Stable flags not enabled: each must be enabled before the next upgrade.
    public var disabledStableFlags: [String] {
        flags.filter { $0.stability == .stable && $0.state != .enabled }.map(\.name).sorted()
    }
}
