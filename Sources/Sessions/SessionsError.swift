/// A session that cannot be found, read or written. Each message says what happened and what to do.
public enum SessionsError: Error, CustomStringConvertible, Equatable {
    /// No session id starts with the given text.
    case unknownSession(String, sessionsDirectory: String)
    /// More than one session id starts with the given text.
    case ambiguousSession(String, matches: [String])
    /// There are no sessions at all.
    case noSessions(sessionsDirectory: String)
    /// A session's file is missing.
    case missingFile(path: String, what: String)
    /// A directory or file could not be created or written.
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case .unknownSession(let id, let dir):
            return "no session '\(id)' in \(dir). Run `warren sessions list` to see the session ids."
        case .ambiguousSession(let id, let matches):
            let shown = matches.prefix(5).joined(separator: ", ") + (matches.count > 5 ? ", ..." : "")
            return "'\(id)' matches \(matches.count) sessions (\(shown)); give more of the id."
        case .noSessions(let dir):
            return "no sessions recorded yet in \(dir). `warren run RUNBOOK` records one."
        case .missingFile(let path, let what):
            return "\(path): the session has no \(what) (it was not recorded or was removed)."
        case .cannotWrite(let path, let reason):
            return "\(path): cannot write: \(reason)"
        }
    }
}
