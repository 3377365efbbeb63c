/// Where canary messages travel (`--canary`): a real AMQP client on a real cluster, the
/// simulator's message counts on a simulated one. Messages are numbered, so the canary can tell
/// exactly which confirmed messages never came back.
public protocol CanaryTransport: AnyObject {
    /// What carries the messages, for the run's output and report.
    var summary: String { get }
    /// Declares the durable quorum queue and empties it.
    func prepare(queue: String) throws
    /// Publishes one message per id, each waiting for the broker's confirm; returns the ids it
    /// confirmed (taken by the queue).
    func publish(_ ids: [Int], queue: String) -> [Int]
    /// Takes up to `max` messages from the queue, acknowledging each; returns their ids.
    func consume(queue: String, max: Int) -> [Int]
}
