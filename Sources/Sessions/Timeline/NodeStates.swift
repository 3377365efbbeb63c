import Runbook

/// Each node's state over a session, as far as its journal tells.
///
/// The journal records what warren did and saw, not the cluster's own history, so a lane changes
/// only on evidence:
/// - `start`, `start_app`: booting from the moment the command is sent (the boot begins then);
///   a start that failed leaves the state unknown.
/// - `await_running` ok, `gate.node_running` ok: running (a drained node stays drained: it runs,
///   under maintenance). `gate.cluster_healthy` ok: a booting node is running (every member runs).
///   A wait that failed or timed out changes nothing: the node was still not running.
/// - `stop`, `stop_app` ok: stopped (from the command's result: until then the node still served).
/// - `drain` ok: drained, until `revive` ok (running) or a restart (the stop, then the boot, which
///   clears maintenance).
/// - Any of these failing: unknown (the command may have half happened).
/// - `reset`, `force_reset`, `join`, `forget`, `force_boot` change membership or data, not whether
///   the node runs; a call the quorum interlock refused sent nothing.
/// - Before the first of these, the state is implied by it where it can only have been one:
///   running before a stop or a drain, stopped before a start, drained before a revive; else unknown.
enum NodeStates {
    static func lanes(_ entries: [JournalEntry], times: [Double], nodes: [String], end: Double) -> [Timeline.Lane] {
        var order = nodes
        var known = Set(nodes)
        var builders: [String: Builder] = [:]
        func builder(_ node: String) -> Builder {
            if let b = builders[node] { return b }
            if known.insert(node).inserted { order.append(node) }
            let b = Builder()
            builders[node] = b
            return b
        }
        for (e, t) in zip(entries, times) {
            switch e.event {
            case .primitiveCall(let c):
                for other in [c.args?["seed"], c.args?["from"]].compactMap({ $0 }) { _ = builder(other) }
                guard let node = c.node else { continue }
                let b = builder(node)
                if c.primitive == "start" || c.primitive == "start_app" {
                    b.set(.booting, at: t, cause: "\(c.primitive) sent", before: .stopped)
                }
            case .primitiveResult(let r):
                if r.primitive == "gate.cluster_healthy" && r.outcome == "ok" {
                    for b in builders.values where b.state == .booting { b.set(.running, at: t, cause: "gate cluster_healthy ok") }
                    continue
                }
                guard let node = r.node, r.outcome != "refused" else { continue }
                let b = builder(node)
                let ok = r.outcome == "ok"
                let cause = "\(r.primitive) \(r.outcome)" + (r.recovered == true ? " (worked out on resume)" : "")
                switch r.primitive {
                case "start", "start_app":
                    if !ok && r.outcome != "not_applied" { b.set(.unknown, at: t, cause: cause) }
                case "await_running", "gate.node_running":
                    if ok && b.state != .drained { b.set(.running, at: t, cause: cause) }
                case "stop", "stop_app":
                    if ok { b.set(.stopped, at: t, cause: cause, before: .running) } else if r.outcome != "not_applied" { b.set(.unknown, at: t, cause: cause) }
                case "drain":
                    if ok { b.set(.drained, at: t, cause: cause, before: .running) } else if r.outcome != "not_applied" { b.set(.unknown, at: t, cause: cause) }
                case "revive":
                    if ok { b.set(.running, at: t, cause: cause, before: .drained) } else if r.outcome != "not_applied" { b.set(.unknown, at: t, cause: cause) }
                default: break
                }
            default: break
            }
        }
        return order.map { node in
            Timeline.Lane(node: node, segments: (builders[node] ?? Builder()).segments(until: end))
        }
    }

    /// One node's lane as the journal is read.
    final class Builder {
        private(set) var state: Timeline.NodeState = .unknown
        private var since = 0.0
        private var cause = "no primitive on this node yet"
        /// Whether the lane has changed yet (the first change may imply the state before it).
        private var changed = false
        private var done: [Timeline.Segment] = []

        /// The node is in `state` from `t`; `before`: what the node must have been in until then,
        /// if nothing was known of it yet.
        func set(_ new: Timeline.NodeState, at t: Double, cause why: String, before: Timeline.NodeState? = nil) {
            if !changed, let before {
                state = before
                cause = "implied by the first \(why.split(separator: " ").first ?? "")"
            }
            changed = true
            guard new != state else { return }
            if t > since { done.append(Timeline.Segment(state: state, from: since, to: t, cause: cause)) }
            state = new
            since = t
            cause = why
        }

        func segments(until end: Double) -> [Timeline.Segment] {
            done + [Timeline.Segment(state: state, from: since, to: max(end, since), cause: cause)]
        }
    }
}
