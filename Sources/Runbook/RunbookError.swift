/// How a run ended badly; each maps to an exit code of `warren run`.
public enum RunbookError: Error, CustomStringConvertible, Equatable {
    /// Bad input found before anything changed (runbook, parameters, answers): exit 2.
    case usage(String)
    /// A confirmation was refused or could not be asked: exit 1, resumable.
    case refused(String)
    /// A gate, a primitive or the runbook failed: exit 1, resumable.
    case failed(String)
    /// Ctrl-C: exit 3, resumable.
    case interrupted

    public var description: String {
        switch self {
        case .usage(let m), .refused(let m), .failed(let m): return m
        case .interrupted: return "interrupted"
        }
    }

    /// The exit code of `warren run` (0 done, 1 failed or refused, 2 usage, 3 interrupted).
    public var exitCode: Int32 {
        switch self {
        case .usage: return 2
        case .refused, .failed: return 1
        case .interrupted: return 3
        }
    }

    /// The journal's outcome word.
    public var outcome: String {
        switch self {
        case .usage: return "usage"
        case .refused: return "refused"
        case .failed: return "failed"
        case .interrupted: return "interrupted"
        }
    }
}
