import Foundation
import Runbook

/// A fresh temporary directory per test (tests run in parallel).
func makeTempDir() -> String {
    let path = NSTemporaryDirectory() + "warren-sessions-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A clock the test moves by hand.
final class ManualClock: @unchecked Sendable {
    var now: Double
    init(_ now: Double = 1000) { self.now = now }
    func read() -> Double { now }
}

func lines(of path: String) -> [String] {
    let text = String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
    var lines = text.components(separatedBy: "\n")
    if lines.last == "" { lines.removeLast() }
    return lines
}

func writeJournal(_ entries: [JournalEntry], to path: String, redact: @escaping (String) -> String = { $0 }) throws {
    let w = try JournalWriter(path: path, redact: redact)
    for e in entries { try w.append(e) }
}

/// A handcrafted journal: two steps done with primitives, a confirmation answered yes, a note.
func doneJournal(t0: Double = 1_795_000_000) -> [JournalEntry] {
    [
        JournalEntry(kind: .sessionStart, time: t0, runbook: "rolling-restart", path: "runbooks/rolling-restart.lua",
                     hash: "0123456789abcdef0123", params: ["nodes": "all"], target: "sim:3", cluster: "rabbit@n1"),
        JournalEntry(kind: .stepStart, time: t0 + 1, clock: 0, step: "restart-n1", title: "restart rabbit@n1"),
        JournalEntry(kind: .confirmAsked, time: t0 + 2, step: "restart-n1", message: "Stop rabbit@n1? Its clients will reconnect."),
        JournalEntry(kind: .confirmAnswered, time: t0 + 5, step: "restart-n1", outcome: "yes"),
        JournalEntry(kind: .primitive, time: t0 + 6, step: "restart-n1", primitive: "drain", phase: "call", node: "rabbit@n1"),
        JournalEntry(kind: .primitive, time: t0 + 7, step: "restart-n1", primitive: "drain", phase: "result", node: "rabbit@n1", outcome: "ok"),
        JournalEntry(kind: .primitive, time: t0 + 7, step: "restart-n1", primitive: "await_running", phase: "call", node: "rabbit@n1", args: ["timeout": "300"]),
        JournalEntry(kind: .primitive, time: t0 + 9, step: "restart-n1", primitive: "await_running", phase: "result", node: "rabbit@n1", outcome: "ok"),
        JournalEntry(kind: .note, time: t0 + 9, step: "restart-n1", key: "first_restarted", value: "rabbit@n1"),
        JournalEntry(kind: .stepDone, time: t0 + 10, clock: 300, step: "restart-n1", outcome: "done"),
        JournalEntry(kind: .stepStart, time: t0 + 11, step: "restart-n2", title: "restart rabbit@n2"),
        JournalEntry(kind: .primitive, time: t0 + 12, step: "restart-n2", primitive: "stop", phase: "call", node: "rabbit@n2"),
        JournalEntry(kind: .primitive, time: t0 + 13, step: "restart-n2", primitive: "stop", phase: "result", node: "rabbit@n2", outcome: "failed", message: "timed out after 30 s"),
        JournalEntry(kind: .primitive, time: t0 + 14, step: "restart-n2", primitive: "stop", phase: "call", node: "rabbit@n2"),
        JournalEntry(kind: .primitive, time: t0 + 15, step: "restart-n2", primitive: "stop", phase: "result", node: "rabbit@n2", outcome: "ok"),
        JournalEntry(kind: .stepDone, time: t0 + 20, step: "restart-n2", outcome: "done"),
        JournalEntry(kind: .sessionEnd, time: t0 + 21, outcome: "done"),
    ]
}
