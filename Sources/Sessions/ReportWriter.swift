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
        let runbook = start.runbook ?? start.path ?? "unknown runbook"
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
        out += "- Started: \(dateTime(start.time))\n"
        if let end = entries.last(where: { $0.kind == .sessionEnd }), summary.outcome != nil {
            out += "- Ended: \(dateTime(end.time)) (\(duration(end.time - start.time)))\n"
        } else {
            out += "- Last entry: \(dateTime(summary.lastTime)) (\(duration(summary.lastTime - start.time)) after the start)\n"
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
        let resume = "resumable" + (sessionID.map { " with `warren resume \($0)`" } ?? " with `warren resume`")
        let failedMessage = s.entries.last(where: { $0.kind == .stepFailed })?.message
            ?? s.entries.last(where: { $0.kind == .sessionEnd })?.message
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
            if let m = s.entries.last(where: { $0.kind == .interrupted })?.message { t += ": \(inline(m))" }
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
        var entry: JournalEntry
        var result: JournalEntry?
    }

    private enum Line {
        case call(Int)            // index into calls
        case asked(JournalEntry, answer: JournalEntry?)
        case said(JournalEntry)
        case note(JournalEntry)
        case event(String)
    }

    private static func renderSteps(_ entries: [JournalEntry]) -> String {
        var out = "\n## Steps\n"
        var number = 0
        var any = false
        var calls: [Call] = []
        var lines: [Line] = []
        var openStart: JournalEntry?
        var pendingQuestion: Int?  // index into lines of an unanswered question

        func flushLines() {
            guard !lines.isEmpty else { return }
            out += "\n"
            for line in lines { out += renderLine(line, calls) }
            lines = []
            calls = []
            pendingQuestion = nil
        }
        func closeStep(_ end: JournalEntry?, status: String) {
            guard let s = openStart else { return }
            number += 1
            any = true
            let title = s.title ?? s.step ?? "untitled step"
            var head = "\n### \(number). \(inline(title))"
            if let id = s.step, id != title { head += " (\(inline(id)))" }
            out += head + ": \(status)\n\n"
            var timing = "Started \(dateTime(s.time))"
            if let end {
                timing += ", took \(duration(end.duration ?? (end.time - s.time)))"
                if let c0 = s.clock, let c1 = end.clock { timing += " (target clock: \(duration(c1 - c0)))" }
            }
            out += timing + ".\n"
            if let end, end.kind == .stepFailed, let m = end.message { out += "\nFailed: \(inline(m))\n" }
            openStart = nil
            flushLines()
        }

        for e in entries {
            switch e.kind {
            case .sessionStart, .command:
                // Commands a real backend ran stay in the journal; the report lists primitives.
                break
            case .stepStart:
                if openStart != nil { closeStep(nil, status: "no end recorded") }
                flushLines()
                openStart = e
            case .stepDone:
                closeStep(e, status: "done")
            case .stepFailed:
                closeStep(e, status: "failed")
            case .stepSkipped:
                if openStart?.step == e.step { closeStep(e, status: "skipped") } else {
                    flushLines()
                    number += 1
                    any = true
                    let title = e.title ?? e.step ?? "untitled step"
                    out += "\n### \(number). \(inline(title)): skipped\n\n"
                    out += "Skipped at \(dateTime(e.time))\(e.message.map { ": " + inline($0) } ?? " (done in an earlier run)").\n"
                }
            case .primitive:
                if e.phase == "result" {
                    if let i = calls.lastIndex(where: { $0.result == nil && $0.entry.primitive == e.primitive && $0.entry.node == e.node }) {
                        calls[i].result = e
                        continue
                    }
                }
                calls.append(Call(entry: e, result: e.phase == "result" ? e : nil))
                lines.append(.call(calls.count - 1))
            case .confirmAsked:
                lines.append(.asked(e, answer: nil))
                pendingQuestion = lines.count - 1
            case .confirmAnswered:
                if let q = pendingQuestion, case .asked(let asked, nil) = lines[q] {
                    lines[q] = .asked(asked, answer: e)
                    pendingQuestion = nil
                } else {
                    lines.append(.asked(JournalEntry(kind: .confirmAsked, time: e.time, message: e.message), answer: e))
                }
            case .say:
                lines.append(.said(e))
            case .note:
                lines.append(.note(e))
            case .interrupted:
                lines.append(.event("\(time(e.time)) interrupted\(e.message.map { ": " + inline($0) } ?? "")"))
                if openStart != nil { closeStep(nil, status: "interrupted") }
            case .resumed:
                if openStart != nil { closeStep(nil, status: "no end recorded (crash)") }
                flushLines()
                out += "\nResumed at \(dateTime(e.time))\(e.message.map { ": " + inline($0) } ?? "").\n"
            case .sessionEnd:
                if openStart != nil { closeStep(nil, status: "no end recorded") }
                lines.append(.event("\(time(e.time)) session ended: \(e.outcome ?? "unknown")\(e.message.map { ": " + inline($0) } ?? "")"))
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
            var text = "- \(time(call.entry.time)) \(callText(call.entry))"
            if let r = call.result {
                text += " -> \(inline(r.outcome ?? "no outcome"))"
                if let m = r.message, !m.isEmpty { text += ": \(inline(m))" }
                if call.entry.phase != "result" { text += " (\(duration(r.duration ?? (r.time - call.entry.time))))" }
            } else {
                text += " -> no result recorded (the run stopped during the call)"
            }
            return text + "\n"
        case .asked(let q, let answer):
            var text = "- \(time(q.time)) asked: \(quote(q.message ?? q.title ?? "confirmation"))"
            if let a = answer {
                text += " -> answered \(inline(a.outcome ?? a.value ?? "?"))"
                if let source = a.value, a.outcome != nil, !source.isEmpty { text += " (\(inline(source)))" }
            } else {
                text += " -> no answer recorded"
            }
            return text + "\n"
        case .said(let e):
            return "- \(time(e.time)) said: \(inline(e.message ?? ""))\n"
        case .note(let e):
            return "- \(time(e.time)) note: \(inline(e.key ?? "?")) = \(inline(e.value ?? ""))\n"
        case .event(let text):
            return "- \(text)\n"
        }
    }

    private static func callText(_ e: JournalEntry) -> String {
        var t = "`" + (e.primitive ?? "primitive") + "`"
        if let n = e.node { t += " " + n }
        if let args = e.args, !args.isEmpty {
            t += " (" + args.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ") + ")"
        }
        return inline(t)
    }

    // MARK: - Answers and notes

    private static func renderAnswers(_ entries: [JournalEntry]) -> String {
        var rows: [[String]] = []
        var asked: JournalEntry?
        for e in entries {
            if e.kind == .confirmAsked {
                if let a = asked { rows.append([time(a.time), a.step ?? "", a.message ?? "", "no answer recorded"]) }
                asked = e
            } else if e.kind == .confirmAnswered {
                let q = asked ?? e
                rows.append([time(q.time), q.step ?? e.step ?? "", q.message ?? e.message ?? "", e.outcome ?? e.value ?? "?"])
                asked = nil
            }
        }
        if let a = asked { rows.append([time(a.time), a.step ?? "", a.message ?? "", "no answer recorded"]) }
        guard !rows.isEmpty else { return "" }
        return "\n## Questions and answers\n\n" + table(["Time", "Step", "Question", "Answer"], rows)
    }

    private static func renderNotes(_ entries: [JournalEntry]) -> String {
        let notes = entries.filter { $0.kind == .note }
        guard !notes.isEmpty else { return "" }
        return "\n## Notes\n\n" + notes.map { "- \(inline($0.key ?? "?")) = \(inline($0.value ?? ""))\n" }.joined()
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
        if let canary = entries.last(where: { $0.kind == .note && $0.key == "canary" })?.value {
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
        String(String.UnicodeScalarView(s.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? " " : $0 }))
    }

    private static func quote(_ s: String) -> String { "\"" + inline(s) + "\"" }

    /// `2026-11-24 20:30:15 UTC`.
    public static func dateTime(_ t: Double) -> String {
        let c = utc(t)
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d UTC", c.year, c.month, c.day, c.hour, c.minute, c.second)
    }

    static func time(_ t: Double) -> String {
        let c = utc(t)
        return String(format: "%02d:%02d:%02d", c.hour, c.minute, c.second)
    }

    static func utc(_ t: Double) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        var seconds = time_t(t.rounded(.down))
        var tm = tm()
        gmtime_r(&seconds, &tm)
        return (Int(tm.tm_year) + 1900, Int(tm.tm_mon) + 1, Int(tm.tm_mday), Int(tm.tm_hour), Int(tm.tm_min), Int(tm.tm_sec))
    }

    /// `0.25 s`, `12.3 s`, `4m 12s`, `2h 5m`.
    static func duration(_ d: Double) -> String {
        let d = max(0, d)
        if d < 10 { return String(format: "%.2f s", d) }
        if d < 60 { return String(format: "%.1f s", d) }
        let s = Int(d.rounded())
        if s < 3600 { return "\(s / 60)m \(s % 60)s" }
        return "\(s / 3600)h \((s % 3600) / 60)m"
    }
}

/// Writes `text` to a temporary file next to `path`, then renames it over `path` (mode 0600).
func writeFileAtomically(_ path: String, _ text: String) throws {
    let tmp = path + ".tmp-\(getpid())"
    let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw SessionsError.cannotWrite(path: path, reason: String(cString: strerror(errno))) }
    let bytes = Array(text.utf8)
    var done = 0
    var ok = true
    while done < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
        if n < 0 { if errno == EINTR { continue }; ok = false; break }
        done += n
    }
    let reason = String(cString: strerror(errno))
    if ok { ok = fsync(fd) == 0 }
    close(fd)
    guard ok, rename(tmp, path) == 0 else {
        unlink(tmp)
        throw SessionsError.cannotWrite(path: path, reason: reason)
    }
}
