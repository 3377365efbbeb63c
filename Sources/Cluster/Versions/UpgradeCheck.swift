/// Whether a live cluster can take one rolling upgrade to a release now: what `rolling-upgrade`
/// checks before it changes anything (`cluster.upgrade_check(to)` in Lua).
public struct UpgradeCheck: Sendable {
    public var to: RabbitMQVersion
    public var versions: ClusterVersions
    /// The oldest release a running node runs: where the upgrade starts.
    public var from: RabbitMQVersion
    /// The rolling upgrade from `from` to `to`; nil when every node already runs `to` (or the
    /// path is refused: see `problems`).
    public var hop: UpgradeHop?
    /// The unfinished rolling upgrade warren knows of, when the cluster runs mixed versions.
    public var underWay: UpgradeUnderWay?
    /// Stable flags disabled now (each must be enabled before the upgrade).
    public var disabledFlags: [String]
    /// What keeps the upgrade from starting, each a sentence naming what to do; empty: it can.
    public var problems: [String]

    /// Reads the cluster and checks the upgrade to `target`.
    /// - Throws: for input that is wrong rather than a cluster that is not ready:
    ///   ``VersionError`` for text that is not a release, a release the table does not know, or a
    ///   node reporting one; ``UpgradePathError/downgrade(from:to:source:)`` when a node runs a
    ///   newer release than `target`; ``UpgradePathError/noVersions`` when no node runs.
    public static func run(to target: String, backend: Backend) throws -> UpgradeCheck {
        let to = try RabbitMQVersion(parsing: target)
        _ = try VersionTable.rules(for: to)
        let versions = try ClusterVersions.read(from: backend)
        guard let from = versions.oldest, let newest = versions.nodes.map(\.rabbitmq).max() else { throw UpgradePathError.noVersions }
        if newest > to { throw UpgradePathError.downgrade(from: newest, to: to, source: VersionTable.noDowngrades.source) }
        var problems: [String] = []
        if !versions.unread.isEmpty {
            problems.append("\(versions.unread.joined(separator: ", ")) \(versions.unread.count == 1 ? "is" : "are") not running: \(versions.unread.count == 1 ? "its release" : "their releases") cannot be read; start \(versions.unread.count == 1 ? "it" : "them") first")
        }
        var underWay: UpgradeUnderWay?
        if versions.mixed {
            let detail = versions.nodes.map { "\($0.name) \($0.rabbitmq)" }.joined(separator: ", ")
            underWay = backend.upgradeUnderWay?()
            if underWay == nil {
                problems.append("the cluster runs mixed versions (\(detail)) and no unfinished rolling upgrade of warren's is known for it: "
                    + "mixed versions are for the length of a rolling upgrade only (\(VersionTable.mixedVersionWindow.source)); resume the session that left it so, "
                    + "or upgrade the remaining nodes by hand")
            }
        }
        // Flags only a newer node knows are `unavailable` during an upgrade: not counted.
        let disabled = versions.flags.filter { $0.stability == .stable && $0.state == .disabled }.map(\.name).sorted()
        var hop: UpgradeHop?
        do {
            let (plan, readiness) = try UpgradePlanner.plan(for: versions, policies: backend.policies, to: to)
            if from != to {
                hop = try UpgradePlanner.hop(from: from, to: to)
            }
            if !disabled.isEmpty {
                let blocking = VersionTable.featureFlags.filter { disabled.contains($0.name) && VersionTable.blocksBoot($0, of: to) }.map(\.name)
                problems.append("stable feature flag\(disabled.count == 1 ? "" : "s") disabled: \(disabled.joined(separator: ", "))"
                    + (blocking.isEmpty ? "" : " (RabbitMQ \(to) requires \(blocking.joined(separator: ", ")): a node of it would refuse to boot)")
                    + "; every stable flag must be enabled before an upgrade (\(VersionTable.allStableFlagsBeforeUpgrade.source)): "
                    + "run `rabbitmqctl enable_feature_flag all`, or cluster.enable_feature_flags() in the shell")
            }
            if !readiness.erlangOutside.isEmpty, let first = plan.hops.first {
                problems.append("RabbitMQ \(first.to) does not run on the Erlang of "
                    + readiness.erlangOutside.map { "\($0.name) (\($0.erlang))" }.joined(separator: ", ")
                    + ": it needs \(ErlangRange.text(first.erlang)); upgrade Erlang first (\(first.erlang?.source ?? ""))")
            }
            if !readiness.mirroringPolicies.isEmpty {
                problems.append("classic queue mirroring ends with 4.0 and these policies set it: "
                    + readiness.mirroringPolicies.map { "\($0.name) (vhost \($0.vhost))" }.joined(separator: ", ")
                    + "; move those queues to quorum queues first (https://www.rabbitmq.com/docs/migrate-mcq-to-qq)")
            }
        } catch let e as UpgradePathError {
            switch e {
            case .downgrade, .noVersions: throw e
            case .noDirectPath, .metadataStore: problems.append("\(e)")
            }
        }
        return UpgradeCheck(to: to, versions: versions, from: from, hop: hop, underWay: underWay, disabledFlags: disabled, problems: problems)
    }
}
