import Cluster
import Foundation

/// Versions, feature flags and policies: what an upgrade is planned from, and the flags it
/// enables.
extension RabbitMQBackend {
    /// From `cluster_status` (the management API reports the versions of the node answering only).
    public func nodeVersions() throws -> [String: NodeVersions] {
        try rawStatus(preferCLI: true).versions
    }

    /// `rabbitmqctl list_feature_flags name state stability provided_by desc doc_url` on the first
    /// member that answers.
    public func featureFlags() throws -> [FeatureFlag] {
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
