import Foundation

/// One run per cluster at a time: `$WARREN_STATE/locks/<cluster>.lock` names its holder.
///
/// A lock whose holder process is gone (same host) is taken over, with a notice. `--break-lock`
/// takes a lock held from another host (whose process this host cannot see), or one that does
/// not parse; it refuses while the holder is alive on this host, and says how to end it. A run
/// whose lock was taken from it stops at its next primitive (``verify()``).
public final class ClusterLock {
    public struct Holder: Codable, Equatable, Sendable {
        public var pid: Int32
        public var host: String
        public var user: String
        public var session: String
        public var since: Double

        var sinceText: String { ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: since)) }
        public var summary: String { "pid \(pid) on \(host), user \(user), session \(session), since \(sinceText)" }

        /// Whether the holder process is alive on this host (false for another host: unknowable).
        var aliveHere: Bool {
            host == ProcessInfo.processInfo.hostName && (kill(pid, 0) == 0 || errno == EPERM)
        }
        var onThisHost: Bool { host == ProcessInfo.processInfo.hostName }
    }

    /// Another live run holds the lock.
    public struct Held: Error, CustomStringConvertible {
        public var cluster: String
        public var holder: Holder
        public var path: String
        public var description: String {
            let hint = holder.onThisHost
                ? "Wait for it to end, or end it (Ctrl-C in its terminal, or `kill \(holder.pid)`: it stops resumably)"
                : "If that run is gone, retry with --break-lock"
            return "cluster '\(cluster)' is locked by another warren run: \(holder.summary). Nothing was changed. \(hint) (lock file: \(path))."
        }
    }

    /// `--break-lock` while the holder is alive on this host.
    public struct HolderAlive: Error, CustomStringConvertible {
        public var cluster: String
        public var holder: Holder
        public var path: String
        public var description: String {
            "refusing to break the lock of cluster '\(cluster)': its holder is running on this host (\(holder.summary)). Nothing was changed. End that run first (Ctrl-C in its terminal, or `kill \(holder.pid)`: it stops resumably), then retry (lock file: \(path))."
        }
    }

    /// A lock file that does not parse.
    public struct Unreadable: Error, CustomStringConvertible {
        public var path: String
        public var description: String {
            "\(path): the cluster's lock file does not parse (not a warren lock). Nothing was changed. If no warren run holds this cluster, retry with --break-lock to remove it."
        }
    }

    public let path: String
    public let cluster: String
    public let holder: Holder
    private var released = false

    /// Takes the lock.
    /// - Throws: ``Held``, ``HolderAlive``, ``Unreadable``, or a file error.
    public init(cluster: String, session: String, paths: StatePaths, breakLock: Bool, notice: (String) -> Void) throws {
        try StatePaths.ensureDirectory(paths.locks)
        let safe = cluster.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" }
        path = paths.locks + "/" + String(safe) + ".lock"
        self.cluster = cluster
        holder = Holder(pid: getpid(), host: ProcessInfo.processInfo.hostName,
                        user: ProcessInfo.processInfo.environment["USER"] ?? String(getuid()),
                        session: session, since: Date().timeIntervalSince1970)
        let data = try JSONEncoder().encode(holder)
        for _ in 0..<2 {
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd >= 0 {
                _ = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                fsync(fd)
                close(fd)
                return
            }
            guard errno == EEXIST else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path]) }
            guard let raw = FileManager.default.contents(atPath: path) else { continue }  // released meanwhile
            guard let existing = try? JSONDecoder().decode(Holder.self, from: raw) else {
                guard breakLock else { throw Unreadable(path: path) }
                notice("removing the lock file of cluster '\(cluster)', which does not parse (--break-lock)\n")
                unlink(path)
                continue
            }
            if existing.pid == holder.pid && existing.onThisHost {
                // This process's own earlier lock (a session of it that crashed, in a drill).
            } else if existing.aliveHere {
                if breakLock { throw HolderAlive(cluster: cluster, holder: existing, path: path) }
                throw Held(cluster: cluster, holder: existing, path: path)
            } else if !existing.onThisHost {
                guard breakLock else { throw Held(cluster: cluster, holder: existing, path: path) }
                notice("breaking the lock of cluster '\(cluster)' held by \(existing.summary) (--break-lock)\n")
            } else {
                notice("taking over the lock of cluster '\(cluster)' from session \(existing.session) (pid \(existing.pid) is no longer running)\n")
            }
            unlink(path)
        }
        throw CocoaError(.fileWriteFileExists, userInfo: [NSFilePathErrorKey: path])
    }

    /// Nil while this lock is still ours; else who holds the cluster now (the lock was broken).
    public func verify() -> String? {
        guard !released else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            return "the lock of cluster '\(cluster)' was removed (\(path))"
        }
        guard let h = try? JSONDecoder().decode(Holder.self, from: data) else {
            return "the lock of cluster '\(cluster)' was replaced by a file that does not parse (\(path))"
        }
        return h == holder ? nil : "the lock of cluster '\(cluster)' was taken by another warren run (\(h.summary))"
    }

    public func release() {
        guard !released else { return }
        released = true
        if let data = FileManager.default.contents(atPath: path),
           let h = try? JSONDecoder().decode(Holder.self, from: data), h == holder {
            unlink(path)
        }
    }

    deinit { release() }
}
