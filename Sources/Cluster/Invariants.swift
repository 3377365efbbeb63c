/// What the invariant checks found: on a simulated cluster from everything that happened; on a
/// real one from the canary's traffic and the cluster's end state.
public struct InvariantReport: Codable, Equatable, Sendable {
    /// A quorum queue or stream that lost its majority, and for how long (target seconds).
    public struct MajorityLoss: Codable, Equatable, Sendable {
        public var queue: String
        public var seconds: Double
        public init(queue: String, seconds: Double) {
            self.queue = queue
            self.seconds = seconds
        }
    }
    public var majorityLosses: [MajorityLoss]
    /// Confirmed messages lost, per queue.
    public var lostMessages: [String: Int]
    /// Every member running, in every peer's view, no partitions, no alarms.
    public var converged: Bool
    /// Why the cluster is not converged (empty when converged).
    public var convergenceProblems: [String]

    public init(majorityLosses: [MajorityLoss] = [], lostMessages: [String: Int] = [:],
                converged: Bool, convergenceProblems: [String] = []) {
        self.majorityLosses = majorityLosses
        self.lostMessages = lostMessages
        self.converged = converged
        self.convergenceProblems = convergenceProblems
    }

    /// No majority lost and no confirmed message lost (convergence is judged separately).
    public var safe: Bool { majorityLosses.isEmpty && lostMessages.values.allSatisfy { $0 == 0 } }
}
