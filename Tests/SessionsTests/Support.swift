import Foundation
import WarrenTestSupport
import Runbook

/// A fresh temporary directory per test (tests run in parallel).
func makeTempDir() -> String {
    TestDirectory.make("warren-sessions")
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
        entry(kind: .sessionStart, time: t0, runbook: "rolling-restart", path: "runbooks/rolling-restart.lua",
                     hash: "0123456789abcdef0123", params: ["nodes": "all"], target: "sim:3", cluster: "rabbit@n1"),
        entry(kind: .stepStart, time: t0 + 1, clock: 0, step: "restart-n1", title: "restart rabbit@n1"),
        entry(kind: .confirmAsked, time: t0 + 2, step: "restart-n1", message: "Stop rabbit@n1? Its clients will reconnect."),
        entry(kind: .confirmAnswered, time: t0 + 5, step: "restart-n1", outcome: "yes"),
        entry(kind: .primitive, time: t0 + 6, step: "restart-n1", primitive: "drain", phase: "call", node: "rabbit@n1"),
        entry(kind: .primitive, time: t0 + 7, step: "restart-n1", primitive: "drain", phase: "result", node: "rabbit@n1", outcome: "ok"),
        entry(kind: .primitive, time: t0 + 7, step: "restart-n1", primitive: "await_running", phase: "call", node: "rabbit@n1", args: ["timeout": "300"]),
        entry(kind: .primitive, time: t0 + 9, step: "restart-n1", primitive: "await_running", phase: "result", node: "rabbit@n1", outcome: "ok"),
        entry(kind: .note, time: t0 + 9, step: "restart-n1", key: "first_restarted", value: "rabbit@n1"),
        entry(kind: .stepDone, time: t0 + 10, clock: 300, step: "restart-n1", outcome: "done"),
        entry(kind: .stepStart, time: t0 + 11, step: "restart-n2", title: "restart rabbit@n2"),
        entry(kind: .primitive, time: t0 + 12, step: "restart-n2", primitive: "stop", phase: "call", node: "rabbit@n2"),
        entry(kind: .primitive, time: t0 + 13, step: "restart-n2", primitive: "stop", phase: "result", node: "rabbit@n2", outcome: "failed", message: "timed out after 30 s"),
        entry(kind: .primitive, time: t0 + 14, step: "restart-n2", primitive: "stop", phase: "call", node: "rabbit@n2"),
        entry(kind: .primitive, time: t0 + 15, step: "restart-n2", primitive: "stop", phase: "result", node: "rabbit@n2", outcome: "ok"),
        entry(kind: .stepDone, time: t0 + 20, step: "restart-n2", outcome: "done"),
        entry(kind: .sessionEnd, time: t0 + 21, outcome: "done"),
    ]
}

/// A journal entry built from the flat fields every warren has written (`kind`, `step`,
/// `primitive`, `phase`, `outcome`...), read back the way a journal line is read: tests written
/// with it also check that journals in that format stay readable.
func entry(kind: JournalEvent.Kind, time: Double = 1_795_000_000, clock: Double? = nil, step: String? = nil,
           title: String? = nil, primitive: String? = nil, phase: String? = nil, node: String? = nil,
           args: [String: String]? = nil, outcome: String? = nil, message: String? = nil, duration: Double? = nil,
           runbook: String? = nil, path: String? = nil, hash: String? = nil, params: [String: String]? = nil,
           target: String? = nil, cluster: String? = nil, key: String? = nil, value: String? = nil) -> JournalEntry {
    var o: [String: Any] = ["kind": kind.rawValue, "time": time]
    let fields: [String: Any?] = ["clock": clock, "step": step, "title": title, "primitive": primitive, "phase": phase,
                                  "node": node, "args": args, "outcome": outcome, "message": message, "duration": duration,
                                  "runbook": runbook, "path": path, "hash": hash, "params": params, "target": target,
                                  "cluster": cluster, "key": key, "value": value]
    for (k, v) in fields { if let v { o[k] = v } }
    let data = try! JSONSerialization.data(withJSONObject: o)
    return try! JSONDecoder().decode(JournalEntry.self, from: data)
}
