import Runbook

/// A journal of a simulated session with everything a timeline draws, and node names that try to
/// break out of the markup.
///
/// rabbit@n1 is drained at 3 s, stopped at 8 s, started at 30 s, running again at 45 s; the
/// second node is stopped at 12 s, started at 33 s and running at 46 s; the third is only ever
/// checked: quorum-critical from 20 s (the gate's wait) to 60 s, and again from 70 s (a refused
/// stop) to the end at 80 s. The canary misses publishes between 10 s and 20 s. The session fails
/// at 25 s and is resumed at 30 s.
enum TimelineFixture {
    static let n1 = "rabbit@n1"
    static let n2 = "rabbit@<b>n2</b>&'\""
    static let n3 = "rabbit@n3\u{1b}[31m</text></svg><script>throw new Error('injected')</script>"
    static let nodes = [n1, n2, n3]
    /// The names as the page shows them: control characters as `\xHH`.
    static let shown = [n1, n2, "rabbit@n3\\x1B[31m</text></svg><script>throw new Error('injected')</script>"]

    static func journal(t0: Double = 1_796_292_000) -> [JournalEntry] {
        var entries: [JournalEntry] = []
        func at(_ clock: Double, _ event: JournalEvent) { entries.append(JournalEntry(event, time: t0 + clock / 100, clock: clock)) }
        func call(_ clock: Double, _ primitive: String, _ node: String, step: String) {
            at(clock, .primitiveCall(.init(step: step, primitive: primitive, node: node, args: nil, call: entries.count)))
        }
        func result(_ clock: Double, _ primitive: String, _ node: String?, step: String, outcome: String = "ok", message: String? = nil) {
            at(clock, .primitiveResult(.init(step: step, primitive: primitive, node: node, outcome: outcome, message: message)))
        }
        func canary(_ clock: Double, _ published: Int, _ confirmed: Int) {
            at(clock, .canarySample(.init(published: published, confirmed: confirmed, consumed: confirmed)))
        }
        at(0, .sessionStart(.init(runbook: "fixture", target: "sim:3", cluster: "sim", clusterID: "c0ffee")))
        canary(0, 0, 0)
        at(0, .stepStart(.init(step: "drain-n1", title: "drain \(n1)")))
        at(1, .question(.init(step: "drain-n1", text: "Drain \(n1)?")))
        at(1, .answer(.init(step: "drain-n1", answer: "yes", source: "operator")))
        call(1, "drain", n1, step: "drain-n1")
        result(3, "drain", n1, step: "drain-n1")
        canary(5, 25, 25)
        at(5, .stepDone(.init(step: "drain-n1", title: "drain \(n1)")))
        at(5, .stepStart(.init(step: "stop", title: "stop two nodes")))
        at(6, .question(.init(step: "stop", text: "Stop \(n1) and \(n2)?")))
        at(6, .answer(.init(step: "stop", answer: "yes", source: "yes-flag")))
        call(6, "stop", n1, step: "stop")
        result(8, "stop", n1, step: "stop")
        call(10, "stop", n2, step: "stop")
        canary(10, 50, 50)
        result(12, "stop", n2, step: "stop")
        canary(15, 75, 60)
        canary(20, 100, 70)
        at(20, .stepDone(.init(step: "stop", title: "stop two nodes")))
        at(20, .stepStart(.init(step: "check-n3", title: "check \(n3)")))
        result(25, "gate.quorum_safe", n3, step: "check-n3", outcome: "refused",
               message: "gate quorum_safe: \(n3) is quorum-critical for 1 queue (orders)")
        at(25, .stepFailed(.init(step: "check-n3", title: "check \(n3)", outcome: "failed", message: "gate quorum_safe refused")))
        at(25, .sessionEnd(.init(outcome: "failed")))
        at(30, .resumed(.init(step: "check-n3")))
        canary(30, 0, 0)
        at(30, .stepStart(.init(step: "check-n3", title: "check \(n3)")))
        call(30, "start", n1, step: "check-n3")
        result(32, "start", n1, step: "check-n3")
        call(33, "start", n2, step: "check-n3")
        result(35, "start", n2, step: "check-n3")
        call(40, "await_running", n1, step: "check-n3")
        result(45, "await_running", n1, step: "check-n3")
        result(46, "gate.node_running", n2, step: "check-n3")
        canary(50, 50, 50)
        result(50, "gate.cluster_healthy", nil, step: "check-n3")
        result(60, "gate.quorum_safe", n3, step: "check-n3")
        at(60, .stepDone(.init(step: "check-n3", title: "check \(n3)")))
        at(62, .stepStart(.init(step: "restart-n3", title: "restart \(n3)")))
        result(70, "stop", n3, step: "restart-n3", outcome: "refused",
               message: "\(n3) is quorum-critical for 1 queue (orders): stop would leave it without a majority")
        at(70, .stepFailed(.init(step: "restart-n3", title: "restart \(n3)", outcome: "failed", message: "refused")))
        canary(80, 100, 100)
        at(80, .sessionEnd(.init(outcome: "failed")))
        return entries
    }
}
