import Cluster
import Foundation

/// Versions, feature flags and policies: what an upgrade is planned from, and the flags it
/// enables.
extension RabbitMQBackend {
    /// Each running member's own management API (`/api/overview` reports the versions of the node
    /// answering only), else `cluster_status`.
    public func nodeVersions() throws -> [String: NodeVersions] {
        if let versions = nodeVersionsHTTP() { return versions }
        return try rawStatus(preferCLI: true).versions
    }

    /// One GET per running member, against 0.6 s for `cluster_status`; nil when a member's API
    /// does not answer for itself (drained, no credentials, no URL).
    func nodeVersionsHTTP() -> [String: NodeVersions]? {
        guard let running = managementRead([BrokerAnswer.Node].self, "/api/nodes")?.filter({ $0.running == true }).map(\.name),
              !running.isEmpty else { return nil }
        var out: [String: NodeVersions] = [:]
        for n in running {
            guard nodeNames.contains(n), let base = entry(n).management,
                  let o = try? http.get(BrokerAnswer.Overview.self, base: base, path: "/api/overview"), o.node == n,
                  let v = o.rabbitmq_version, let e = o.erlang_version else { return nil }
            out[n] = NodeVersions(rabbitmq: v, erlang: e)
        }
        return out
    }

    /// `GET /api/feature-flags` (the same fields, from the same `rabbit_ff_extra:cli_info/0`:
    /// rabbit_mgmt_wm_feature_flags.erl@v3.10.8), else `rabbitmqctl list_feature_flags name state
    /// stability provided_by desc doc_url` on the first member that answers.
    public func featureFlags() throws -> [FeatureFlag] {
        if let list = managementRead([BrokerAnswer.FeatureFlag].self, "/api/feature-flags") { return try list.map { try $0.model() } }
        let (_, r) = try cliOnAnyNode("rabbitmqctl", ["list_feature_flags", "name", "state", "stability", "provided_by", "desc", "doc_url"])
        return try decode([BrokerAnswer.FeatureFlag].self, r).map { try $0.model() }
    }

    /// An unknown flag fails with the CLI's exit 64, "This feature flag is not supported by node ...".
    public func enableFeatureFlag(_ name: String) throws {
        try ensureIdentity()
        try cliChecked("rabbitmqctl", node: try executor(), ["enable_feature_flag", name])
    }

    public func enableAllFeatureFlags() throws {
        try ensureIdentity()
        try cliChecked("rabbitmqctl", node: try executor(), ["enable_feature_flag", "all"])
    }

    /// Khepri when a running member lists `khepri_db` enabled, else Mnesia; nil when none answers.
    public func metadataStore() throws -> MetadataStore? {
        guard let flags = try? featureFlags() else { return nil }
        return ClusterVersions(nodes: [], flags: flags).metadataStore
    }

    /// `GET /api/policies`, else `rabbitmqctl list_policies` in every virtual host.
    public func policies() throws -> [Policy] {
        if let list = managementRead([BrokerAnswer.Policy].self, "/api/policies") { return list.map(\.model) }
        let (node, vhosts) = try vhostsViaCLI()
        var result: [Policy] = []
        for vhost in vhosts {
            let r = try cliChecked("rabbitmqctl", node: node, ["list_policies", "-p", vhost], json: true)
            result += try decode([BrokerAnswer.Policy].self, r).map(\.model)
        }
        return result
    }
}
