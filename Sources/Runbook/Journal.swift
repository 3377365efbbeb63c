import Foundation

/// One line of a session's `journal.jsonl`.
///
/// Written ahead of the action it announces and fsync'd: a `primitive` entry with `phase: "call"`
/// is on disk before the primitive is sent to the cluster, and one with `phase: "result"` after.
public struct JournalEntry: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable {
        /// Session start: runbook, content hash, params, target.
        case sessionStart = "session_start"
        /// A resume of the session began (a new process continues it).
        case resumed
        case stepStart = "step_start"
        case stepSkipped = "step_skipped"
        case stepDone = "step_done"
        case stepFailed = "step_failed"
        case primitive
        /// A process or HTTP call a real backend made: `value` is the command line, `outcome` its
        /// exit code (or HTTP status), `message` its output (redacted, trimmed).
        case command
        case confirmAsked = "confirm_asked"
        case confirmAnswered = "confirm_answered"
        case say
        case note
        /// Ctrl-C, a refused confirmation or a failed gate stopped the run; it can resume.
        case interrupted
        case sessionEnd = "session_end"
    }

    public var kind: Kind
    /// Wall-clock time, seconds since 1970.
    public var time: Double
    /// Target time (virtual on the simulator), seconds.
    public var clock: Double?
    public var step: String?
    public var title: String?
    /// Primitive name (`stop`, `drain`, ...), with `phase` `call` or `result`.
    public var primitive: String?
    public var phase: String?
    public var node: String?
    public var args: [String: String]?
    /// `ok`, `failed`, `refused`, `done`, `interrupted`, `yes`, `no`, or a chosen answer.
    public var outcome: String?
    public var message: String?
    public var duration: Double?
    /// Session start: runbook name, path, SHA-256 of its content, parameters, target description,
    /// cluster name, answer source.
    public var runbook: String?
    public var path: String?
    public var hash: String?
    public var params: [String: String]?
    public var target: String?
    public var cluster: String?
    public var key: String?
    public var value: String?

    public init(kind: Kind, time: Double = Date().timeIntervalSince1970, clock: Double? = nil, step: String? = nil,
                title: String? = nil, primitive: String? = nil, phase: String? = nil, node: String? = nil,
                args: [String: String]? = nil, outcome: String? = nil, message: String? = nil, duration: Double? = nil,
                runbook: String? = nil, path: String? = nil, hash: String? = nil, params: [String: String]? = nil,
                target: String? = nil, cluster: String? = nil, key: String? = nil, value: String? = nil) {
        self.kind = kind
        self.time = time
        self.clock = clock
        self.step = step
        self.title = title
        self.primitive = primitive
        self.phase = phase
        self.node = node
        self.args = args
        self.outcome = outcome
        self.message = message
        self.duration = duration
        self.runbook = runbook
        self.path = path
        self.hash = hash
        self.params = params
        self.target = target
        self.cluster = cluster
        self.key = key
        self.value = value
    }
}

/// A journal that could not be read: names the file and line.
public struct JournalError: Error, CustomStringConvertible {
    public var path: String
    public var line: Int?
    public var reason: String
    public var description: String {
        if let line { return "\(path):\(line): \(reason)" }
        return "\(path): \(reason)"
    }
}

/// Appends entries to `journal.jsonl`.
///
/// Every entry is written at once (a crash or `kill -9` of warren keeps it). A durable entry is
/// also fsync'd, with everything before it, before `append` returns: the engine makes durable
/// every entry that announces an action on the cluster or an answer, so the journal on disk is
/// always ahead of the cluster even across a power loss. Bookkeeping entries (step start and
/// end, notes) ride along with the next durable one.
///
/// A journal begins with its `session_start`: `command` entries appended to a new journal before
/// it (the backend reading the cluster while the runbook is discovered and the session's cluster
/// name is looked up) are held and written right after it.
public final class JournalWriter {
    public let path: String
    private let fd: Int32
    private let encoder: JSONEncoder
    /// Applied to every line before it is written (secrets redaction).
    public var redact: (String) -> String

    public init(path: String, redact: @escaping (String) -> String = { $0 }) throws {
        self.path = path
        self.redact = redact
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw JournalError(path: path, line: nil, reason: "cannot open for writing: \(String(cString: strerror(errno)))")
        }
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var info = stat()
        begun = fstat(fd, &info) == 0 && info.st_size > 0
    }

    deinit { close(fd) }

    private var unsynced = false
    /// Whether the journal has its first entry (false for a new one until its session_start).
    private var begun: Bool
    private var heldCommands: [JournalEntry] = []

    public func append(_ entry: JournalEntry, durable: Bool = true) throws {
        if !begun {
            if entry.kind == .command {
                heldCommands.append(entry)
                return
            }
            begun = true
            try writeLine(entry, durable: false)
            let held = heldCommands
            heldCommands = []
            for command in held { try writeLine(command, durable: false) }
            if durable { try sync() }
            return
        }
        try writeLine(entry, durable: durable)
    }

    private func writeLine(_ entry: JournalEntry, durable: Bool) throws {
        let data = try encoder.encode(entry)
        let line = redact(String(decoding: data, as: UTF8.self)) + "\n"
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
        if durable { try sync() }
    }

    /// fsyncs what was written since the last sync.
    public func sync() throws {
        guard unsynced else { return }
        guard fsync(fd) == 0 else {
            throw JournalError(path: path, line: nil, reason: "cannot sync: \(String(cString: strerror(errno)))")
        }
        unsynced = false
    }
}

/// Reads a journal. A torn last line (a crash mid-write) is ignored; any other bad line is an
/// error naming the line.
public enum JournalReader {
    public static func read(_ path: String) throws -> [JournalEntry] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw JournalError(path: path, line: nil, reason: "cannot read the journal (missing or unreadable)")
        }
        let text = String(decoding: data, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let endsWithNewline = text.hasSuffix("\n")
        if lines.last == "" { lines.removeLast() }
        let decoder = JSONDecoder()
        var entries: [JournalEntry] = []
        for (i, line) in lines.enumerated() {
            let isLast = i == lines.count - 1
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            do {
                entries.append(try decoder.decode(JournalEntry.self, from: Data(line.utf8)))
            } catch {
                if isLast && !endsWithNewline { break }  // torn last line
                throw JournalError(path: path, line: i + 1, reason: "not a journal entry (\(describe(error)))")
            }
        }
        guard let first = entries.first, first.kind == .sessionStart else {
            throw JournalError(path: path, line: 1, reason: "the journal does not begin with a session_start entry")
        }
        return entries
    }

    private static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.dataCorrupted: return "invalid JSON"
        case DecodingError.keyNotFound(let key, _): return "missing key '\(key.stringValue)'"
        case DecodingError.typeMismatch(_, let ctx): return "wrong type at '\(ctx.codingPath.map(\.stringValue).joined(separator: "."))'"
        default: return "invalid entry"
        }
    }
}

/// What a journal says about a session.
public struct SessionSummary: Sendable {
    public var start: JournalEntry
    public var stepsDone: Set<String>
    /// The step that started and neither finished nor failed last (re-run on resume).
    public var inProgress: String?
    /// The step that failed last, if the run stopped on a failure.
    public var failed: String?
    /// `done`, `failed`, `refused`, `interrupted`, or nil when the session never ended (a crash).
    public var outcome: String?
    public var lastTime: Double
    public var entries: [JournalEntry]

    public init(entries: [JournalEntry]) {
        self.entries = entries
        start = entries[0]
        var done = Set<String>()
        var open: String?
        var failed: String?
        var outcome: String?
        for e in entries {
            switch e.kind {
            case .stepStart: open = e.step; failed = nil
            case .stepDone, .stepSkipped:
                if let s = e.step { done.insert(s) }
                if open == e.step { open = nil }
            case .stepFailed:
                failed = e.step
                if open == e.step { open = nil }
            case .sessionEnd: outcome = e.outcome
            case .resumed: outcome = nil
            default: break
            }
        }
        stepsDone = done
        inProgress = open
        self.failed = failed
        self.outcome = outcome
        lastTime = entries.last?.time ?? start.time
    }

    /// Whether `warren resume` can continue it.
    public var resumable: Bool { outcome != "done" }
}
