import Foundation

/// Where warren keeps its state: `$WARREN_STATE`, else `$XDG_STATE_HOME/warren`, else
/// `~/.local/state/warren`. Empty variables count as unset; a relative `XDG_STATE_HOME` is
/// ignored, as the XDG specification asks.
public struct StatePaths: Sendable {
    public let root: String

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        if let s = environment["WARREN_STATE"], !s.isEmpty {
            root = s
        } else if let x = environment["XDG_STATE_HOME"], x.hasPrefix("/") {
            root = x + "/warren"
        } else {
            root = (environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()) + "/.local/state/warren"
        }
    }

    public init(root: String) { self.root = root }

    public var sessions: String { root + "/sessions" }
    public var locks: String { root + "/locks" }
    public var memory: String { root + "/memory" }
    public var history: String { root + "/history" }

    public func session(_ id: String) -> String { sessions + "/" + id }

    /// Creates a directory and its parents (mode 700: sessions may name hosts and queues).
    public static func ensureDirectory(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
    }
}
