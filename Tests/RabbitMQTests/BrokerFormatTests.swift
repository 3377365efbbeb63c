import Cluster
import Foundation
@testable import RabbitMQ
import Testing

/// The broker's output formats, parsed from fixtures (Fixtures/<version>/README.md says where
/// each came from: 3.10.8 recorded live, later versions constructed from source). No broker runs.
@Suite("Broker output formats, 3.10.8 to 4.2.9, from fixtures")
struct BrokerFormatTests {
    static func fixture(_ path: String) throws -> Data {
        let url = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil)).appendingPathComponent(path)
        return try Data(contentsOf: url)
    }

    func decode<T: Decodable>(_ type: T.Type, _ path: String) throws -> T {
        try JSONDecoder().decode(type, from: Self.fixture(path))
    }

    func flags(_ path: String) throws -> [FeatureFlag] {
        try decode([BrokerAnswer.FeatureFlag].self, path).map { try $0.model() }
    }

    static let flagFixtures = [
        ("3.10.8", "3.10.8/list_feature_flags_full.json"),
        ("3.10.8", "3.10.8/list_feature_flags_full.some_disabled.json"),
        ("3.13.7", "3.13.7/list_feature_flags.full.json"),
        ("3.13.7", "3.13.7/list_feature_flags.after_rolling_upgrade_before_enable.json"),
        ("4.0.9", "4.0.9/list_feature_flags.full.json"),
        ("4.0.9", "4.0.9/list_feature_flags.after_upgrade_from_3.13_before_enable.json"),
        ("4.2.9", "4.2.9/list_feature_flags.new_cluster_khepri.full.json"),
        ("4.2.9", "4.2.9/list_feature_flags.upgraded_from_4.1_mnesia_before_enable.json"),
    ]

    @Test("list_feature_flags parses in every version, and each flag's stability is the version table's", arguments: flagFixtures)
    func flagsAgreeWithTable(version: String, path: String) throws {
        let list = try flags(path)
        let table = Dictionary(uniqueKeysWithValues: VersionTable.flags(at: try RabbitMQVersion(parsing: version)).map { ($0.rule.name, $0.stability) })
        #expect(!list.isEmpty)
        for f in list {
            #expect(table[f.name] == f.stability, "\(f.name) in \(path)")
            if f.stability == .required { #expect(f.state == .enabled, "required flags are always enabled") }
        }
    }

    @Test("the live 3.10.8 list is what the simulator answers: same names, stabilities, plugins, descriptions and URLs")
    func live3108() throws {
        #expect(try flags("3.10.8/list_feature_flags_full.json") == VersionTable.newClusterFlags(at: RabbitMQVersion(3, 10, 8)))
    }

    @Test("which stable flags are disabled, and which store is in use, read from the flags")
    func disabledAndStore() throws {
        func cluster(_ path: String) throws -> ClusterVersions { ClusterVersions(nodes: [], flags: try flags(path)) }
        #expect(try cluster("3.10.8/list_feature_flags_full.some_disabled.json").disabledStableFlags
            == ["classic_mirrored_queue_version", "drop_unroutable_metric", "empty_basic_get_metric", "maintenance_mode_status",
                "stream_queue", "user_limits", "virtual_host_metadata"])
        #expect(try cluster("3.13.7/list_feature_flags.full.json").disabledStableFlags.isEmpty, "khepri_db is experimental, not stable")
        #expect(try cluster("3.13.7/list_feature_flags.full.json").metadataStore == .mnesia)
        #expect(try cluster("4.0.9/list_feature_flags.after_upgrade_from_3.13_before_enable.json").disabledStableFlags
            == ["rabbit_exchange_type_local_random", "rabbitmq_4.0.0"])
        #expect(try cluster("4.2.9/list_feature_flags.new_cluster_khepri.full.json").metadataStore == .khepri)
        let upgraded = try cluster("4.2.9/list_feature_flags.upgraded_from_4.1_mnesia_before_enable.json")
        #expect(upgraded.metadataStore == .mnesia && upgraded.disabledStableFlags == ["khepri_db", "rabbitmq_4.2.0"])
    }

    @Test("an unknown state or stability is an error naming the flag, not a silent default")
    func unknownFlagValues() throws {
        let text = #"[{"name":"future_flag","state":"half_enabled","stability":"stable"}]"#
        let rows = try JSONDecoder().decode([BrokerAnswer.FeatureFlag].self, from: Data(text.utf8))
        #expect(throws: ClusterError.self) { try rows[0].model() }
    }

    // MARK: cluster_status

    func status(_ path: String) throws -> RabbitMQBackend.RawStatus {
        RabbitMQBackend.RawStatus(try decode(BrokerAnswer.ClusterStatus.self, path))
    }

    @Test("cluster_status gives each running node's versions (3.10.8 live, 3.13.7, 4.0.9, 4.2.9 on Khepri)")
    func clusterStatusVersions() throws {
        let live = try status("3.10.8/cluster_status.json")
        #expect(Set(live.running) == Set(live.members) && live.members.count == 3)
        #expect(live.versions.values.allSatisfy { $0.rabbitmq == "3.10.8" && $0.erlang == "25.2.3" })
        for (path, version) in [("3.13.7/cluster_status.json", "3.13.7"), ("4.0.9/cluster_status.json", "4.0.9"),
                                ("4.2.9/cluster_status.khepri.json", "4.2.9")] {
            let s = try status(path)
            #expect(s.members.count == 3 && s.running.count == 3, "\(path)")
            #expect(s.versions.count == 3 && s.versions.values.allSatisfy { $0.rabbitmq == version }, "\(path)")
            #expect(s.partitions.isEmpty, "\(path)")
        }
    }

    @Test("a stopped node has no version: it is not running, and its release is left unread (3.10.8 live, 4.2.9)")
    func stoppedNode() throws {
        for path in ["3.10.8/cluster_status.node3_stopped.json", "4.2.9/cluster_status.khepri.node3_stopped.json"] {
            let s = try status(path)
            #expect(s.members.count == 3 && s.running.count == 2 && s.versions.count == 2, "\(path)")
            #expect(Set(s.versions.keys) == Set(s.running), "\(path)")
        }
    }

    @Test("4.1.2-4.1.3 print running_nodes as one string (release-notes/4.1.4.md L118-121): the running nodes are those with versions")
    func runningNodesString() throws {
        let s = try status("4.1.3/cluster_status.running_nodes_string_bug.json")
        #expect(s.running == ["rabbit@node1", "rabbit@node2", "rabbit@node3"])
        struct Flags: Decodable { var feature_flags: [BrokerAnswer.FeatureFlag] }
        let flags = try decode(Flags.self, "4.1.3/cluster_status.running_nodes_string_bug.json").feature_flags
        #expect(try flags.map { try $0.model() }.count > 20, "4.1 flags carry require_level, experiment_level, callbacks too")
    }

    @Test("a mid-upgrade cluster reports each node's own release (4.0.9 and 3.13.7)")
    func mixed() throws {
        let s = try status("4.0.9/cluster_status.mixed_4.0.9_3.13.7.queried_on_4.0.9.json")
        #expect(s.versions.mapValues(\.rabbitmq) == ["rabbit@node1": "4.0.9", "rabbit@node2": "3.13.7", "rabbit@node3": "3.13.7"])
    }

    // MARK: Policies, checks, errors

    @Test("policies read the same from the CLI (definition as text, 3.10.8) and from the API (definition as an object)")
    func policies() throws {
        let cli = try decode([BrokerAnswer.Policy].self, "3.10.8/list_policies.json").map(\.model)
        let api = try decode([BrokerAnswer.Policy].self, "3.10.8/api_policies.json").map(\.model)
        #expect(cli == api)
        #expect(cli.map(\.name) == ["ha-all", "maxlen"])
        #expect(cli[0].mirroringKeys == ["ha-mode", "ha-sync-mode"] && cli[0].applyTo == "queues")
        #expect(cli[1].mirroringKeys.isEmpty && cli[1].keys == ["max-length"])
        #expect(try decode([BrokerAnswer.Policy].self, "3.10.8/list_policies.empty_vhost.json").isEmpty)
    }

    @Test("check_for_quorum_queues_without_an_elected_leader (4.0.8+) answers in the shape of the quorum-critical check")
    func leaderlessCheck() throws {
        let error = try decode(BrokerAnswer.QuorumCheck.self, "4.2.9/check_for_quorum_queues_without_an_elected_leader.error.json")
        #expect(error.result == "error" && error.queues?.map(\.name) == ["orders"])
        #expect(try decode(BrokerAnswer.QuorumCheck.self, "4.2.9/check_for_quorum_queues_without_an_elected_leader.ok.json").result == "ok")
    }

    @Test("enabling an unknown flag fails as the CLI does (exit 64), in the words the simulator uses too")
    func unknownFlag() throws {
        let stderr = String(decoding: try Self.fixture("3.10.8/enable_feature_flag.unknown.stderr.txt"), as: UTF8.self)
        let backend = RabbitMQBackend(inventory: Inventory(cluster: "warren-dev", nodes: [
            .init(name: "wv1@localhost", management: nil, start: "true", stop: "true")]), environment: [:])
        let e = backend.cliError("rabbitmqctl", node: "wv1@localhost", args: ["enable_feature_flag", "nosuchflag"],
                                 ProcessResult(exitCode: 64, stdout: "Enabling feature flag \"nosuchflag\" ...\n", stderr: stderr, duration: 0.5, timedOut: false))
        #expect(e.code == .usage)
        #expect(e.message.hasSuffix("This feature flag is not supported by node wv1@localhost"), "\(e.message)")
    }

    @Test("the partition handling is read from a node's environment: a mode, or pause_if_all_down's tuple (3.10.8)")
    func partitionHandlingFromEnvironment() throws {
        for (file, mode) in [("environment.json", "ignore"), ("environment.pause_minority.json", "pause_minority"),
                             ("environment.pause_if_all_down.json", "pause_if_all_down")] {
            let text = String(decoding: try Self.fixture("3.10.8/" + file), as: UTF8.self)
            #expect(RabbitMQBackend.partitionHandling(environment: text) == mode, "\(file)")
        }
        #expect(RabbitMQBackend.partitionHandling(environment: #"{"rabbit": {}}"#) == nil)
        #expect(RabbitMQBackend.partitionHandling(environment: "Error: unable to connect") == nil)
    }
}
