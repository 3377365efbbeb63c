import Cluster

/// Versions, feature flags and policies: what an upgrade is planned from.
///
/// Each node keeps the flags enabled on it (``SimNode/flags``); a node lists the flags its
/// release defines (with the management plugin enabled, so the management agent's flags are
/// listed, the MQTT plugin's are not). A flag is `enabled` where the answering node has it, else
/// `disabled` when every running member defines it, else `unavailable` (rabbit_feature_flags.erl
/// @v4.2.9 L743-755, `get_state/1`): in a mixed-version cluster the newer release's flags are
/// unavailable until every node runs it.
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
        let v = try VersionTable.release(s.nodes[p].rabbitmq, reportedBy: name(p))
        let members = runningMembers(p)
        return VersionTable.newClusterFlags(at: v).map { f in
            var flag = f
            flag.state = s.nodes[p].flags.contains(f.name) ? .enabled
                : (members.allSatisfy { facts($0)?.flags[f.name] != nil } ? .disabled : .unavailable)
            return flag
        }
    }

    /// The members of node p's cluster whose app runs and that p reaches, p included.
    func runningMembers(_ p: Int) -> [Int] {
        indices(s.nodes[p].view).filter { $0 == p || (appRunning($0) && reach(p, $0)) }
    }

    /// As `rabbitmqctl enable_feature_flag NAME`: an unknown or unavailable name exits 64 with the
    /// CLI's words (observed on 3.10.8: "This feature flag is not supported by node ..."); an
    /// experimental flag needs `--opt-in`, which warren does not pass (3.13+:
    /// enable_feature_flag_command.ex@v4.0.5 L100-114).
    public func enableFeatureFlag(_ flag: String) throws {
        let p = try requireAnyRunning()
        let listed = try featureFlags()
        guard let f = listed.first(where: { $0.name == flag }), f.state != .unavailable else {
            throw ClusterError(.usage, "This feature flag is not supported by node \(name(p))", node: name(p))
        }
        if f.stability == .experimental, facts(p)?.procedures.enableAllSkipsExperimental.value == true {
            throw ClusterError(.usage, "Feature flag \(flag) requires the user to explicitly opt-in.\nUse --opt-in with a specific feature flag name if to enable an opt-in flag", node: name(p))
        }
        if f.state == .enabled { return }
        try enable([flag], on: p)
        log(p, "feature flag \(flag) enabled\(flag == "khepri_db" ? ": metadata migrated to Khepri" : "")")
        afterChange()
    }

    /// As `rabbitmqctl enable_feature_flag all`: every flag every running member supports, but
    /// the experimental ones (3.8.10 release notes L197-205; 3.13+ stable ones only:
    /// rabbit_feature_flags.erl@v3.13.0 L427-428). On 4.2 that includes `khepri_db`: the metadata
    /// moves to Khepri (4.2.0 release notes L106-124).
    public func enableAllFeatureFlags() throws {
        let p = try requireAnyRunning()
        let names = try featureFlags().filter { $0.stability != .experimental && $0.state == .disabled }.map(\.name)
        if !names.isEmpty { try enable(names, on: p) }
        spend(500, 1500)
        log(p, "enable_feature_flag all: \(names.count) flag(s) enabled\(names.contains("khepri_db") ? ", metadata migrated to Khepri" : "")")
        afterChange()
    }

    /// Enables flags on every member of p's cluster. With the feature flags controller (in use once
    /// `feature_flags_v2` is enabled: 3.11+, required from 3.12) a member that does not run makes
    /// it refuse (rabbit_ff_controller.erl@v3.11.0 L410-451 and @v4.0.5 L550-576,
    /// `missing_clustered_nodes`); before, a stopped member gets the flags as it boots and syncs
    /// (modelled as at once; UNVERIFIED on 3.10.8).
    func enable(_ names: [String], on p: Int) throws {
        let members = indices(s.nodes[p].view)
        if s.nodes[p].flags.contains("feature_flags_v2") {
            let missing = members.filter { !(appRunning($0) && reach(p, $0)) }
            if !missing.isEmpty {
                throw ClusterError(.unavailable, "Error:\nmissing_clustered_nodes (feature flags are not enabled while clustered nodes are missing, stopped or unreachable: \(missing.map(name).joined(separator: ", ")))", node: name(p))
            }
        }
        spend(200, 800)
        for m in members { s.nodes[m].setFlags(s.nodes[m].flags + names) }
    }

    /// A new simulated cluster has none; a copy has those of the cluster it copies.
    public func policies() throws -> [Policy] { s.policies }

    /// Known even with every node down: the simulator keeps each node's flags.
    public func metadataStore() throws -> MetadataStore? {
        s.nodes[primary()].khepri ? .khepri : .mnesia
    }
}
