import Cluster
import Foundation
@testable import RabbitMQ
import Testing

/// The canary's AMQP client against the real devcluster.
extension RealClusterTests {
    @Test("the AMQP canary client publishes with confirms and consumes every confirmed message back")
    func amqpCanaryRoundTrip() throws {
        expectConverged()
        let client = try f.backend!.makeCanaryClient()
        #expect(client.endpoints.map(\.node) == f.members)
        #expect(client.endpoints.allSatisfy { $0.host == "localhost" && $0.port > 0 })
        let queue = "warren.test.amqp-canary"
        try client.prepare(queue: queue)
        let queues = try f.backend!.queuesViaCLI()
        #expect(queues.first { $0.name == queue }?.type == .quorum)

        let confirmed = client.publish(Array(1...20), queue: queue)
        #expect(confirmed == Array(1...20), "\(client.lastError ?? "")")
        var consumed: [Int] = []
        let problem = f.waitUntil(timeout: 30) {
            consumed += client.consume(queue: queue, max: 100)
            return consumed.count >= 20 ? nil : "consumed \(consumed.count) of 20"
        }
        #expect(problem == nil)
        #expect(consumed.sorted() == Array(1...20))
        #expect(client.consume(queue: queue, max: 100).isEmpty)

        // A message no queue takes comes back and is not counted as confirmed.
        #expect(client.publish([21], queue: "warren.test.no-such-queue").isEmpty)
        // The publisher is still usable afterwards.
        #expect(client.publish([22], queue: queue) == [22])
        _ = f.ctl(n1, ["delete_queue", queue])
    }

    @Test("the AMQP canary client moves past a node that refuses connections, and says so when none accepts")
    func amqpCanaryFailover() throws {
        let good = try f.backend!.makeCanaryClient().endpoints
        let closed = AMQPCanaryClient.Endpoint(node: "closed@localhost", host: "127.0.0.1", port: 1)
        let password = "the-canary-password"
        let client = AMQPCanaryClient(endpoints: [closed] + good, user: "guest", password: "guest")
        try client.prepare(queue: "warren.test.failover")
        #expect(client.publish([2, 3], queue: "warren.test.failover") == [2, 3])
        #expect(client.lastError?.contains("closed@localhost: cannot connect to 127.0.0.1:1") == true, "\(client.lastError ?? "")")
        _ = f.ctl(n1, ["delete_queue", "warren.test.failover"])

        let nowhere = AMQPCanaryClient(endpoints: [closed], user: "guest", password: password)
        let error = try #require(throws: ClusterError.self) { try nowhere.prepare(queue: "warren.test.failover") }
        #expect(error.message.contains("cannot connect over AMQP to any node"))
        #expect(!error.message.contains(password))
        #expect(nowhere.publish([1], queue: "warren.test.failover").isEmpty)

        let wrong = AMQPCanaryClient(endpoints: good, user: "guest", password: password)
        let refused = try #require(throws: ClusterError.self) { try wrong.prepare(queue: "warren.test.failover") }
        #expect(refused.message.contains("login"), "\(refused.message)")
        #expect(!refused.message.contains(password))
    }
}
