import Cluster

/// On resume: whether a primitive whose result was never journaled (warren stopped between the
/// call and its result) took effect, worked out from the cluster as it is now.
public enum PendingCall {
    public enum Verdict: Equatable {
        /// The effect is there: the result is journaled `ok`, and the step does not do it again.
        case applied(String)
        /// The effect is not there: the step re-runs it.
        case notApplied(String)
        /// The cluster cannot tell: the step re-runs it (every such primitive can be repeated).
        case unknown(String)

        /// The journal's outcome word.
        public var outcome: String {
            switch self {
            case .applied: return "ok"
            case .notApplied: return "not_applied"
            case .unknown: return "unknown"
            }
        }

        public var detail: String {
            switch self {
            case .applied(let d), .notApplied(let d), .unknown(let d): return d
            }
        }
    }

    /// Asks the cluster whether the call's effect is there.
    public static func verify(_ call: JournalEvent.PrimitiveCallRecord, backend: Backend) -> Verdict {
        guard let node = call.node else { return .unknown("\(call.primitive) leaves nothing to check") }
        func info() -> NodeInfo? { (try? backend.nodes())?.first { $0.name == node } }
        func verdict(_ applied: Bool, _ yes: String, _ no: String) -> Verdict { applied ? .applied(yes) : .notApplied(no) }
        switch call.primitive {
        case "stop":
            guard let up = try? backend.ping(node) else { return .unknown("\(node) could not be pinged") }
            return verdict(!up, "\(node) no longer answers ping", "\(node) still answers ping")
        case "start":
            guard let up = try? backend.ping(node) else { return .unknown("\(node) could not be pinged") }
            return verdict(up, "\(node) answers ping", "\(node) does not answer ping")
        case "stop_app":
            guard let i = info() else { return .unknown("the state of \(node) could not be read") }
            return verdict(i.state != .running && i.state != .booting, "RabbitMQ is not running on \(node)", "RabbitMQ still runs on \(node)")
        case "start_app":
            guard let i = info() else { return .unknown("the state of \(node) could not be read") }
            return verdict(i.state == .running, "RabbitMQ runs on \(node)", "RabbitMQ does not run on \(node)")
        case "drain":
            guard let i = info() else { return .unknown("the state of \(node) could not be read") }
            return verdict(i.underMaintenance, "\(node) is under maintenance", "\(node) is not under maintenance")
        case "revive":
            guard let i = info() else { return .unknown("the state of \(node) could not be read") }
            return verdict(!i.underMaintenance, "\(node) is not under maintenance", "\(node) is still under maintenance")
        case "reset", "force_reset":
            guard let s = try? backend.status() else { return .unknown("the cluster's members could not be read") }
            return verdict(!s.members.contains(node) || s.members == [node], "\(node) is no longer a member",
                           "\(node) is still a member")
        case "join":
            guard let s = try? backend.status() else { return .unknown("the cluster's members could not be read") }
            let seed = call.args?["seed"]
            return verdict(s.members.contains(node) && (seed.map(s.members.contains) ?? true),
                           "\(node) is a member of the cluster", "\(node) is not a member of the cluster")
        case "forget":
            guard let s = try? backend.status() else { return .unknown("the cluster's members could not be read") }
            return verdict(!s.members.contains(node), "\(node) is no longer a member", "\(node) is still a member")
        default:
            return .unknown("\(call.primitive) leaves no state to check; the step runs it again")
        }
    }
}
