import Cluster

/// The simulator's canary: its queue keeps message counts in order, so the ids come back first in,
/// first out.
public final class SimulatedCanaryTransport: CanaryTransport {
    let backend: Backend
    private var queued: [Int] = []

    public init(backend: Backend) { self.backend = backend }

    public var summary: String { "the simulator's message counts" }

    public func prepare(queue: String) throws {
        do {
            try backend.declareQueue(QueueSpec(name: queue, type: .quorum, durable: true))
        } catch let e as ClusterError where e.message.contains("exists") {}
        _ = try? backend.consume(queue: queue, max: 100_000)
    }

    public func publish(_ ids: [Int], queue: String) -> [Int] {
        let n = (try? backend.publish(queue: queue, count: ids.count, mandatory: true)) ?? 0
        queued += ids.prefix(n)
        return Array(ids.prefix(n))
    }

    public func consume(queue: String, max: Int) -> [Int] {
        let n = min((try? backend.consume(queue: queue, max: max)) ?? 0, queued.count)
        defer { queued.removeFirst(n) }
        return Array(queued.prefix(n))
    }
}
