import Runbook

/// When nodes were seen quorum-critical, from the journal.
///
/// warren asks whether a node is quorum-critical before it takes it away, so the journal holds
/// the moments it was seen so, never a continuous history:
/// - `gate.quorum_safe` refused: critical for the gate's whole wait, from the entry before the
///   refusal (the gate started right after it) on.
/// - A primitive the quorum interlock refused (a result `refused` with no call before it):
///   critical from then on.
/// - An unsafe confirmation (`{unsafe = true}` on a critical node): critical from the question on,
///   for the node of the step's next primitive.
/// A window closes when the node is next seen not critical: `gate.quorum_safe` passes for it, or
/// a primitive the interlock checks (`stop`, `stop_app`, `reset`, `force_reset`, `forget`) goes
/// through on it (after an unsafe confirmation: once it is done; what it cost then is a majority
/// loss, which the simulator's invariants report). A window still open when the journal ends
/// runs to its end.
enum QuorumWindows {
    static let interlocked: Set<String> = ["stop", "stop_app", "reset", "force_reset", "forget"]

    static func windows(_ entries: [JournalEntry], times: [Double], end: Double) -> [Timeline.CriticalWindow] {
        var closed: [Timeline.CriticalWindow] = []
        var open: [String: Timeline.CriticalWindow] = [:]
        var openOrder: [String] = []
        /// An unsafe confirmation whose primitive has not been called yet: (step, time, text).
        var unsafeAsked: (step: String?, at: Double, text: String)?

        func begin(_ node: String, at t: Double, evidence: String) {
            guard open[node] == nil else { return }
            open[node] = Timeline.CriticalWindow(node: node, from: t, to: t, evidence: evidence, open: true)
            openOrder.append(node)
        }
        func finish(_ node: String, at t: Double) {
            guard var w = open.removeValue(forKey: node) else { return }
            w.to = t
            w.open = false
            closed.append(w)
            openOrder.removeAll { $0 == node }
        }

        for (i, (e, t)) in zip(entries, times).enumerated() {
            switch e.event {
            case .question(let q) where q.unsafe:
                unsafeAsked = (q.step, t, q.text)
            case .primitiveCall(let c):
                if let asked = unsafeAsked, asked.step == c.step, let node = c.node {
                    begin(node, at: asked.at, evidence: asked.text)
                    unsafeAsked = nil
                }
            case .primitiveResult(let r):
                guard let node = r.node else { continue }
                if r.primitive == "gate.quorum_safe" {
                    if r.outcome == "ok" {
                        finish(node, at: t)
                    } else if r.outcome == "refused" {
                        begin(node, at: i > 0 ? times[i - 1] : t, evidence: r.message ?? "gate quorum_safe refused")
                    }
                } else if r.outcome == "refused" {
                    begin(node, at: t, evidence: r.message ?? "\(r.primitive) refused: quorum-critical")
                } else if interlocked.contains(r.primitive) && r.outcome == "ok" {
                    finish(node, at: t)
                }
            default: break
            }
        }
        if let asked = unsafeAsked {
            closed.append(Timeline.CriticalWindow(node: nil, from: asked.at, to: end, evidence: asked.text, open: true))
        }
        for node in openOrder {
            if var w = open[node] {
                w.to = end
                closed.append(w)
            }
        }
        return closed.sorted { $0.from < $1.from }
    }
}
