import Cluster

/// Versions, feature flags and policies: what an upgrade is planned from. The cluster's flags are
/// those of the release its answering node runs (3.10.8 unless ``setVersions(_:rabbitmq:erlang:)``
/// changed it), with its management plugin enabled, as a new cluster has them; each is enabled
/// unless ``setFeatureFlag(_:enabled:)`` disabled it. Whether a flag can be enabled while a member
/// is down is not modelled (UNVERIFIED on 3.10.8).
extension Simulator {
    public func nodeVersions() throws -> [String: NodeVersions] {
        var out: [String: NodeVersions] = [:]
        for n in try status().running {
            let i = try index(n)
            out[n] = NodeVersions(rabbitmq: s.nodes[i].rabbitmq, erlang: s.nodes[i].erlang)
        }
        return out
    }

    public func featureFlags() throws -> [FeatureFlag] {
        let p = try requireAnyRunning()
        return VersionTable.newClusterFlags(at: try VersionTable.release(s.nodes[p].rabbitmq, reportedBy: name(p)),
                                            disabled: s.disabledFeatureFlags)
    }

    /// As `rabbitmqctl enable_feature_flag NAME`: an unknown name exits 64 with the CLI's words
    /// (observed on 3.10.8).
    public func enableFeatureFlag(_ flag: String) throws {
        let p = try requireAnyRunning()
        guard try featureFlags().contains(where: { $0.name == flag }) else {
            throw ClusterError(.usage, "This feature flag is not supported by node \(name(p))", node: name(p))
        }
        spend(200, 800)
        s.disabledFeatureFlags.removeAll { $0 == flag }
        log(p, "feature flag \(flag) enabled")
        afterChange()
    }

    /// As `rabbitmqctl enable_feature_flag all`: every flag but the experimental ones.
    public func enableAllFeatureFlags() throws {
        let p = try requireAnyRunning()
        let stable = try featureFlags().filter { $0.stability != .experimental && $0.state != .enabled }.map(\.name)
        spend(500, 1500)
        s.disabledFeatureFlags.removeAll { stable.contains($0) }
        log(p, "enable_feature_flag all: \(stable.count) flag(s) enabled")
        afterChange()
    }

    /// A new simulated cluster has none; a copy has those of the cluster it copies.
    public func policies() throws -> [Policy] { s.policies }
}
