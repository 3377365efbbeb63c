import CAMQP
import Cluster
import Foundation

/// Canary traffic over AMQP 0-9-1 (librabbitmq): a publisher that waits for each publisher confirm
/// and a consumer that acknowledges each message, on two connections of their own. When a
/// connection goes (a drained or stopped node closes it), the next attempt connects to the next
/// node of the cluster.
public final class AMQPCanaryClient: CanaryTransport, @unchecked Sendable {
    public struct Endpoint: Equatable, Sendable {
        public var node: String
        public var host: String
        public var port: Int
    }

    public let endpoints: [Endpoint]
    private let user: String
    private let password: String
    private let timeoutMilliseconds: Int32
    private var publisher: OpaquePointer?
    private var consumer: OpaquePointer?
    private var publisherAt = 0
    private var consumerAt = 0
    /// The last connection or protocol failure (never contains the credentials).
    public private(set) var lastError: String?

    public init(endpoints: [Endpoint], user: String, password: String, timeout: Double = 2) {
        self.endpoints = endpoints
        self.user = user
        self.password = password
        self.timeoutMilliseconds = Int32(timeout * 1000)
        consumerAt = endpoints.count > 1 ? 1 : 0 // the two clients start on different nodes
    }

    deinit {
        warren_amqp_close(publisher)
        warren_amqp_close(consumer)
    }

    public var summary: String { "AMQP 0-9-1 with publisher confirms (librabbitmq)" }

    /// Connects to the endpoint at `index` or the next one that accepts, moving `index` there.
    private func connect(_ index: inout Int, confirms: Bool) -> OpaquePointer? {
        for k in 0..<endpoints.count {
            let i = (index + k) % endpoints.count
            let e = endpoints[i]
            var error = [CChar](repeating: 0, count: 512)
            if let c = warren_amqp_connect(e.host, Int32(e.port), user, password, confirms ? 1 : 0, timeoutMilliseconds,
                                           &error, error.count) {
                index = i
                return c
            }
            lastError = "\(e.node): " + String(cString: error)
        }
        return nil
    }

    private func drop(_ connection: inout OpaquePointer?, _ index: inout Int) {
        warren_amqp_close(connection)
        connection = nil
        index = (index + 1) % max(1, endpoints.count)
    }

    public func prepare(queue: String) throws {
        var at = publisherAt
        guard let c = connect(&at, confirms: false) else {
            throw ClusterError(.unavailable, "cannot connect over AMQP to any node (\(lastError ?? "no endpoint"))")
        }
        defer { warren_amqp_close(c) }
        var error = [CChar](repeating: 0, count: 512)
        if warren_amqp_declare_quorum(c, queue, &error, error.count) != 0 {
            throw ClusterError(.unavailable, "cannot declare the quorum queue \(queue): \(String(cString: error))")
        }
        _ = consume(queue: queue, max: 1_000_000)
    }

    public func publish(_ ids: [Int], queue: String) -> [Int] {
        var confirmed: [Int] = []
        for id in ids {
            if publisher == nil { publisher = connect(&publisherAt, confirms: true) }
            guard let p = publisher else { break }
            let body = Array("warren-canary \(id)".utf8)
            guard warren_amqp_publish(p, queue, body, body.count) == 0 else {
                drop(&publisher, &publisherAt)
                continue
            }
            var tag: UInt64 = 0
            var multiple: Int32 = 0
            switch warren_amqp_wait_confirm(p, 5000, &tag, &multiple) {
            case 1: confirmed.append(id)
            case 2: break // nacked or returned: not taken by the queue
            default: drop(&publisher, &publisherAt) // no answer: its fate is unknown, so not confirmed
            }
        }
        return confirmed
    }

    public func consume(queue: String, max: Int) -> [Int] {
        var ids: [Int] = []
        var body = [UInt8](repeating: 0, count: 128)
        while ids.count < max {
            if consumer == nil { consumer = connect(&consumerAt, confirms: false) }
            guard let c = consumer else { break }
            var length = 0
            var tag: UInt64 = 0
            let r = warren_amqp_get(c, queue, &body, body.count, &length, &tag)
            if r == 0 { break }
            if r < 0 {
                drop(&consumer, &consumerAt)
                break
            }
            let text = String(decoding: body[0..<length], as: UTF8.self)
            if text.hasPrefix("warren-canary "), let id = Int(text.dropFirst("warren-canary ".count)) { ids.append(id) }
            // An ack that fails leaves the message to be delivered again: the canary counts ids once.
            if warren_amqp_ack(c, tag) != 0 {
                drop(&consumer, &consumerAt)
                break
            }
        }
        return ids
    }
}

extension RabbitMQBackend {
    /// A canary client on this cluster: the AMQP listeners of its running nodes (from the
    /// management API, or `cluster_status` without it), with the inventory's credentials.
    public func makeCanaryClient() throws -> AMQPCanaryClient {
        let s = try rawStatus()
        var endpoints: [AMQPCanaryClient.Endpoint] = []
        for n in orderedNodes.map(\.name) where s.running.contains(n) {
            let host = String(n.split(separator: "@").last ?? "localhost")
            for l in s.listeners[n] ?? [] where l.protocol == "amqp" {
                endpoints.append(.init(node: n, host: host, port: l.port))
            }
        }
        guard !endpoints.isEmpty else {
            throw ClusterError(.unavailable, "no running node of \(inventory.cluster) lists an AMQP listener")
        }
        guard let credentials = http.credentials else {
            throw ClusterError(.usage, "the canary needs credentials: set the variables the inventory's management user_env and password_env name")
        }
        return AMQPCanaryClient(endpoints: endpoints, user: credentials.user, password: credentials.password)
    }
}
