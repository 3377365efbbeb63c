import Foundation

/// Where warren keeps its state: `$WARREN_STATE`, else `$XDG_STATE_HOME/warren`, else
/// `~/.local/state/warren`.
///
/// Every function takes the environment so tests (and callers that override it) never have to
/// mutate the process environment. Empty variables count as unset; a relative `XDG_STATE_HOME`
/// is ignored, as the XDG specification asks.
public enum StatePaths {
    public typealias Environment = [String: String]

    /// The state root.
    public static func root(_ env: Environment = ProcessInfo.processInfo.environment) -> String {
        if let s = env["WARREN_STATE"], !s.isEmpty { return s }
        if let x = env["XDG_STATE_HOME"], x.hasPrefix("/") { return x + "/warren" }
        let home = env["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.local/state/warren"
    }

    /// `<root>/sessions`: one directory per session.
    public static func sessions(_ env: Environment = ProcessInfo.processInfo.environment) -> String {
        root(env) + "/sessions"
    }

    /// `<root>/locks`: one lock per cluster.
    public static func locks(_ env: Environment = ProcessInfo.processInfo.environment) -> String {
        root(env) + "/locks"
    }

    /// `<root>/memory`: `memory.get/set`, per cluster, across sessions.
    public static func memory(_ env: Environment = ProcessInfo.processInfo.environment) -> String {
        root(env) + "/memory"
    }

    /// `<root>/history`: the shell's line history.
    public static func history(_ env: Environment = ProcessInfo.processInfo.environment) -> String {
        root(env) + "/history"
    }

    /// Creates `path` and its parents, owner-only (sessions hold operational detail).
    /// - Throws: `SessionsError.cannotWrite` naming the directory.
    public static func ensureDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw SessionsError.cannotWrite(path: path, reason: (error as NSError).localizedDescription)
        }
    }
}
