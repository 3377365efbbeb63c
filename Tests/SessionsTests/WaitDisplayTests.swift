import Cluster
import Foundation
import Runbook
@testable import Sessions
import Testing

/// Collects what a display writes, from any thread.
final class Captured: @unchecked Sendable {
    private let lock = NSLock()
    private var text = ""
    func append(_ t: String) { lock.withLock { text += t } }
    var value: String { lock.withLock { text } }
    private var events: [JournalEvent] = []
    func journal(_ e: JournalEvent) { lock.withLock { events.append(e) } }
    var journaled: [JournalEvent.WaitRecord] {
        lock.withLock { events.compactMap { if case .wait(let w) = $0 { return w } else { return nil } } }
    }

    /// Polls until `condition` holds on the text (at most `timeout` seconds).
    func waitFor(_ timeout: Double = 10, _ condition: (String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition(value) { return true }
            usleep(20_000)
        }
        return condition(value)
    }
}

@Suite("What a session waits for is shown live, recorded and journaled")
struct WaitDisplayTests {
    @Test("a terminal gets a live line after a second: elapsed against the limit, the state, the call inside; output clears it")
    func liveLine() throws {
        let screen = Captured(), rec = Captured(), journal = Captured()
        let d = WaitDisplay(terminal: screen.append, live: true, width: { 200 }, record: rec.append, journal: journal.journal)
        defer { d.stop() }
        d.write("  · rabbit@n1 await_running timeout=300 …")
        let outer = d.waits.begin("rabbit@n1 await_running", limit: 300)
        d.waits.observe("booting")
        let inner = d.waits.begin("rabbitmqctl await_startup on rabbit@n1", limit: 301)
        #expect(screen.waitFor { $0.contains(" 1 s of 5 min 00 s · booting · rabbitmqctl await_startup on rabbit@n1 1 s of 5 min 01 s") },
                "no live line: \(screen.value.debugDescription)")
        // The live line continues the open line, and is redrawn in place.
        #expect(screen.value.contains("\r\u{1B}[K  · rabbit@n1 await_running timeout=300 …"))
        d.waits.end(inner, ok: true)
        d.waits.end(outer, ok: true)
        d.write(" ok (1.4s)\n")
        // The result is written on the line as it was, with the live text cleared first.
        #expect(screen.value.hasSuffix("\r\u{1B}[K  · rabbit@n1 await_running timeout=300 … ok (1.4s)\n"), "\(screen.value.debugDescription)")
        // The recording has no live redraws: a line when the wait passed a second, one when it ended,
        // and the open line written again before its result.
        #expect(!rec.value.contains("\u{1B}["))
        #expect(rec.value.contains("    … waiting for rabbit@n1 await_running (at most 5 min 00 s): booting\n"), "\(rec.value)")
        #expect(rec.value.contains("    … rabbit@n1 await_running: done after "))
        #expect(rec.value.hasSuffix("  · rabbit@n1 await_running timeout=300 … ok (1.4s)\n"), "\(rec.value)")
        #expect(journal.journaled.contains { $0.what == "rabbit@n1 await_running" && $0.outcome == "ok" && $0.state == "booting" && $0.limit == 300 })
    }

    @Test("without a terminal, a pipe gets the recording's lines: never silent, never redrawn")
    func pipe() throws {
        let out = Captured(), journal = Captured()
        let d = WaitDisplay(terminal: out.append, live: false, width: { 80 }, record: nil, journal: journal.journal)
        defer { d.stop() }
        let id = d.waits.begin("gate quorum_safe rabbit@n2", limit: 60)
        d.waits.observe("critical for 1 queue: orders")
        #expect(out.waitFor { $0.contains("    … waiting for gate quorum_safe rabbit@n2 (at most 1 min 00 s): critical for 1 queue: orders\n") },
                "\(out.value.debugDescription)")
        d.waits.observe("critical for 2 queues: orders, invoices")
        #expect(out.value.contains(" s: critical for 2 queues: orders, invoices\n") && out.value.contains("    … gate quorum_safe rabbit@n2 after "))
        d.waits.end(id, ok: false)
        #expect(out.value.contains("    … gate quorum_safe rabbit@n2: ended without success after "))
        #expect(!out.value.contains("\r"))
        let states = journal.journaled.map { "\($0.outcome) \($0.state)" }
        #expect(states == ["waiting critical for 2 queues: orders, invoices", "failed critical for 2 queues: orders, invoices"], "\(states)")
    }

    @Test("a wait shorter than a second shows nothing and journals nothing")
    func shortWait() {
        let out = Captured(), journal = Captured()
        let d = WaitDisplay(terminal: out.append, live: true, width: { 80 }, record: out.append, journal: journal.journal)
        defer { d.stop() }
        d.waits.during("GET /api/overview", limit: 2) { d.waits.observe("connecting") }
        d.write("done\n")
        #expect(out.value == "done\ndone\n")
        #expect(journal.journaled.isEmpty)
    }

    @Test("the live line is cut to the terminal's width")
    func width() throws {
        let screen = Captured()
        let d = WaitDisplay(terminal: screen.append, live: true, width: { 40 }, record: nil, journal: nil)
        defer { d.stop() }
        let id = d.waits.begin("gate cluster_healthy", limit: 300)
        d.waits.observe(String(repeating: "not running: rabbit@n3 (stopped); ", count: 5))
        #expect(screen.waitFor { $0.contains("…") })
        d.waits.end(id, ok: true)
        let drawn = screen.value.components(separatedBy: "\r\u{1B}[K").filter { !$0.isEmpty }
        #expect(drawn.allSatisfy { $0.count <= 39 }, "\(drawn)")
    }
}
