import Cluster
import Foundation

/// A journal that could not be read or written: names the file and line.
public struct JournalError: Error, CustomStringConvertible {
    public var path: String
    public var line: Int?
    public var reason: String
    public init(path: String, line: Int?, reason: String) {
        self.path = path
        self.line = line
        self.reason = reason
    }
    public var description: String {
        if let line { return "\(path):\(line): \(reason)" }
        return "\(path): \(reason)"
    }
}

/// Appends entries to `journal.jsonl`.
///
/// Every entry is written at once (a crash or `kill -9` of warren keeps it). A durable entry is
/// also fsync'd, with everything before it, before `append` returns: every entry that announces
/// an action on the cluster or an answer is durable, so the journal on disk is always ahead of
/// the cluster even across a power loss. Bookkeeping entries (step start and end, notes) ride
/// along with the next durable one.
///
/// Before each line is written, ``beforeWrite`` runs: the session saves its target's state there,
/// so the journal never says more than the saved cluster shows.
///
/// Appends may come from more than one thread (the canary's samples on a real cluster, from its
/// own thread): each line is written whole, one at a time.
///
/// A journal begins with its `session_start`: `command` and `canary_sample` entries appended to a
/// new journal before it (the backend reading the cluster while the runbook is discovered, the
/// canary's first tick) are held and written right after it. A journal whose last line was torn by
/// a crash is repaired when it is opened: the torn bytes are cut off (the whole journal is first
/// copied beside it, as `journal.jsonl.torn-<time>`), so what is appended starts on a line of its
/// own.
public final class JournalWriter {
    public let path: String
    private let fd: Int32
    private let encoder: JSONEncoder
    /// Applied to every line before it is written (secrets redaction).
    public var redact: (String) -> String
    /// Runs before every line is written; an error stops the write (nothing is journaled).
    public var beforeWrite: (() throws -> Void)?
    /// Where the torn tail of the journal was kept, when opening it had to repair one.
    public private(set) var repairedTornLine: String?
    /// Every entry this writer wrote, in order: the report at the end of a run is drawn from them
    /// rather than from the journal read back (a long session's journal takes the JSON decoder
    /// most of a second).
    public var written: [JournalEntry] { lock.withLock { entries } }
    private var entries: [JournalEntry] = []

    public init(path: String, redact: @escaping (String) -> String = { $0 }) throws {
        self.path = path
        self.redact = redact
        fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw JournalError(path: path, line: nil, reason: "cannot open for writing: \(String(cString: strerror(errno)))")
        }
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var info = stat()
        begun = fstat(fd, &info) == 0 && info.st_size > 0
        if begun {
            do { try repairTornLine(size: Int(info.st_size)) } catch {
                close(fd)
                throw error
            }
        }
    }

    deinit { close(fd) }

    private var unsynced = false
    /// Whether the journal has its first entry (false for a new one until its session_start).
    private var begun: Bool
    private var held: [JournalEntry] = []
    private let lock = NSLock()

    public func append(_ entry: JournalEntry, durable: Bool = true) throws {
        lock.lock()
        defer { lock.unlock() }
        if !begun {
            if entry.kind == .command || entry.kind == .canarySample {
                held.append(entry)
                return
            }
            begun = true
            try writeLine(entry, durable: false)
            let waiting = held
            held = []
            for e in waiting { try writeLine(e, durable: false) }
            if durable { try syncWritten() }
            return
        }
        try writeLine(entry, durable: durable)
    }

    private func writeLine(_ entry: JournalEntry, durable: Bool) throws {
        try beforeWrite?()
        let data = try encoder.encode(entry)
        let line = redact(String(decoding: data, as: UTF8.self)) + "\n"
        CrashPoint.reached(before: true)
        let ok = line.utf8CString.withUnsafeBufferPointer { buf -> Bool in
            var offset = 0
            let total = buf.count - 1
            while offset < total {
                let n = write(fd, buf.baseAddress! + offset, total - offset)
                if n < 0 { if errno == EINTR { continue }; return false }
                offset += n
            }
            return true
        }
        guard ok else {
            throw JournalError(path: path, line: nil, reason: "cannot write: \(String(cString: strerror(errno)))")
        }
        unsynced = true
        entries.append(entry)
        if durable { try syncWritten() }
        CrashPoint.reached(before: false)
    }

    /// fsyncs what was written since the last sync.
    public func sync() throws {
        lock.lock()
        defer { lock.unlock() }
        try syncWritten()
    }

    private func syncWritten() throws {
        guard unsynced else { return }
        guard fsync(fd) == 0 else {
            throw JournalError(path: path, line: nil, reason: "cannot sync: \(String(cString: strerror(errno)))")
        }
        unsynced = false
    }

    /// Cuts a torn last line off (a crash in the middle of a write), keeping a copy of the journal.
    private func repairTornLine(size: Int) throws {
        var last: UInt8 = 0
        guard pread(fd, &last, 1, off_t(size - 1)) == 1, last != UInt8(ascii: "\n") else { return }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw JournalError(path: path, line: nil, reason: "cannot read the journal to repair its torn last line")
        }
        let keep = (data.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 }) ?? 0
        let copy = path + ".torn-\(Int(Date().timeIntervalSince1970))"
        do {
            try writeAtomically(data, to: copy)
        } catch {
            throw JournalError(path: path, line: nil, reason: "its last line is torn and a copy could not be kept at \(copy) before cutting it off; nothing was changed")
        }
        guard ftruncate(fd, off_t(keep)) == 0, fsync(fd) == 0 else {
            throw JournalError(path: path, line: nil, reason: "cannot cut off its torn last line: \(String(cString: strerror(errno)))")
        }
        repairedTornLine = copy
        begun = keep > 0
    }

    /// For the crash-consistency tests only: `WARREN_TEST_CRASH_AT_JOURNAL_WRITE=before:N` (or
    /// `after:N`) makes this process kill itself with SIGKILL just before (after) its N-th journal
    /// write, as `kill -9` at that instant would.
    struct CrashPoint {
        var before: Bool
        var n: Int
        static var writes = 0
        static let configured: CrashPoint? = {
            guard let v = ProcessInfo.processInfo.environment["WARREN_TEST_CRASH_AT_JOURNAL_WRITE"] else { return nil }
            let parts = v.split(separator: ":")
            guard parts.count == 2, let n = Int(parts[1]), n > 0, parts[0] == "before" || parts[0] == "after" else { return nil }
            return CrashPoint(before: parts[0] == "before", n: n)
        }()

        static func reached(before: Bool) {
            guard let point = configured else { return }
            if before { writes += 1 }
            if before == point.before && writes == point.n { kill(getpid(), SIGKILL) }
        }
    }
}
