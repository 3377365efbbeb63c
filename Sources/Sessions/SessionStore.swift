import Cluster
import Foundation
import Runbook

/// One session as `warren sessions list` shows it.
public struct SessionListing: Sendable {
    public var id: String
    /// The session's directory.
    public var directory: String
    /// What the journal says; nil when it is missing or unreadable (see `problem`).
    public var summary: SessionSummary?
    /// Why the journal could not be read (a `JournalError` description naming file and line).
    public var problem: String?
    /// A live warren process works on this session now (a run, or an open shell).
    public var running = false

    public var runbook: String {
        guard let summary else { return "?" }
        return summary.isShell ? "shell" : summary.start.runbook ?? summary.start.path ?? "?"
    }
    public var target: String { summary?.start.target ?? "?" }
    /// Wall-clock start, seconds since 1970.
    public var started: Double? { summary?.startTime }

    /// `done`, `failed`, `refused`, `interrupted`, `running` (a live process works on it),
    /// `crashed` (no session end recorded and no live process), or `unreadable`; for a shell
    /// session `open`, `closed`, or `killed`.
    public var outcome: String {
        guard let summary else { return "unreadable" }
        if summary.isShell { return running ? "open" : (summary.outcome == nil ? "killed" : "closed") }
        if running && summary.outcome == nil { return "running" }
        return summary.outcome ?? "crashed"
    }

    /// The step the session stopped in (in progress or failed), if any.
    public var stoppedAt: String? {
        guard let summary, summary.outcome != "done" else { return nil }
        return summary.inProgress ?? summary.failed
    }

    /// Whether `warren resume` can continue it (never a shell session, nor one a live process runs).
    public var resumable: Bool { !running && (summary?.resumable ?? false) }
}

/// The sessions directory: `$WARREN_STATE/sessions/<id>/` with `journal.jsonl`, `session.cast`,
/// `report.md`, `report.html` and, on the simulator, `sim-state.json`.
public struct SessionStore: Sendable {
    public static let journalFile = "journal.jsonl"
    public static let castFile = "session.cast"
    public static let reportFile = "report.md"
    public static let htmlReportFile = "report.html"

    /// The sessions directory itself.
    public let directory: String

    public init(directory: String = StatePaths().sessions) {
        self.directory = directory
    }

    /// A new session id: UTC date and time, then 4 random hex digits (`20261124-203015-ab12`), so
    /// ids sort by start time and two sessions started in the same second do not collide.
    public static func makeID(date: Date = Date()) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var tm = tm()
        gmtime_r(&seconds, &tm)
        let random = UInt16.random(in: .min ... .max)
        return String(format: "%04d%02d%02d-%02d%02d%02d-%04x", Int(tm.tm_year) + 1900, Int(tm.tm_mon) + 1,
                      Int(tm.tm_mday), Int(tm.tm_hour), Int(tm.tm_min), Int(tm.tm_sec), Int(random))
    }

    /// Creates a new session's directory (owner-only) and returns its id.
    /// - Throws: `SessionsError.cannotWrite`.
    public func create(date: Date = Date()) throws -> String {
        try StatePaths.ensureDirectory(directory)
        for _ in 0..<16 {
            let id = Self.makeID(date: date)
            if mkdir(path(of: id), 0o700) == 0 { return id }
            if errno != EEXIST { break }
        }
        throw SessionsError.cannotWrite(path: directory + "/" + Self.makeID(date: date),
                                        reason: String(cString: strerror(errno)))
    }

    public func path(of id: String) -> String { directory + "/" + id }
    public func journalPath(_ id: String) -> String { path(of: id) + "/" + Self.journalFile }
    public func castPath(_ id: String) -> String { path(of: id) + "/" + Self.castFile }
    public func reportPath(_ id: String) -> String { path(of: id) + "/" + Self.reportFile }
    public func htmlReportPath(_ id: String) -> String { path(of: id) + "/" + Self.htmlReportFile }

    /// Every session id, oldest first.
    public func ids() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { name in
            var isDir: ObjCBool = false
            return !name.hasPrefix(".") && FileManager.default.fileExists(atPath: path(of: name), isDirectory: &isDir) && isDir.boolValue
        }.sorted()
    }

    /// One session's listing; an unreadable journal gives a listing with `problem` set, never an error.
    public func listing(_ id: String) -> SessionListing {
        var l = SessionListing(id: id, directory: path(of: id))
        l.running = SessionOwner.live(path(of: id)) != nil
        do {
            l.summary = SessionSummary(entries: try JournalReader.read(journalPath(id)))
        } catch {
            l.problem = String(describing: error)
        }
        return l
    }

    /// Every session, oldest first.
    public func list() -> [SessionListing] { ids().map(listing) }

    /// The most recent session that can be resumed (what `warren resume` without an id continues):
    /// never a shell session, nor one a live process is running.
    public func latestUnfinished() -> SessionListing? {
        for id in ids().reversed() {
            let l = listing(id)
            if l.resumable { return l }
        }
        return nil
    }

    /// The runbook whose unfinished sessions make a mixed-version cluster expected.
    public static let rollingUpgrade = "rolling-upgrade"

    /// The newest unfinished `rolling-upgrade` session on a cluster (a simulated one by its id, a
    /// real one by its name) that installed a release on a node, other than `excluding`: while it
    /// lasts the cluster may run mixed versions, and preflight says so instead of failing.
    public func unfinishedUpgrade(of identity: TargetIdentity, excluding: String?) -> UpgradeUnderWay? {
        for id in ids().reversed() where id != excluding {
            guard let summary = try? SessionSummary(entries: JournalReader.read(journalPath(id))),
                  summary.start.runbook == Self.rollingUpgrade, summary.resumable,
                  // One that stopped before installing anything left no mixed versions.
                  summary.entries.contains(where: { if case .primitiveCall(let c) = $0.event { return c.primitive == "upgrade" }; return false })
            else { continue }
            let same = identity.id.map { $0 == summary.start.clusterID } ?? (summary.start.clusterID == nil && summary.start.cluster == identity.name)
            if same { return UpgradeUnderWay(session: id, target: summary.start.params?["to"]) }
        }
        return nil
    }

    /// The session id `text` names: an exact id or a unique prefix.
    /// - Throws: `SessionsError.unknownSession`, `.ambiguousSession` or `.noSessions`.
    public func resolve(_ text: String) throws -> String {
        let all = ids()
        if all.contains(text) { return text }
        guard !all.isEmpty else { throw SessionsError.noSessions(sessionsDirectory: directory) }
        let matches = text.isEmpty ? all : all.filter { $0.hasPrefix(text) }
        switch matches.count {
        case 0: throw SessionsError.unknownSession(text, sessionsDirectory: directory)
        case 1: return matches[0]
        default: throw SessionsError.ambiguousSession(text, matches: matches)
        }
    }

    /// The session's report: `report.md` when it is at least as recent as the journal, else
    /// rendered from the journal (without the final cluster state, which only the run knew).
    /// - Returns: the text, and whether it was rendered from the journal.
    /// - Throws: `JournalError` naming file and line when the journal is needed and unreadable.
    public func report(_ id: String) throws -> (text: String, renderedFromJournal: Bool) {
        if isCurrent(reportPath(id), id), let data = FileManager.default.contents(atPath: reportPath(id)) {
            return (String(decoding: data, as: UTF8.self), false)
        }
        let entries = try JournalReader.read(journalPath(id))
        return (ReportWriter.render(entries: entries, verification: SessionVerification.markdown(directory: path(of: id), entries: entries),
                                    sessionID: id), true)
    }

    /// The path of the session's `report.html` (its timeline), written from the journal first
    /// when it is missing or older than the journal (then without the simulator's invariants,
    /// which only the run knew).
    /// - Returns: the path, and whether it was written now.
    /// - Throws: `SessionsError.missingFile` when the session has no journal to draw it from,
    ///   `JournalError` when the journal is unreadable, `SessionsError.cannotWrite`.
    public func htmlReport(_ id: String) throws -> (path: String, writtenNow: Bool) {
        let path = htmlReportPath(id)
        if isCurrent(path, id) { return (path, false) }
        guard FileManager.default.fileExists(atPath: journalPath(id)) else {
            throw SessionsError.missingFile(path: journalPath(id), what: "journal, which its timeline is drawn from")
        }
        try HTMLReport.write(to: path, entries: try JournalReader.read(journalPath(id)), sessionID: id, redactor: Redactor())
        return (path, true)
    }

    /// Whether a file written from the journal exists and is at least as recent as the journal
    /// (a resume that crashed carries the journal on after the reports were written).
    private func isCurrent(_ path: String, _ id: String) -> Bool {
        let fm = FileManager.default
        guard let written = (try? fm.attributesOfItem(atPath: path))?[.modificationDate] as? Date else { return false }
        guard let journal = (try? fm.attributesOfItem(atPath: journalPath(id)))?[.modificationDate] as? Date else { return true }
        return journal <= written
    }
}
