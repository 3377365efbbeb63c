import Cluster
import Foundation
import Runbook
import Testing
@testable import Sessions

@Suite("The timeline reconstructed from a journal")
struct TimelineTests {
    private func states(_ lane: Timeline.Lane) -> [String] {
        lane.segments.map { "\($0.state.rawValue) \(Markup.number($0.from))-\(Markup.number($0.to))" }
    }

    @Test("each node's lane follows drain, stop, start and the waits, and implies what came before the first primitive")
    func lanes() {
        let t = Timeline(entries: TimelineFixture.journal())
        #expect(t.lanes.map(\.node) == TimelineFixture.nodes)
        #expect(states(t.lanes[0]) == ["running 0-3", "drained 3-8", "stopped 8-30", "booting 30-45", "running 45-80"])
        #expect(states(t.lanes[1]) == ["running 0-12", "stopped 12-33", "booting 33-46", "running 46-80"])
        #expect(states(t.lanes[2]) == ["unknown 0-80"])
        #expect(t.lanes[0].segments[0].cause == "implied by the first drain")
    }

    @Test("a failed primitive leaves the node's state unknown; a failed wait changes nothing; cluster_healthy ends a boot")
    func failures() {
        let entries = [
            JournalEntry(.sessionStart(.init(clusterID: "x")), clock: 0),
            JournalEntry(.primitiveCall(.init(step: "s", primitive: "stop", node: "a", args: nil, call: 1)), clock: 1),
            JournalEntry(.primitiveResult(.init(step: "s", primitive: "stop", node: "a", outcome: "failed", call: 1)), clock: 2),
            JournalEntry(.primitiveCall(.init(step: "s", primitive: "start", node: "b", args: nil, call: 2)), clock: 3),
            JournalEntry(.primitiveResult(.init(step: "s", primitive: "await_running", node: "b", outcome: "failed")), clock: 5),
            JournalEntry(.primitiveResult(.init(step: "s", primitive: "gate.cluster_healthy", node: nil, outcome: "ok")), clock: 7),
            JournalEntry(.sessionEnd(.init(outcome: "done")), clock: 10),
        ]
        let t = Timeline(entries: entries, nodes: ["c", "b"])
        #expect(t.lanes.map(\.node) == ["c", "b", "a"])
        #expect(states(t.lanes[2]) == ["unknown 0-10"])
        #expect(states(t.lanes[1]) == ["stopped 0-3", "booting 3-7", "running 7-10"])
        #expect(states(t.lanes[0]) == ["unknown 0-10"])
    }

    @Test("quorum-critical windows open at a refused gate's wait, a refused primitive or an unsafe confirmation, and close when the node is seen safe")
    func criticalWindows() {
        let t = Timeline(entries: TimelineFixture.journal())
        #expect(t.critical.map { "\($0.node ?? "-") \(Markup.number($0.from))-\(Markup.number($0.to)) \($0.open)" }
            == ["\(TimelineFixture.n3) 20-60 false", "\(TimelineFixture.n3) 70-80 true"])

        let unsafe = [
            JournalEntry(.sessionStart(.init(clusterID: "x")), clock: 0),
            JournalEntry(.question(.init(step: "s", text: "UNSAFE: a is quorum-critical", unsafe: true)), clock: 4),
            JournalEntry(.answer(.init(step: "s", answer: "yes", source: "operator")), clock: 5),
            JournalEntry(.primitiveCall(.init(step: "s", primitive: "stop", node: "a", args: nil, call: 1)), clock: 5),
            JournalEntry(.primitiveResult(.init(step: "s", primitive: "stop", node: "a", outcome: "ok", call: 1)), clock: 9),
            JournalEntry(.sessionEnd(.init(outcome: "done")), clock: 12),
        ]
        let w = Timeline(entries: unsafe).critical
        #expect(w.map { "\($0.node ?? "-") \(Markup.number($0.from))-\(Markup.number($0.to)) \($0.evidence)" }
            == ["a 4-9 UNSAFE: a is quorum-critical"])
    }

    @Test("steps, questions with their answers, and resumes are marked where they happened")
    func marks() {
        let t = Timeline(entries: TimelineFixture.journal())
        #expect(t.steps.map { "\($0.step) \(Markup.number($0.at)) \($0.outcome ?? "-")" }
            == ["drain-n1 0 done", "stop 5 done", "check-n3 20 failed", "check-n3 30 done", "restart-n3 62 failed"])
        #expect(t.questions.map { "\(Markup.number($0.at)) \($0.answer ?? "-") \($0.source ?? "-")" } == ["1 yes operator", "6 yes yes-flag"])
        #expect(t.resumes == [30])
        #expect(t.end == 80)
        guard case .simulated = t.clock else { Issue.record("a simulated session is drawn on its virtual clock"); return }
    }

    @Test("canary rates come from consecutive samples; unconfirmed publishes make a gap; a resume starts a new series")
    func canaryRates() {
        let t = Timeline(entries: TimelineFixture.journal())
        #expect(t.canary.map { "\(Markup.number($0.from))-\(Markup.number($0.to)) \(Markup.number($0.publish)) \(Markup.number($0.confirm)) \($0.failed)" }
            == ["0-5 5 5 0", "5-10 5 5 0", "10-15 5 2 15", "15-20 5 2 15", "30-50 2.5 2.5 0", "50-80 1.7 1.7 0"])
    }

    @Test("a real cluster's session is drawn on the wall clock")
    func wallClock() {
        let entries = [
            JournalEntry(.sessionStart(.init(target: "prod", cluster: "prod")), time: 1000, clock: 55_000),
            JournalEntry(.stepStart(.init(step: "s")), time: 1004, clock: 3),
            JournalEntry(.sessionEnd(.init(outcome: "done")), time: 1010, clock: 9),
        ]
        let t = Timeline(entries: entries)
        #expect(t.steps.map(\.at) == [4])
        #expect(t.end == 10)
        guard case .wall(let origin) = t.clock else { Issue.record("expected the wall clock"); return }
        #expect(origin == 1000)
    }

    @Test("names from the cluster are escaped and control characters shown, in the page as in the picture")
    func escaping() {
        #expect(Markup.escape("a<b>&\"'\u{1b}[31m\u{7f}\u{85}é") == "a&lt;b&gt;&amp;&quot;&#39;\\x1B[31m\\x7F\\x85é")
        let html = HTMLReport.render(entries: TimelineFixture.journal(), redactor: Redactor(secrets: ["hunter22"]))
        #expect(!html.contains("<b>n2"))
        #expect(!html.contains("\u{1b}"))
        #expect(html.contains("rabbit@n3\\x1B[31m&lt;/text&gt;&lt;/svg&gt;&lt;script&gt;"))
        #expect(html.components(separatedBy: "<script>").count == 3, "only the page's own two scripts")
    }

    @Test("the page is self-contained: nothing is loaded from anywhere else, and secrets are hidden")
    func selfContained() {
        var entries = TimelineFixture.journal()
        entries.insert(JournalEntry(.say(.init(step: nil, text: "password hunter22")), clock: 1), at: 1)
        entries.insert(JournalEntry(.question(.init(step: "drain-n1", text: "use hunter22?")), clock: 1), at: 2)
        let html = HTMLReport.render(entries: entries, redactor: Redactor(secrets: ["hunter22"]))
        #expect(!html.contains("hunter22"))
        #expect(html.contains("use ***?"))
        for external in ["src=", "href=", "url(", "@import", "://"] {
            #expect(!html.contains(external), "\(external)")
        }
    }
}
