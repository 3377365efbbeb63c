import Cluster
import Foundation
import Testing
@testable import Simulator

@Suite("Simulated versions and feature flags answer as 3.10.8 does")
struct FeatureFlagTests {
    @Test("a new simulated cluster lists 3.10.8's nine flags, all enabled, and each running node's versions")
    func newCluster() throws {
        let sim = Simulator(nodes: 3, spares: 1)
        let flags = try sim.featureFlags()
        #expect(flags.map(\.name) == VersionTable.flags(at: RabbitMQVersion(3, 10, 8)).map(\.rule.name))
        #expect(flags.allSatisfy { $0.state == .enabled && $0.stability == .stable })
        #expect(try sim.nodeVersions() == ["rabbit@n1": NodeVersions(rabbitmq: "3.10.8", erlang: "25.2.1"),
                                           "rabbit@n2": NodeVersions(rabbitmq: "3.10.8", erlang: "25.2.1"),
                                           "rabbit@n3": NodeVersions(rabbitmq: "3.10.8", erlang: "25.2.1")],
               "the spare is not a member; a stopped node reports nothing")
        try sim.stop("n3")
        #expect(try sim.nodeVersions().keys.sorted() == ["rabbit@n1", "rabbit@n2"])
        #expect(try sim.policies().isEmpty)
    }

    @Test("enable one flag, then all: disabled flags become enabled, and the change is logged and saved")
    func enable() throws {
        let sim = Simulator(nodes: 3)
        sim.setFeatureFlag("user_limits", enabled: false)
        sim.setFeatureFlag("stream_queue", enabled: false)
        #expect(ClusterVersions(nodes: [], flags: try sim.featureFlags()).disabledStableFlags == ["stream_queue", "user_limits"])
        try sim.enableFeatureFlag("user_limits")
        #expect(try sim.featureFlags().first { $0.name == "user_limits" }?.state == .enabled)
        let before = sim.revision
        try sim.enableAllFeatureFlags()
        #expect(sim.revision > before)
        #expect(try sim.featureFlags().allSatisfy { $0.state == .enabled })
        #expect(sim.eventLog.last?.contains("enable_feature_flag all: 1 flag(s) enabled") == true)
        let restored = try Simulator.restore(try sim.snapshot())
        #expect(try restored.featureFlags().allSatisfy { $0.state == .enabled })
    }

    @Test("an unknown flag is refused with the CLI's exit code and words (3.10.8: 64, 'not supported by node')")
    func unknownFlag() {
        let sim = Simulator(nodes: 3)
        let e = failure { try sim.enableFeatureFlag("nosuchflag") }
        #expect(e?.code == .usage && e?.message == "This feature flag is not supported by node rabbit@n1")
    }

    @Test("with every node stopped, flags cannot be read or enabled")
    func allDown() throws {
        let sim = Simulator(nodes: 1)
        try sim.stop("n1")
        #expect(failure { _ = try sim.featureFlags() }?.code == .unavailable)
        #expect(failure { try sim.enableAllFeatureFlags() }?.code == .unavailable)
    }

    @Test("versions read from the simulator plan upgrades; a node on a release the table does not know is named")
    func clusterVersions() throws {
        let sim = Simulator(nodes: 3)
        let versions = try ClusterVersions.read(from: sim)
        #expect(versions.oldest == RabbitMQVersion(3, 10, 8) && !versions.mixed && versions.metadataStore == .mnesia)
        try sim.setVersions("n2", rabbitmq: "3.10.99", erlang: "25.2.1")
        #expect(throws: VersionError.reportedByNode("rabbit@n2", .unknown(RabbitMQVersion(3, 10, 99), known: "3.10.0 to 4.2.9"))) {
            try ClusterVersions.read(from: sim)
        }
    }
}
