/// What a live cluster adds to an upgrade plan: what it runs now, and what must be done on it
/// before the first hop.
public struct UpgradeReadiness: Sendable {
    public var versions: ClusterVersions
    /// Stable flags disabled now: enable them (`rabbitmqctl enable_feature_flag all`) before the
    /// first hop.
    public var disabledStableFlags: [String]
    /// Of those, the ones the first hop's target requires: a node refuses to boot while one is
    /// disabled.
    public var blockingBoot: [String]
    /// Running nodes whose Erlang the first hop's target does not run on.
    public var erlangOutside: [ClusterVersions.Node]
    /// Policies that set classic queue mirroring keys, when the plan goes past their removal
    /// (empty otherwise).
    public var mirroringPolicies: [Policy]
}

extension UpgradePlanner {
    /// The plan from the oldest version a cluster's nodes run to `to`, and what the cluster must
    /// do before it. `policies` is read only when the plan goes past the removal of classic
    /// queue mirroring.
    /// - Throws: what ``plan(from:to:)`` throws, and a downgrade when any node runs a newer
    ///   release than `to`; ``UpgradePathError/noVersions`` when no node
    ///   reported a version; ``UpgradePathError/metadataStore(_:from:to:source:)`` when the
    ///   cluster's metadata store cannot take the first series hop (3.13 on Khepri to 4.x).
    public static func plan(for cluster: ClusterVersions, policies: () throws -> [Policy], to: RabbitMQVersion) throws -> (UpgradePlan, UpgradeReadiness) {
        guard let from = cluster.oldest, let newest = cluster.nodes.map(\.rabbitmq).max() else { throw UpgradePathError.noVersions }
        let plan = try plan(from: from, to: to)
        // A node already past `to` (a mixed cluster) would have to go back.
        if newest > to { throw UpgradePathError.downgrade(from: newest, to: to, source: VersionTable.noDowngrades.source) }
        if let firstSeriesHop = plan.hops.first(where: { $0.kind == .series }) {
            let leaving = try VersionTable.rules(for: firstSeriesHop.from)
            if let edge = leaving.upgradesTo.first(where: { $0.to == firstSeriesHop.to.series }),
               let only = edge.onlyFrom, only != cluster.metadataStore {
                throw UpgradePathError.metadataStore(cluster.metadataStore, from: leaving.series, to: firstSeriesHop.to, source: edge.source)
            }
        }
        let disabled = cluster.disabledStableFlags
        var blocking: [String] = []
        var outside: [ClusterVersions.Node] = []
        if let first = plan.hops.first {
            blocking = VersionTable.featureFlags.filter { disabled.contains($0.name) && VersionTable.blocksBoot($0, of: first.to) }.map(\.name).sorted()
            outside = cluster.nodes.filter { first.erlang?.contains($0.erlang) == false }
        }
        let readiness = UpgradeReadiness(versions: cluster, disabledStableFlags: disabled, blockingBoot: blocking, erlangOutside: outside,
                                         mirroringPolicies: plan.removesMirroring ? try policies().filter { !$0.mirroringKeys.isEmpty } : [])
        return (plan, readiness)
    }
}
