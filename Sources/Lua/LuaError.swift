/// Why running Lua code failed.
public enum LuaError: Error, CustomStringConvertible {
    /// The chunk does not compile. `incomplete` is true when the error is at the end of the input
    /// (a message ending in `<eof>`): more lines would complete it.
    case syntax(chunk: String, line: Int?, message: String, incomplete: Bool)
    /// The chunk raised an error. `underlying` is the Swift error a host function threw, if that is
    /// where it came from.
    case runtime(message: String, traceback: String, underlying: Error?)
    /// The chunk used its instruction budget.
    case budgetExceeded(limit: Int64)
    /// The chunk tried to allocate past the state's memory cap.
    case memoryExceeded(limit: Int)
    /// Ctrl-C (SIGINT) stopped the chunk.
    case interrupted

    public var description: String {
        switch self {
        case .syntax(_, _, let message, _): return "syntax error: \(message)"
        case .runtime(let message, _, _): return message
        case .budgetExceeded(let limit): return "stopped: the instruction budget (\(limit) Lua instructions) is exceeded"
        case .memoryExceeded(let limit): return "stopped: the memory cap (\(limit / (1 << 20)) MiB) is exceeded"
        case .interrupted: return "interrupted"
        }
    }

    /// The message and, for runtime errors, the traceback.
    public var fullDescription: String {
        if case .runtime(let message, let traceback, _) = self, !traceback.isEmpty {
            return message + "\n" + traceback
        }
        return description
    }

    /// Whether the runtime stopped the chunk (budget, memory, interrupt) rather than the chunk failing.
    public var isKill: Bool {
        switch self {
        case .budgetExceeded, .memoryExceeded, .interrupted: return true
        default: return false
        }
    }
}

/// A host function's argument was of the wrong type or missing.
public struct LuaArgumentError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A Swift error that Lua code receives as a table it can branch on (`err.code`), rather than a
/// string; `tostring(err)` gives ``luaMessage``.
public protocol LuaErrorValue: Error {
    /// The fields of the error table (`message` is added from ``luaMessage``).
    var luaFields: [String: LuaValue] { get }
    var luaMessage: String { get }
}
