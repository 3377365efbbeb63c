import Cluster
import Foundation
@testable import RabbitMQ
import Testing

/// Versions and feature flags on real RabbitMQ 3.10.8, checked with `rabbitmqctl` directly.
extension RealClusterTests {
    /// The spare's data directory emptied, so that its next boot is a first boot (where
    /// `RABBITMQ_FEATURE_FLAGS` applies), as `devcluster up` left it.
    func wipeSpare(_ spare: String) {
        f.service(spare, "stop")
        guard let dir = DevCluster.manifest(dir: f.dir)?.nodes.first(where: { $0.name == spare })?.dir else { return }
        let data = (dir as NSString).appendingPathComponent("mnesia")
        for item in (try? FileManager.default.contentsOfDirectory(atPath: data)) ?? [] {
            try? FileManager.default.removeItem(atPath: (data as NSString).appendingPathComponent(item))
        }
    }

    @Test("versions and feature flags are read, and flags enabled for real: a node first booted with two flags enables the rest")
    func featureFlagsForReal() throws {
        expectConverged()
        let versions = try ClusterVersions.read(from: f.backend)
        #expect(versions.nodes.map(\.name) == f.members.sorted())
        #expect(versions.nodes.allSatisfy { $0.rabbitmq == RabbitMQVersion(3, 10, 8) } && versions.metadataStore == .mnesia)
        // A new 3.10.8 cluster: the version table's nine flags, all enabled, nothing to enable.
        #expect(try f.backend.featureFlags() == VersionTable.newClusterFlags(at: RabbitMQVersion(3, 10, 8)))
        try f.backend.enableAllFeatureFlags()

        // The spare, booted for the first time with RABBITMQ_FEATURE_FLAGS, as its own one-node cluster.
        let spare = f.spareNames[0]
        var inventory = f.inventory
        var node = try #require(inventory.nodes.first { $0.name == spare })
        node.spare = false
        node.env["RABBITMQ_FEATURE_FLAGS"] = "quorum_queue,implicit_default_bindings"
        inventory.nodes = [node]
        let b = f.makeBackend(inventory)
        b.verifyClusterName = false
        wipeSpare(spare)
        defer { wipeSpare(spare) }
        try b.start(spare)
        try b.awaitRunning(spare, timeout: 120)
        let before = try b.featureFlags()
        #expect(before.filter { $0.state == .enabled }.map(\.name) == ["implicit_default_bindings", "quorum_queue"])
        #expect(ClusterVersions(nodes: [], flags: before).disabledStableFlags.count == 7)

        try b.enableFeatureFlag("maintenance_mode_status")
        let one = f.json(spare, ["list_feature_flags", "name", "state"]) as? [[String: Any]] ?? []
        #expect(one.first { $0["name"] as? String == "maintenance_mode_status" }?["state"] as? String == "enabled")
        #expect(one.filter { $0["state"] as? String == "enabled" }.count == 3)

        try b.enableAllFeatureFlags()
        let all = f.json(spare, ["list_feature_flags", "name", "state"]) as? [[String: Any]] ?? []
        #expect(all.count == 9 && all.allSatisfy { $0["state"] as? String == "enabled" }, "\(all)")

        let unknown = #expect(throws: ClusterError.self) { try b.enableFeatureFlag("nosuchflag") }
        #expect(unknown?.code == .usage && unknown?.message.contains("not supported by node \(spare)") == true)
    }
}
