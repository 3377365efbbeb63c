import Cluster
import Foundation
import Testing
@testable import Simulator

/// The simulator's rules for releases other than 3.10.8, one test each, named after the rule and
/// its source (the version table's facts, and the comments in Sources/Simulator/Versions.swift).

func release(_ text: String) -> RabbitMQVersion { try! RabbitMQVersion(parsing: text) }

func flag(_ sim: Simulator, _ name: String) throws -> FeatureFlag? { try sim.featureFlags().first { $0.name == name } }

/// Stops the node, installs the release, starts it and waits for it (or throws the boot's failure).
func upgradeNode(_ sim: Simulator, _ node: String, to v: String) throws {
    try sim.stop(node)
    try sim.upgrade(node, to: release(v))
    try sim.start(node)
    try sim.awaitRunning(node, timeout: 300)
}

@Suite("Simulated releases: what differs from 3.10.8, with its source")
struct VersionRuleTests {
    @Test("A new cluster of a release: its stable and required flags enabled, experimental ones not (rabbit_ff_controller.erl@v4.0.5 L578-598); the newest Erlang the matrix lists; Khepri from 4.2.0 (4.2.0 notes L106-124)")
    func newCluster() throws {
        let old = Simulator(nodes: 3, version: release("3.13.7"))
        #expect(try old.nodeVersions()["rabbit@n1"] == NodeVersions(rabbitmq: "3.13.7", erlang: "26.2"))
        #expect(try flag(old, "khepri_db")?.state == .disabled && flag(old, "khepri_db")?.stability == .experimental)
        #expect(try old.featureFlags().filter { $0.stability != .experimental }.allSatisfy { $0.state == .enabled })
        #expect(try old.metadataStore() == .mnesia)
        let new = Simulator(nodes: 3, version: release("4.2.0"))
        #expect(try flag(new, "khepri_db")?.state == .enabled && new.metadataStore() == .khepri)
        #expect(Simulator.erlang(for: release("4.0.5")) == "27.0" && Simulator.erlang(for: release("3.12.14")) == "26.2",
                "3.12.14 is not in the matrix: the nearest listed patch decides")
        #expect(throws: VersionError.self) { try Simulator.release("3.9.29") }
    }

    @Test("A flag a member does not define is `unavailable` (rabbit_feature_flags.erl@v4.2.9 L743-755): enabling it is refused as unsupported, `enable all` leaves it")
    func unavailableInMixedCluster() throws {
        let sim = Simulator(nodes: 3, version: release("3.12.13"))
        try upgradeNode(sim, "n1", to: "3.13.7")
        try sim.stop("n2"); try sim.start("n2"); try sim.awaitRunning("n2", timeout: 300)
        // n1 answers (it is the primary: the first running node with the largest view).
        #expect(try flag(sim, "message_containers")?.state == .unavailable)
        #expect(failure { try sim.enableFeatureFlag("message_containers") }?.message == "This feature flag is not supported by node rabbit@n1")
        try sim.enableAllFeatureFlags()
        #expect(try flag(sim, "message_containers")?.state == .unavailable)
    }

    @Test("With the feature flags controller (3.11+, feature_flags_v2) a flag is not enabled while a member is down: missing_clustered_nodes (rabbit_ff_controller.erl@v3.11.0 L410-451)")
    func enableNeedsEveryMember() throws {
        let sim = Simulator(nodes: 3, version: release("3.13.7"))
        sim.setFeatureFlag("stream_filtering", enabled: false)
        try sim.stop("n3")
        let e = failure { try sim.enableAllFeatureFlags() }
        #expect(e?.code == .unavailable && e?.message.contains("missing_clustered_nodes") == true && e?.message.contains("rabbit@n3") == true)
        #expect(try flag(sim, "stream_filtering")?.state == .disabled)
        let old = Simulator(nodes: 3)
        old.setFeatureFlag("user_limits", enabled: false)
        try old.stop("n3")
        try old.enableAllFeatureFlags()   // 3.10.8 has no controller: not modelled as refused (UNVERIFIED)
        #expect(try flag(old, "user_limits")?.state == .enabled)
    }

    @Test("An experimental flag needs --opt-in, which warren does not pass (enable_feature_flag_command.ex@v4.0.5 L100-114)")
    func experimentalNeedsOptIn() {
        let sim = Simulator(nodes: 3, version: release("4.0.5"))
        let e = failure { try sim.enableFeatureFlag("khepri_db") }
        #expect(e?.code == .usage && e?.message.contains("requires the user to explicitly opt-in") == true)
    }

    @Test("On 4.2, `enable_feature_flag all` enables khepri_db: an upgraded cluster moves from Mnesia to Khepri (4.2.0 notes L106-124; rabbit_feature_flags.erl@v4.2.9 L466-467)")
    func enableAllMigratesToKhepriOn42() throws {
        let sim = Simulator(nodes: 3, version: release("4.1.8"))
        for n in ["n1", "n2", "n3"] { try upgradeNode(sim, n, to: "4.2.0") }
        #expect(try sim.metadataStore() == .mnesia && flag(sim, "khepri_db")?.state == .disabled)
        try sim.enableAllFeatureFlags()
        #expect(try sim.metadataStore() == .khepri)
        #expect(sim.eventLog.last?.contains("metadata migrated to Khepri") == true)
    }

    @Test("upgrade installs a release on a stopped node only; it boots it with the flags it had; a failing upgrade command installs nothing")
    func upgradePrimitive() throws {
        let sim = Simulator(nodes: 3, version: release("3.12.13"))
        #expect(failure { try sim.upgrade("n1", to: release("3.13.7")) }?.code == .usage, "refused while it runs")
        #expect(failure { try sim.upgrade("n1", to: release("3.9.29")) }?.message.contains("not in warren's version table") == true)
        try sim.stop("n1")
        try sim.failNextUpgrade("n1")
        #expect(failure { try sim.upgrade("n1", to: release("3.13.7")) }?.code == .unavailable)
        try sim.start("n1"); try sim.awaitRunning("n1", timeout: 300)
        #expect(try sim.nodeVersions()["rabbit@n1"]?.rabbitmq == "3.12.13")
        try upgradeNode(sim, "n1", to: "3.13.7")
        #expect(try sim.nodeVersions()["rabbit@n1"]?.rabbitmq == "3.13.7")
        #expect(try sim.status().healthy)
    }

    @Test("A node of a release that requires a flag the cluster has disabled refuses to boot (rabbit_ff_registry_factory.erl@v4.2.9 L261-298)")
    func requiredFlagBlocksBoot() throws {
        let sim = Simulator(nodes: 3, version: release("3.13.7"))
        sim.setFeatureFlag("message_containers", enabled: false)
        let e = failure { try upgradeNode(sim, "n1", to: "4.0.5") }
        #expect(e?.message.contains("`message_containers`: required feature flag not enabled") == true)
        #expect(try sim.ping("n1") == false, "the boot failed and the VM stopped")
    }

    @Test("A node on an Erlang its new release does not run on fails to start (3.13.0 notes L92-95)")
    func erlangOutsideRange() throws {
        let sim = Simulator(nodes: 3)   // 3.10.8 on Erlang 25.2.1
        let e = failure { try upgradeNode(sim, "n1", to: "3.13.7") }
        #expect(e?.message.contains("does not run on Erlang 25.2.1") == true)
    }

    @Test("A node cannot join when a flag enabled on one side is unknown to the other: incompatible_feature_flags (rabbit_ff_controller.erl@v4.0.5 L495-518)")
    func joinNeedsCompatibleFlags() throws {
        let sim = Simulator(nodes: 3, spares: 1, version: release("3.13.7"))
        try sim.stop("n4")
        try sim.upgrade("n4", to: release("4.0.5"))
        try sim.start("n4"); try sim.awaitRunning("n4", timeout: 300)   // standalone
        try sim.stopApp("n4"); try sim.reset("n4")   // a new 4.0.5 node: rabbitmq_4.0.0 enabled
        let e = failure { try sim.join("n4", seed: "n1") }
        #expect(e?.code == .unavailable && e?.message.contains("incompatible_feature_flags") == true && e?.message.contains("(RabbitMQ 3.13.7) does not know") == true)
        #expect(try sim.status().members.count == 3)
    }

    @Test("On Khepri a node boots once a majority of members run, whichever stopped last, and fails after 300 s without one (rabbit_khepri.erl@v4.2.0 L270-309; docs/metadata-store/clustering.md L93-103)")
    func khepriBootNeedsMajority() throws {
        let sim = Simulator(nodes: 3, version: release("4.2.0"))
        for n in ["n3", "n2", "n1"] { try sim.stop(n) }   // n1 stopped last
        try sim.start("n1")
        let e = failure { try sim.awaitRunning("n1", timeout: 400) }
        #expect(e?.message.contains("timeout_waiting_for_leader") == true, "the node stopped last does not boot alone")
        try sim.start("n2")
        try sim.start("n1")
        try sim.awaitRunning("n2", timeout: 300)
        try sim.awaitRunning("n1", timeout: 300)
        try sim.start("n3"); try sim.awaitRunning("n3", timeout: 300)
        #expect(try sim.status().healthy)
    }

    @Test("force_boot does nothing on Khepri (the CLI exits 0: clustering_management_SUITE.erl@v4.2.9 L828-834): warren refuses it and says why; on Mnesia it still works")
    func forceBootOnKhepri() throws {
        let sim = Simulator(nodes: 3, version: release("4.2.0"))
        try sim.stop("n1")
        let e = failure { try sim.forceBoot("n1") }
        #expect(e?.code == .usage && e?.message.contains("not supported with Khepri") == true && e?.message.contains("majority") == true)
        let mnesia = Simulator(nodes: 3, version: release("4.1.8"))
        try mnesia.stop("n1")
        try mnesia.forceBoot("n1")
    }

    @Test("On Khepri declaring, joining and resetting need a majority: 'Khepri has timed out ... could be in minority', exit 75 (docs/metadata-store/clustering.md L80-131; clustering_management_SUITE.erl@v4.2.9 L741-759)")
    func khepriMinority() throws {
        let sim = Simulator(nodes: 3, spares: 1, version: release("4.2.0"))
        try sim.stop("n2"); try sim.stop("n3")
        let declare = failure { try sim.declareQueue(qq("q", on: "n1")) }
        #expect(declare?.code == .timeout && declare?.message.contains("could be in minority") == true)
        #expect(failure { try sim.join("n4", seed: "n1") }?.code == .timeout)
        try sim.stopApp("n1")
        #expect(failure { try sim.reset("n1") }?.code == .timeout)
    }

    @Test("force_reset fails on Khepri from 4.0.7 and in 4.1+ (rabbit_db.erl@v4.0.7, @v4.2.0 L167-173), not in 4.0.6; on Mnesia 4.1+ it is deprecated but works (4.1.0 notes L361-364)")
    func forceResetOnKhepri() throws {
        for (v, refused) in [("4.0.6", false), ("4.0.7", true), ("4.2.0", true)] {
            let sim = Simulator(nodes: 3, version: release(v))
            if v != "4.2.0" {
                sim.setFeatureFlag("khepri_db", enabled: true)
            }
            try sim.stopApp("n3")
            let e = failure { try sim.forceReset("n3") }
            #expect((e?.message.contains("Forced reset is unsupported with Khepri") == true) == refused, "\(v)")
        }
        let mnesia = Simulator(nodes: 3, version: release("4.1.8"))
        try mnesia.stopApp("n3")
        try mnesia.forceReset("n3")
        #expect(mnesia.eventLog.last?.contains("force_reset (deprecated)") == true)
    }

    @Test("On Khepri forget --offline is not supported, and an online forget resets the node it removes (rabbit_db_cluster.erl@v4.2.0 L281-288; rabbit_khepri.erl@v4.2.0 L659-687)")
    func khepriForget() throws {
        let sim = Simulator(nodes: 3, version: release("4.2.0"))
        try sim.stopApp("n3")
        try sim.forget("n3", from: "n1", offline: false)
        #expect(try sim.nodes()[2].members == ["rabbit@n3"], "n3 is standalone: no reset needed")
        try sim.startApp("n3")
        #expect(try sim.status().members == ["rabbit@n1", "rabbit@n2"])
        let offline = Simulator(nodes: 3, version: release("4.2.0"))
        try offline.stop("n1")
        #expect(failure { try offline.forget("n3", from: "n1", offline: true) }?.message.contains("not_supported") == true)
    }

    @Test("From 4.2.6 forget_cluster_node shrinks the replicas before it removes the member (forget_cluster_node_command.ex@v4.2.6 L53-110): in a Khepri minority 4.2.6 has shrunk them, 4.2.5 has changed nothing")
    func forgetShrinksFirst() throws {
        for (v, shrunk) in [("4.2.5", false), ("4.2.6", true)] {
            let sim = Simulator(nodes: 5, version: release(v))
            try sim.declareQueue(qq("q", on: "n1"))   // members n1, n2, n3
            try sim.stop("n4"); try sim.stop("n5"); try sim.stopApp("n3")
            let e = failure { try sim.forget("n3", from: "n1", offline: false) }
            #expect(e?.code == .timeout, "\(v)")
            #expect(try queue(sim, "q").members.contains("rabbit@n3") == !shrunk, "\(v)")
        }
    }

    @Test("From 4.1 join_cluster stops, resets and restarts a running node itself (docs/clustering.md@0acf2a4 L744-752); 4.0 still needs stop_app")
    func joinWithoutStopApp() throws {
        let new = Simulator(nodes: 3, spares: 1, version: release("4.1.8"))
        try new.join("n4", seed: "n1")
        #expect(try new.status().running.contains("rabbit@n4"))
        let old = Simulator(nodes: 3, spares: 1, version: release("4.0.9"))
        #expect(failure { try old.join("n4", seed: "n1") }?.code == .usage)
    }

    @Test("rebalance takes stream from 3.12.0 and no longer classic from 4.0.0 (rebalance_command.ex `@known_types` at v3.12.0 and v4.0.0)")
    func rebalanceTypes() throws {
        try Simulator(nodes: 3, version: release("3.12.13")).rebalance("stream")
        let four = Simulator(nodes: 3, version: release("4.0.5"))
        let e = failure { try four.rebalance("classic") }
        #expect(e?.code == .unavailable && e?.message == "Error: type classic is not supported. Try one of all, quorum, stream.")
        try Simulator(nodes: 3).rebalance("classic")
    }

    @Test("The newer health checks where the release has them: check_if_metadata_store_is_initialized (4.0.6), check_for_quorum_queues_without_an_elected_leader (4.0.8, 4.1+)")
    func newerHealthChecks() throws {
        #expect(try Simulator(nodes: 3, version: release("4.0.5")).health("n1").count == 4)
        let sim = Simulator(nodes: 3, version: release("4.1.8"))
        try sim.declareQueue(qq("q", on: "n1"))
        #expect(try sim.health("n1").map(\.name).suffix(2) == ["check_if_metadata_store_is_initialized", "check_for_quorum_queues_without_an_elected_leader"])
        try sim.stop("n2"); try sim.stop("n3")
        let leaderless = try #require(try sim.health("n1").last)
        #expect(!leaderless.ok && leaderless.detail.contains("'q'"))
    }

    @Test("A state saved before flags were kept per node (format 2) is read with the release's flags, the disabled ones off")
    func formatTwoState() throws {
        let sim = Simulator(nodes: 3)
        var json = try #require(try JSONSerialization.jsonObject(with: Data(sim.snapshot())) as? [String: Any])
        json["format"] = 2
        json["disabledFeatureFlags"] = ["user_limits"]
        json["nodes"] = (json["nodes"] as? [[String: Any]] ?? []).map { var n = $0; n["flags"] = nil; return n }
        let restored = try Simulator.restore(Array(try JSONSerialization.data(withJSONObject: json)))
        #expect(try flag(restored, "user_limits")?.state == .disabled)
        #expect(try flag(restored, "quorum_queue")?.state == .enabled)
    }
}
