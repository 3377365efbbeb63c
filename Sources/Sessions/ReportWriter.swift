import Cluster
import Foundation
import Runbook

/// Renders a session's `report.md` from its journal, and optionally the cluster's final state and
/// the simulator's invariant checks.
///
/// The report is plain Markdown meant to be read in a terminal as much as rendered: lists rather
/// than nested structure, tables padded to aligned columns, times in UTC (a report is shared
/// between people in different zones; the session id uses UTC too).
public enum ReportWriter {
    /// The report's Markdown.
    /// - Parameters:
    ///   - entries: the session's journal, in order (as `JournalReader.read` returns it).
    ///   - finalStatus, queues: the cluster as it was left, when known.
    ///   - invariants: the simulator's invariant checks, when run on the simulator.
    ///   - sessionID: named in the report and in the resume hint.
    public static func render(entries: [JournalEntry], finalStatus: ClusterStatus? = nil, queues: [QueueInfo]? = nil,
                              invariants: InvariantReport? = nil, sessionID: String? = nil) -> String {
        var out = ""
        guard !entries.isEmpty else {
            out += "# warren session\(sessionID.map { " " + $0 } ?? "")\n\nThe journal has no entries.\n"
            return out
        }
        let summary = SessionSummary(entries: entries)
        let start = summary.start
        let runbook = start.mode == .shell ? "shell" : (start.runbook ?? start.path ?? "unknown runbook")
        out += "# \(runbook)\(start.target.map { " on " + $0 } ?? "")\n\n"

        // Overview
        if let sessionID { out += "- Session: \(sessionID)\n" }
        var rb = runbook
        var detail: [String] = []
        if let p = start.path, p != runbook { detail.append(p) }
        if let h = start.hash { detail.append("sha256 " + String(h.prefix(12))) }
        if !detail.isEmpty { rb += " (" + detail.joined(separator: ", ") + ")" }
        out += "- Runbook: \(inline(rb))\n"
        var target = start.target ?? "unknown"
        if let c = start.cluster { target += ", cluster \(c)" }
        out += "- Target: \(inline(target))\n"
        let params = (start.params ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        out += "- Parameters: \(params.isEmpty ? "none" : inline(params.joined(separator: ", ")))\n"
        out += "- Started: \(dateTime(summary.startTime))\n"
        if let end = entries.last(where: { $0.kind == .sessionEnd }), summary.outcome != nil {
            out += "- Ended: \(dateTime(end.time)) (\(duration(end.time - summary.startTime)))\n"
        } else {
            out += "- Last entry: \(dateTime(summary.lastTime)) (\(duration(summary.lastTime - summary.startTime)) after the start)\n"
        }
        let resumes = entries.filter { $0.kind == .resumed }.count
        if resumes > 0 { out += "- Resumed: \(resumes) time\(resumes == 1 ? "" : "s")\n" }
        out += "- Outcome: \(outcomeText(summary, sessionID: sessionID))\n"

        out += renderSteps(entries)
        out += renderAnswers(entries)
        out += renderNotes(entries)
        if finalStatus != nil || queues != nil {
            out += renderCluster(finalStatus, queues)
        }
        if let invariants {
            out += renderInvariants(invariants)
        } else if let finalStatus {
            out += renderObservedInvariants(finalStatus, queues, entries)
        }
        return out
    }

    /// Renders the report, redacts it and writes it to `path` (atomically: a crash never leaves a
    /// half-written report).
    /// - Throws: `SessionsError.cannotWrite`.
    public static func write(to path: String, entries: [JournalEntry], finalStatus: ClusterStatus? = nil,
                             queues: [QueueInfo]? = nil, invariants: InvariantReport? = nil,
                             sessionID: String? = nil, redactor: Redactor) throws {
        let text = redactor.redact(render(entries: entries, finalStatus: finalStatus, queues: queues,
                                          invariants: invariants, sessionID: sessionID))
        try writeFileAtomically(path, text)
    }

    // MARK: - Outcome

    static func outcomeText(_ s: SessionSummary, sessionID: String?) -> String {
        if s.isShell { return s.outcome == nil ? "no end recorded (the shell is open, or was killed)" : "shell closed" }
        let resume = "resumable" + (sessionID.map { " with `warren resume \($0)`" } ?? " with `warren resume`")
        var failedMessage: String?
        var interruptedMessage: String?
        for e in s.entries {
            switch e.event {
            case .stepFailed(let f): failedMessage = f.message
            case .sessionEnd(let end) where end.message != nil: failedMessage = failedMessage ?? end.message
            case .interrupted(let i): interruptedMessage = i.message
            default: break
            }
        }
        switch s.outcome {
        case "done":
            return "done"
        case "failed":
            var t = "failed"
            if let f = s.failed { t += " in step \(quote(f))" }
            if let m = failedMessage { t += ": \(inline(m))" }
            return t + "; " + resume
        case "refused":
            var t = "refused"
            if let step = s.failed ?? s.inProgress { t += " at step \(quote(step))" }
            return t + "; " + resume
        case "interrupted":
            var t = "interrupted"
            if let step = s.inProgress ?? s.failed { t += " in step \(quote(step))" }
            if let m = interruptedMessage { t += ": \(inline(m))" }
            return t + "; " + resume
        case let other?:
            return inline(other) + (s.resumable ? "; " + resume : "")
        case nil:
            if let step = s.inProgress {
                return "no end recorded: crashed (or still running) during step \(quote(step)); " + resume
            }
            return "no end recorded: crashed (or still running) between steps; " + resume
        }
    }

    // MARK: - Steps

    private struct Call {
        var time: Double
        var primitive: String
        var node: String?
        var args: [String: String]?
        /// A gate, or a result with no call before it: journaled as one entry.
        var single: Bool
        var result: (time: Double, record: JournalEvent.PrimitiveResultRecord)?
    }

    private enum Line {
        case call(Int)            // index into calls
        case asked(time: Double, JournalEvent.Question, answer: JournalEvent.Answer?)
        case said(Double, String)
        case note(Double, String, String)
        case event(String)
    }

    private struct OpenStep {
        var time: Double
        var clock: Double?
        var step: String
        var title: String?
    }

    private static func renderSteps(_ entries: [JournalEntry]) -> String {
        var out = "\n## Steps\n"
        var number = 0
        var any = false
        var calls: [Call] = []
        var lines: [Line] = []
        var openStart: OpenStep?
        var pendingQuestion: Int?  // index into lines of an unanswered question

        func flushLines() {
            guard !lines.isEmpty else { return }
            out += "\n"
            for line in lines { out += renderLine(line, calls) }
            lines = []
            calls = []
            pendingQuestion = nil
        }
        func closeStep(_ end: JournalEntry?, status: String, duration took: Double? = nil, failure: String? = nil) {
            guard let s = openStart else { return }
            number += 1
            any = true
            let title = s.title ?? s.step
            var head = "\n### \(number). \(inline(title))"
            if s.step != title { head += " (\(inline(s.step)))" }
            out += head + ": \(status)\n\n"
            var timing = "Started \(dateTime(s.time))"
            if let end {
                timing += ", took \(duration(took ?? (end.time - s.time)))"
                if let c0 = s.clock, let c1 = end.clock { timing += " (target clock: \(duration(c1 - c0)))" }
            }
            out += timing + ".\n"
            if let failure { out += "\nFailed: \(inline(failure))\n" }
            openStart = nil
            flushLines()
        }

        for e in entries {
            switch e.event {
            case .sessionStart, .command, .canarySample:
                // Commands a real backend ran and the canary's samples stay in the journal (the
                // timeline draws the samples); the report lists primitives.
                break
            case .stepStart(let s):
                if openStart != nil { closeStep(nil, status: "no end recorded") }
                flushLines()
                openStart = OpenStep(time: e.time, clock: e.clock, step: s.step, title: s.title)
            case .stepDone(let d):
                closeStep(e, status: "done", duration: d.duration)
            case .stepFailed(let f):
                closeStep(e, status: "failed", failure: f.message)
            case .stepSkipped(let s):
                if openStart?.step == s.step { closeStep(e, status: "skipped") } else {
                    flushLines()
                    number += 1
                    any = true
                    out += "\n### \(number). \(inline(s.title ?? s.step)): skipped\n\n"
                    out += "Skipped at \(dateTime(e.time))\(s.message.map { ": " + inline($0) } ?? " (done in an earlier run)").\n"
                }
            case .primitiveCall(let c):
                calls.append(Call(time: e.time, primitive: c.primitive, node: c.node, args: c.args, single: false))
                lines.append(.call(calls.count - 1))
            case .primitiveResult(let r):
                if !r.isGate, let i = calls.lastIndex(where: { $0.result == nil && !$0.single && $0.primitive == r.primitive && $0.node == r.node }) {
                    calls[i].result = (e.time, r)
                    continue
                }
                calls.append(Call(time: e.time, primitive: r.primitive, node: r.node, args: r.args, single: true, result: (e.time, r)))
                lines.append(.call(calls.count - 1))
            case .question(let q):
                lines.append(.asked(time: e.time, q, answer: nil))
                pendingQuestion = lines.count - 1
            case .answer(let a):
                if let q = pendingQuestion, case .asked(let t, let asked, nil) = lines[q] {
                    lines[q] = .asked(time: t, asked, answer: a)
                    pendingQuestion = nil
                } else {
                    lines.append(.asked(time: e.time, JournalEvent.Question(step: a.step, text: "confirmation"), answer: a))
                }
            case .say(let s):
                lines.append(.said(e.time, s.text))
            case .note(let n):
                lines.append(.note(e.time, n.key, n.value))
            case .wait(let w) where w.outcome != "waiting":
                // How long the longer waits took, and what blocked them last.
                lines.append(.event("\(time(e.time)) waited \(duration(w.elapsed)) for \(inline(w.what))"
                    + (w.outcome == "ok" ? "" : " (ended without success)") + (w.state.isEmpty ? "" : "; last seen: \(inline(w.state))")))
            case .wait:
                break
            case .interrupted(let i):
                lines.append(.event("\(time(e.time)) interrupted\(i.message.map { ": " + inline($0) } ?? "")"))
                if openStart != nil { closeStep(nil, status: "interrupted") }
            case .resumed:
                if openStart != nil { closeStep(nil, status: "no end recorded (crash)") }
                flushLines()
                out += "\nResumed at \(dateTime(e.time)).\n"
            case .sessionEnd(let end):
                if openStart != nil { closeStep(nil, status: "no end recorded") }
                lines.append(.event("\(time(e.time)) session ended: \(end.outcome)\(end.message.map { ": " + inline($0) } ?? "")"))
            }
        }
        if openStart != nil { closeStep(nil, status: "in progress when the journal ends (crash or still running)") }
        flushLines()
        if !any { out += "\nNo step started.\n" }
        return out
    }

    private static func renderLine(_ line: Line, _ calls: [Call]) -> String {
        switch line {
        case .call(let i):
            let call = calls[i]
            var text = "- \(time(call.time)) \(callText(call))"
            if let (t, r) = call.result {
                text += " -> \(inline(r.outcome))"
                if let m = r.message, !m.isEmpty { text += ": \(inline(m))" }
                if r.recovered == true { text += " (worked out on resume)" }
                if !call.single { text += " (\(duration(r.duration ?? (t - call.time))))" }
            } else {
                text += " -> no result recorded (the run stopped during the call)"
            }
            return text + "\n"
        case .asked(let t, let q, let answer):
            var text = "- \(time(t)) asked: \(quote(q.text))"
            if let a = answer {
                text += " -> answered \(inline(a.answer))"
                if let source = a.source, !source.isEmpty { text += " (\(inline(source)))" }
            } else {
                text += " -> no answer recorded"
            }
            return text + "\n"
        case .said(let t, let text):
            return "- \(time(t)) said: \(inline(text))\n"
        case .note(let t, let key, let value):
            return "- \(time(t)) note: \(inline(key)) = \(inline(value))\n"
        case .event(let text):
            return "- \(text)\n"
        }
    }

    private static func callText(_ c: Call) -> String {
        var t = "`" + c.primitive + "`"
        if let n = c.node { t += " " + n }
        if let args = c.args, !args.isEmpty {
            t += " (" + args.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ") + ")"
        }
        return inline(t)
    }

    // MARK: - Answers and notes

    private static func renderAnswers(_ entries: [JournalEntry]) -> String {
        var rows: [[String]] = []
        var asked: (Double, JournalEvent.Question)?
        for e in entries {
            switch e.event {
            case .question(let q):
                if let (t, a) = asked { rows.append([time(t), a.step ?? "", a.text, "no answer recorded"]) }
                asked = (e.time, q)
            case .answer(let a):
                let (t, q) = asked ?? (e.time, JournalEvent.Question(step: a.step, text: "confirmation"))
                rows.append([time(t), q.step ?? a.step ?? "", q.text, a.answer])
                asked = nil
            default: break
            }
        }
        if let (t, a) = asked { rows.append([time(t), a.step ?? "", a.text, "no answer recorded"]) }
        guard !rows.isEmpty else { return "" }
        return "\n## Questions and answers\n\n" + table(["Time", "Step", "Question", "Answer"], rows)
    }

    static func notes(_ entries: [JournalEntry]) -> [(key: String, value: String)] {
        entries.compactMap { e in
            if case .note(let n) = e.event { return (n.key, n.value) }
            return nil
        }
    }

    private static func renderNotes(_ entries: [JournalEntry]) -> String {
        let notes = notes(entries)
        guard !notes.isEmpty else { return "" }
        return "\n## Notes\n\n" + notes.map { "- \(inline($0.key)) = \(inline($0.value))\n" }.joined()
    }

    // MARK: - Cluster and invariants

    private static func renderCluster(_ status: ClusterStatus?, _ queues: [QueueInfo]?) -> String {
        var out = "\n## Final cluster state\n\n"
        if let status {
            let running = status.nodes.filter { $0.state == .running }.count
            out += "Cluster \(inline(status.clusterName)): \(status.healthy ? "healthy" : "NOT healthy"), "
            out += "\(running)/\(status.nodes.count) nodes running"
            if !status.partitions.isEmpty { out += ", partitions present" }
            if !status.alarms.isEmpty { out += ", alarms raised" }
            out += ".\n\n"
            let rows = status.nodes.map { n in
                [n.name, n.state.rawValue, n.underMaintenance ? "yes" : "no", String(n.replicas), String(n.leaders),
                 n.alarms.isEmpty ? "-" : n.alarms.joined(separator: ", "),
                 n.partitions.isEmpty ? "-" : n.partitions.joined(separator: ", ")]
            }
            out += table(["Node", "State", "Drained", "Replicas", "Leaders", "Alarms", "Partitioned from"], rows)
        }
        if let queues {
            if status != nil { out += "\n" }
            if queues.isEmpty {
                out += "No queues.\n"
            } else {
                let rows = queues.sorted { ($0.vhost, $0.name) < ($1.vhost, $1.name) }.map { q in
                    [q.vhost == "/" ? q.name : "\(q.vhost)/\(q.name)", q.type.rawValue, q.leader ?? "-",
                     "\(q.online.count)/\(q.members.count)", String(q.messages), q.available ? "yes" : "NO"]
                }
                let unavailable = queues.filter { !$0.available }.count
                out += "\(queues.count) queue\(queues.count == 1 ? "" : "s")"
                out += unavailable == 0 ? ", all available.\n\n" : ", \(unavailable) NOT available.\n\n"
                out += table(["Queue", "Type", "Leader", "Online", "Messages", "Available"], rows)
            }
        }
        return out
    }

    private static func renderInvariants(_ r: InvariantReport) -> String {
        var out = "\n## Invariants\n\n"
        if r.majorityLosses.isEmpty {
            out += "- Quorum: pass, no quorum queue or stream lost its majority.\n"
        } else {
            out += "- Quorum: FAIL, majority lost: " + r.majorityLosses.map { "\(inline($0.queue)) for \(duration($0.seconds))" }
                .joined(separator: ", ") + ".\n"
        }
        let lost = r.lostMessages.filter { $0.value > 0 }.sorted { $0.key < $1.key }
        if lost.isEmpty {
            out += "- Messages: pass, no confirmed message lost.\n"
        } else {
            out += "- Messages: FAIL, confirmed messages lost: " + lost.map { "\(inline($0.key)): \($0.value)" }
                .joined(separator: ", ") + ".\n"
        }
        if r.converged {
            out += "- Convergence: pass, every member running in every peer's view, no partitions, no alarms.\n"
        } else {
            out += "- Convergence: FAIL" + (r.convergenceProblems.isEmpty ? "." : ":") + "\n"
            for p in r.convergenceProblems { out += "  - \(inline(p))\n" }
        }
        return out
    }

    /// A real cluster keeps no history of its own: what can be said is its state at the end and,
    /// with `--canary`, what the traffic saw during the run.
    private static func renderObservedInvariants(_ status: ClusterStatus, _ queues: [QueueInfo]?, _ entries: [JournalEntry]) -> String {
        var out = "\n## Invariants (observed on the cluster)\n\n"
        if let queues {
            let without = RunbookEngine.withoutMajority(queues)
            out += without.isEmpty ? "- Quorum at the end: pass, every quorum queue and stream has a leader and a majority.\n"
                : "- Quorum at the end: FAIL, without a leader or majority: \(without.map(inline).joined(separator: ", ")).\n"
        }
        if let canary = notes(entries).last(where: { $0.key == "canary" })?.value {
            out += "- Messages: \(inline(canary)).\n"
        } else {
            out += "- Messages: not measured (`--canary` publishes with confirms and counts losses and gaps).\n"
        }
        let problems = RunbookEngine.membershipProblems(status)
        out += problems.isEmpty ? "- Convergence at the end: pass, every member running, no partitions, no alarms.\n"
            : "- Convergence at the end: FAIL: \(problems.joined(separator: "; ")).\n"
        out += "- A majority lost during the run cannot be seen afterwards on a real cluster; the gates checked before every change.\n"
        return out
    }

    // MARK: - Formatting

    /// A Markdown table padded so its columns line up in a terminal.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let cells = ([header] + rows).map { $0.map(cell) }
        var widths = Array(repeating: 3, count: header.count)
        for row in cells { for (i, c) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        func line(_ row: [String]) -> String {
            "| " + row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: " | ") + " |\n"
        }
        var out = line(cells[0])
        out += "|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|\n"
        for row in cells.dropFirst() { out += line(row) }
        return out
    }

    private static func cell(_ s: String) -> String {
        inline(s).replacingOccurrences(of: "|", with: "\\|")
    }

    /// One line of text: newlines and other control characters would break the list or table.
    private static func inline(_ s: String) -> String {
        // Most text has none: check before building a copy (a long session's report has thousands).
        guard s.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f }) else { return s }
        return String(String.UnicodeScalarView(s.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? " " : $0 }))
    }

    private static func quote(_ s: String) -> String { "\"" + inline(s) + "\"" }

    // Times and durations are formatted by hand: `String(format:)` costs microseconds a call, and
    // a 1,000-step session's report formats tens of thousands.

    /// `2026-11-24 20:30:15 UTC`.
    public static func dateTime(_ t: Double) -> String {
        let c = utc(t)
        return "\(c.year)-\(two(c.month))-\(two(c.day)) \(two(c.hour)):\(two(c.minute)):\(two(c.second)) UTC"
    }

    static func time(_ t: Double) -> String {
        let c = utc(t)
        return "\(two(c.hour)):\(two(c.minute)):\(two(c.second))"
    }

    /// `07`, `42`.
    private static func two(_ v: Int) -> String { v < 10 ? "0" + String(v) : String(v) }

    static func utc(_ t: Double) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        var seconds = time_t(t.rounded(.down))
        var tm = tm()
        gmtime_r(&seconds, &tm)
        return (Int(tm.tm_year) + 1900, Int(tm.tm_mon) + 1, Int(tm.tm_mday), Int(tm.tm_hour), Int(tm.tm_min), Int(tm.tm_sec))
    }

    /// `0.25 s`, `12.3 s`, `4m 12s`, `2h 5m`.
    static func duration(_ d: Double) -> String {
        let d = max(0, d)
        if d < 10 {
            let hundredths = Int((d * 100).rounded(.toNearestOrEven))
            return "\(hundredths / 100).\(two(hundredths % 100)) s"
        }
        if d < 60 {
            let tenths = Int((d * 10).rounded(.toNearestOrEven))
            return "\(tenths / 10).\(tenths % 10) s"
        }
        let s = Int(d.rounded())
        if s < 3600 { return "\(s / 60)m \(s % 60)s" }
        return "\(s / 3600)h \((s % 3600) / 60)m"
    }
}

/// Writes `text` atomically to `path` (mode 0600).
func writeFileAtomically(_ path: String, _ text: String) throws {
    do {
        try writeAtomically(Data(text.utf8), to: path)
    } catch {
        throw SessionsError.cannotWrite(path: path, reason: "\(error.localizedDescription)")
    }
}
