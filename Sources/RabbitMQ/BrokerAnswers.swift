import Cluster
import Foundation

/// The broker's answers, as the CLI tools (`--formatter json`) and the management API give them
/// (RabbitMQ 3.10.8 recorded live, later versions constructed from their source: examples under
/// Tests/RabbitMQTests/Fixtures/<version>). Fields a reader does not need are left out; fields
/// whose shape varies are decoded leniently (see ``NodeList``, ``RunningNodes``).
enum BrokerAnswer {
    /// `rabbitmqctl cluster_status --formatter json`.
    struct ClusterStatus: Decodable {
        var cluster_name: String?
        var disk_nodes: [String]?
        var ram_nodes: [String]?
        var running_nodes: RunningNodes?
        /// node -> nodes it is partitioned from (`{}` when none).
        var partitions: Lenient<[String: [String]]>?
        var alarms: [Alarm]?
        /// node -> "not under maintenance" | "under maintenance" (wrapped in ANSI colours).
        var maintenance_status: [String: String]?
        var versions: [String: Versions]?
        var listeners: [String: [Listener]]?
    }

    /// An alarm in `cluster_status`: `{"node":..,"resource":"disk","type":"resource_limit"}`, or
    /// a bare string for other alarm kinds.
    struct Alarm: Decodable {
        var node: String?
        var resource: String?

        init(from decoder: Decoder) throws {
            if let text = try? decoder.singleValueContainer().decode(String.self) {
                node = nil
                resource = text
                return
            }
            let c = try decoder.container(keyedBy: CodingKeys.self)
            node = try c.decodeIfPresent(String.self, forKey: .node)
            resource = try c.decodeIfPresent(String.self, forKey: .resource) ?? c.decodeIfPresent(String.self, forKey: .type)
        }
        enum CodingKeys: String, CodingKey { case node, resource, type }
    }

    /// `running_nodes` of `cluster_status`: a list, except on 4.1.2 and 4.1.3, whose JSON
    /// formatter printed the names run together in one string (release-notes/4.1.4.md L118-121,
    /// rabbitmq-server#14398); then nil, and the running nodes are those `versions` lists.
    struct RunningNodes: Decodable {
        var names: [String]?
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let list = try? c.decode([String].self) {
                names = list
            } else {
                _ = try c.decode(String.self)
                names = nil
            }
        }
    }

    /// Per running node (cluster_status_command.ex@v4.2.9 L56-100, `versions_by_node`).
    struct Versions: Decodable {
        var rabbitmq_version: String
        var erlang_version: String
    }

    struct Listener: Decodable {
        var node: String?
        var `protocol`: String
        var port: Int
    }

    /// `rabbitmqctl list_feature_flags name state stability provided_by desc doc_url`; also the
    /// shape of the `feature_flags` of `cluster_status` (which adds `require_level`,
    /// `experiment_level` and `callbacks` from 4.1.0: rabbit_ff_extra.erl@v4.1.0 L78-86).
    struct FeatureFlag: Decodable {
        var name: String
        var state: String
        var stability: String
        var provided_by: String?
        var desc: String?
        var doc_url: String?

        /// The flag; an unknown state or stability is an error naming it.
        func model() throws -> Cluster.FeatureFlag {
            guard let st = FeatureFlagState(rawValue: state) else {
                throw ClusterError(.software, "feature flag \(name) has a state warren does not know: '\(state)'")
            }
            guard let stab = FeatureFlagStability(rawValue: stability) else {
                throw ClusterError(.software, "feature flag \(name) has a stability warren does not know: '\(stability)'")
            }
            return Cluster.FeatureFlag(name: name, state: st, stability: stab, providedBy: provided_by ?? "rabbit",
                                       description: desc ?? "", docURL: doc_url ?? "")
        }
    }

    /// One policy of `GET /api/policies` or `rabbitmqctl list_policies --formatter json`.
    struct Policy: Decodable {
        var vhost: String
        var name: String
        var pattern: String
        var applyTo: String
        /// The definition's keys: the API gives the definition as an object, the CLI (3.10.8) as
        /// the text of one.
        var keys: [String]

        enum CodingKeys: String, CodingKey { case vhost, name, pattern, applyTo = "apply-to", definition }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            vhost = try c.decode(String.self, forKey: .vhost)
            name = try c.decode(String.self, forKey: .name)
            pattern = try c.decode(String.self, forKey: .pattern)
            applyTo = try c.decodeIfPresent(String.self, forKey: .applyTo) ?? "all"
            if let object = try? c.decode([String: AnyValue].self, forKey: .definition) {
                keys = object.keys.sorted()
            } else {
                let text = try c.decode(String.self, forKey: .definition)
                keys = try JSONDecoder().decode([String: AnyValue].self, from: Data(text.utf8)).keys.sorted()
            }
        }

        var model: Cluster.Policy { Cluster.Policy(vhost: vhost, name: name, pattern: pattern, applyTo: applyTo, keys: keys) }
    }

    /// Any JSON value, read past (a policy definition's values are not used).
    struct AnyValue: Decodable {
        init(from decoder: Decoder) throws {}
    }

    /// `GET /api/overview`.
    struct Overview: Decodable {
        var cluster_name: String?
        var node: String?
        var rabbitmq_version: String?
        var erlang_version: String?
        var listeners: [Listener]?
    }

    /// One element of `GET /api/nodes`.
    struct Node: Decodable {
        var name: String
        var running: Bool?
        var partitions: [String]?
        var mem_alarm: Bool?
        var disk_free_alarm: Bool?
    }

    /// One queue of `rabbitmqctl list_queues ... --formatter json` or `GET /api/queues`.
    struct Queue: Decodable {
        var name: String
        var vhost: String?
        var type: String?
        var durable: Bool?
        var leader: String?
        var members: NodeList?
        var online: NodeList?
        /// The management API's home node of a classic queue (and a stream's leader).
        var node: String?
        var messages: Int?
        var state: String?
    }

    /// A list of nodes; the CLI prints `""` instead of `[]` for a classic queue.
    struct NodeList: Decodable {
        var nodes: [String]
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            nodes = (try? c.decode([String].self)) ?? []
        }
    }

    /// `rabbitmq-queues check_if_node_is_quorum_critical --formatter json` (`{"result":"ok"}`, or
    /// `{"result":"error","queues":[...]}` on standard error with exit 69) and
    /// `GET /api/health/checks/node-is-quorum-critical` (`{"status":"failed","queues":[...]}`, 503).
    struct QuorumCheck: Decodable {
        var result: String?
        var status: String?
        var queues: [QueueRef]?
        var message: String?
        var reason: String?
    }

    /// A queue named in a check: `{"name":..,"virtual_host":..}` or a bare name.
    struct QueueRef: Decodable {
        var name: String
        init(from decoder: Decoder) throws {
            if let text = try? decoder.singleValueContainer().decode(String.self) {
                name = text
                return
            }
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
        }
        enum CodingKeys: String, CodingKey { case name }
    }

    /// `rabbitmq-diagnostics status --formatter json` (the fields read).
    struct DiagnosticsStatus: Decodable {
        var is_under_maintenance: Bool?
        var rabbitmq_version: String?
        var erlang_version: String?
    }

    /// One row of `rabbitmq-queues grow|shrink ... --formatter json`.
    struct MembershipRow: Decodable {
        var name: String
        var vhost: String?
        var result: String?
    }

    /// One row of `rabbitmqctl list_vhosts name --formatter json`.
    struct VHost: Decodable {
        var name: String
    }
}

/// A value that is decoded when it has the expected shape and is nil otherwise (a field whose
/// shape differs between an empty and a non-empty answer).
struct Lenient<T: Decodable>: Decodable {
    var value: T?
    init(from decoder: Decoder) throws {
        value = try? decoder.singleValueContainer().decode(T.self)
    }
}
