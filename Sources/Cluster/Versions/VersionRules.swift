/// A fact of the version table and where it was read (a release notes or docs URL, or a
/// `repository path@tag`). Facts marked UNVERIFIED in their source keep warren's behaviour
/// conservative.
public struct Fact<Value: Sendable>: Sendable {
    public let value: Value
    public let source: String
    public init(_ value: Value, source: String) {
        self.value = value
        self.source = source
    }
}

extension Fact: Equatable where Value: Equatable {}

/// Which patches of a series a behaviour holds for (fixes and additions land in patch releases).
public enum Patches: Equatable, Sendable {
    case none
    case all
    /// This patch and every later one.
    case from(Int)
    /// Every patch before this one.
    case before(Int)

    public func contains(_ patch: Int) -> Bool {
        switch self {
        case .none: return false
        case .all: return true
        case .from(let p): return patch >= p
        case .before(let p): return patch < p
        }
    }
}

/// Where a node keeps its metadata (users, vhosts, queues, policies...).
public enum MetadataStore: String, Codable, Sendable {
    case mnesia, khepri
}

/// How far Khepri is supported in a series.
public enum KhepriSupport: String, Sendable {
    /// Mnesia only.
    case none
    /// Experimental opt-in (`khepri_db` is an experimental flag).
    case experimental
    /// Supported, but a cluster uses it only once `khepri_db` is enabled with `--opt-in`.
    case optIn = "opt-in"
    /// New clusters start on Khepri; upgraded ones keep Mnesia until `khepri_db` is enabled.
    case defaultForNewClusters = "default for new clusters"
}

public struct MetadataStoreRule: Sendable {
    /// The store a new cluster of the series starts on.
    public let newClusters: MetadataStore
    public let khepri: KhepriSupport
    public init(newClusters: MetadataStore, khepri: KhepriSupport) {
        self.newClusters = newClusters
        self.khepri = khepri
    }
}

/// A rolling (in-place) upgrade this series' nodes can make to a later series.
public struct UpgradeEdge: Sendable {
    public let to: ReleaseSeries
    /// The oldest patch of this series the target accepts (3.12 accepts 3.11.18 and later).
    public let minimumPatch: Int
    /// The only metadata store a cluster may use to take this path (nil: either).
    public let onlyFrom: MetadataStore?
    public let source: String
    public init(to: ReleaseSeries, minimumPatch: Int = 0, onlyFrom: MetadataStore? = nil, source: String) {
        self.to = to
        self.minimumPatch = minimumPatch
        self.onlyFrom = onlyFrom
        self.source = source
    }
}

/// The Erlang/OTP releases some patches of a series run on. `min` and `max` are inclusive
/// prefixes (`max` 25.2 admits 25.2.3); nil where the compatibility matrix does not list the
/// patches (UNVERIFIED).
public struct ErlangRange: Sendable, Equatable {
    public let patches: [ClosedRange<Int>]
    public let min: String?
    public let max: String?
    public let source: String
    public init(patches: [ClosedRange<Int>], min: String?, max: String?, source: String) {
        self.patches = patches
        self.min = min
        self.max = max
        self.source = source
    }

    /// Whether the range is known (the matrix lists these patches).
    public var known: Bool { min != nil && max != nil }

    /// `24.2 – 25.2`, or for an unknown range a sentence saying the matrix does not list it.
    public static func text(_ range: ErlangRange?) -> String {
        guard let min = range?.min, let max = range?.max else {
            return "not listed in the compatibility matrix (UNVERIFIED: check https://www.rabbitmq.com/docs/which-erlang)"
        }
        return "\(min) – \(max)"
    }

    /// Whether an Erlang version (`25.2.3`) lies in the range; nil when the range or the
    /// version cannot be read.
    public func contains(_ erlang: String) -> Bool? {
        guard let lo = min.flatMap(Self.numbers), let hi = max.flatMap(Self.numbers), let v = Self.numbers(erlang) else { return nil }
        return !v.lexicographicallyPrecedes(lo) && !hi.lexicographicallyPrecedes(Array(v.prefix(hi.count)))
    }

    /// `25.3.x` -> [25, 3]; nil when not numbers.
    static func numbers(_ text: String) -> [Int]? {
        let parts = text.split(separator: ".").filter { $0 != "x" }
        let n = parts.compactMap { Int($0) }
        return n.count == parts.count && !n.isEmpty ? n : nil
    }
}

/// CLI commands whose availability depends on the version (health checks, upgrade helpers).
public enum VersionedCommand: String, Sendable, CaseIterable {
    /// `rabbitmq-diagnostics metadata_store_status` (first tag v3.13.0: git ls-tree of
    /// rabbitmq/rabbitmq-server deps/rabbitmq_cli/lib).
    case metadataStoreStatus = "metadata_store_status"
    case checkIfMetadataStoreIsInitialized = "check_if_metadata_store_is_initialized"
    case checkForQuorumQueuesWithoutAnElectedLeader = "check_for_quorum_queues_without_an_elected_leader"
    case hasReachedTargetClusterSize = "has_reached_target_cluster_size"
    /// `rabbitmq-upgrade await_online_synchronized_mirror`: gone with mirrored queues in 4.0.
    case awaitOnlineSynchronizedMirror = "await_online_synchronized_mirror"
}

/// How the documented procedures (shared/design/rabbitmq.md section 2) differ in a series.
public struct ProcedureRules: Sendable {
    /// The stores on which `rabbitmqctl force_boot` takes effect. With Khepri it does nothing
    /// (the CLI still exits 0): a majority must be up to boot instead.
    public let forceBootTakesEffect: Fact<Set<MetadataStore>>
    public let forceResetDeprecated: Fact<Bool>
    /// Patches on which `force_reset` fails on a Khepri node (exit 69, "Forced reset is
    /// unsupported with Khepri").
    public let forceResetRefusedOnKhepri: Fact<Patches>
    /// Whether `join_cluster` needs `stop_app` (and `reset`) first; false where it prepares the
    /// node itself.
    public let joinNeedsStopAppAndReset: Fact<Bool>
    /// Patches on which `forget_cluster_node` removes the node's quorum queue and stream replicas
    /// before it leaves the metadata store (earlier: after).
    public let forgetShrinksReplicasFirst: Fact<Patches>
    /// Whether classic queues can be mirrored (`ha-mode` policies take effect).
    public let classicMirroredQueues: Fact<Bool>
    /// Whether, on Khepri, a majority of nodes must be up to boot, change metadata and change
    /// membership (false: the series has no Khepri).
    public let khepriNeedsMajority: Fact<Bool>
    /// Whether `rabbitmqctl enable_feature_flag all` leaves experimental flags alone (before,
    /// it enabled every supported flag; 3.10-3.12 have no experimental flag).
    public let enableAllSkipsExperimental: Fact<Bool>

    public init(forceBootTakesEffect: Fact<Set<MetadataStore>>, forceResetDeprecated: Fact<Bool>,
                forceResetRefusedOnKhepri: Fact<Patches>, joinNeedsStopAppAndReset: Fact<Bool>,
                forgetShrinksReplicasFirst: Fact<Patches>, classicMirroredQueues: Fact<Bool>,
                khepriNeedsMajority: Fact<Bool>, enableAllSkipsExperimental: Fact<Bool>) {
        self.forceBootTakesEffect = forceBootTakesEffect
        self.forceResetDeprecated = forceResetDeprecated
        self.forceResetRefusedOnKhepri = forceResetRefusedOnKhepri
        self.joinNeedsStopAppAndReset = joinNeedsStopAppAndReset
        self.forgetShrinksReplicasFirst = forgetShrinksReplicasFirst
        self.classicMirroredQueues = classicMirroredQueues
        self.khepriNeedsMajority = khepriNeedsMajority
        self.enableAllSkipsExperimental = enableAllSkipsExperimental
    }
}

/// What one release series can and must do.
public struct SeriesRules: Sendable {
    public let series: ReleaseSeries
    /// The newest patch released (the upgrade path stops at the newest patch of each series).
    public let latestPatch: Fact<Int>
    /// The later series its nodes upgrade to in place, one rolling upgrade each.
    public let upgradesTo: [UpgradeEdge]
    public let erlang: [ErlangRange]
    public let metadataStore: Fact<MetadataStoreRule>
    public let procedures: ProcedureRules
    /// Patches on which each versioned command exists (absent: no patch of the series has it).
    public let commands: [VersionedCommand: Fact<Patches>]
    /// What changes for operators once a cluster runs this series.
    public let changes: [Fact<String>]

    public init(series: ReleaseSeries, latestPatch: Fact<Int>, upgradesTo: [UpgradeEdge], erlang: [ErlangRange],
                metadataStore: Fact<MetadataStoreRule>, procedures: ProcedureRules,
                commands: [VersionedCommand: Fact<Patches>], changes: [Fact<String>]) {
        self.series = series
        self.latestPatch = latestPatch
        self.upgradesTo = upgradesTo
        self.erlang = erlang
        self.metadataStore = metadataStore
        self.procedures = procedures
        self.commands = commands
        self.changes = changes
    }

    /// The Erlang range of one patch (nil when the matrix does not list it).
    public func erlang(_ patch: Int) -> ErlangRange? {
        erlang.first { $0.patches.contains { $0.contains(patch) } && $0.known }
    }

    /// Whether `command` exists at `patch`.
    public func has(_ command: VersionedCommand, patch: Int) -> Bool {
        commands[command]?.value.contains(patch) ?? false
    }
}

/// One feature flag's life: when it appeared, became stable and became required.
public struct FlagRule: Sendable {
    public let name: String
    /// `rabbit`, or the plugin that provides it (listed only while the plugin is enabled).
    public let providedBy: String
    public let introduced: RabbitMQVersion
    /// Releases after `introduced` that do not have the flag (3.11.0 lacks a 3.10.9 flag).
    public let missingIn: [RabbitMQVersion]
    /// Experimental until this release (nil: stable from the start).
    public let stableFrom: RabbitMQVersion?
    /// Required (always enabled, cannot be disabled) from this release (nil: not before 4.3).
    public let requiredFrom: RabbitMQVersion?
    public let description: String
    public let docURL: String
    public let source: String

    public init(_ name: String, providedBy: String = "rabbit", introduced: RabbitMQVersion, missingIn: [RabbitMQVersion] = [],
                stableFrom: RabbitMQVersion? = nil, requiredFrom: RabbitMQVersion?, description: String, docURL: String = "",
                source: String) {
        self.name = name
        self.providedBy = providedBy
        self.introduced = introduced
        self.missingIn = missingIn
        self.stableFrom = stableFrom
        self.requiredFrom = requiredFrom
        self.description = description
        self.docURL = docURL
        self.source = source
    }

    /// The flag's stability in a release; nil when the release does not have it.
    public func stability(at v: RabbitMQVersion) -> FeatureFlagStability? {
        guard v >= introduced, !missingIn.contains(v) else { return nil }
        if let r = requiredFrom, v >= r { return .required }
        if let s = stableFrom, v < s { return .experimental }
        return .stable
    }
}

// MARK: Reading the table

extension VersionTable {
    /// The oldest and the newest release the table describes.
    public static var oldest: RabbitMQVersion { series[0].series.patch(0) }
    public static var newest: RabbitMQVersion { series[series.count - 1].series.patch(series[series.count - 1].latestPatch.value) }

    public static func rules(for s: ReleaseSeries) -> SeriesRules? { series.first { $0.series == s } }

    /// The rules of a release.
    /// - Throws: ``VersionError/unknown(_:known:)`` for a release the table does not describe.
    public static func rules(for v: RabbitMQVersion) throws -> SeriesRules {
        guard let r = rules(for: v.series), v.patch <= r.latestPatch.value else {
            throw VersionError.unknown(v, known: "\(oldest) to \(newest)")
        }
        return r
    }

    /// The release a node reports (`rabbitmq_version`), which the table must know.
    /// - Throws: ``VersionError/reportedByNode(_:_:)``.
    public static func release(_ text: String, reportedBy node: String) throws -> RabbitMQVersion {
        do {
            let v = try RabbitMQVersion(parsing: text)
            _ = try rules(for: v)
            return v
        } catch let e as VersionError {
            throw VersionError.reportedByNode(node, e)
        }
    }

    /// The newest patch of a series.
    public static func newestPatch(of s: SeriesRules) -> RabbitMQVersion { s.series.patch(s.latestPatch.value) }

    /// The flags a release defines, with their stability there, by name.
    public static func flags(at v: RabbitMQVersion) -> [(rule: FlagRule, stability: FeatureFlagStability)] {
        featureFlags.compactMap { rule in rule.stability(at: v).map { (rule, $0) } }.sorted { $0.rule.name < $1.rule.name }
    }

    /// What `list_feature_flags` shows on a new cluster of a release with its management plugin
    /// enabled (so the management agent's flags are listed, the MQTT plugin's are not): stable
    /// and required flags enabled, experimental ones disabled (rabbit_feature_flags.erl@v4.3.0
    /// L212-216), except those in `disabled`.
    public static func newClusterFlags(at v: RabbitMQVersion, disabled: [String] = []) -> [FeatureFlag] {
        flags(at: v).filter { $0.rule.providedBy == "rabbit" || $0.rule.providedBy.hasPrefix("rabbitmq_management") }.map { f in
            let on = f.stability != .experimental && !disabled.contains(f.rule.name)
            return FeatureFlag(name: f.rule.name, state: on ? .enabled : .disabled, stability: f.stability,
                               providedBy: f.rule.providedBy, description: f.rule.description, docURL: f.rule.docURL)
        }
    }

    /// Flags that become required in a series (graduated by its first release).
    public static func flagsRequired(from s: ReleaseSeries) -> [String] {
        featureFlags.filter { $0.requiredFrom?.series == s }.map(\.name).sorted()
    }

    /// Flags that a series' releases introduce.
    public static func flagsIntroduced(in s: ReleaseSeries) -> [String] {
        featureFlags.filter { $0.introduced.series == s }.map(\.name).sorted()
    }

    /// Whether a disabled flag makes a node of release `target` refuse to boot: a required flag
    /// of `rabbit` always; a plugin's only before 3.12.0 (``pluginRequiredFlagsEnabledAtBoot``).
    public static func blocksBoot(_ rule: FlagRule, of target: RabbitMQVersion) -> Bool {
        rule.stability(at: target) == .required && (rule.providedBy == "rabbit" || target < pluginRequiredFlagsEnabledAtBoot.value)
    }
}
