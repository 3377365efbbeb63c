import Foundation

/// One run per cluster at a time: `$WARREN_STATE/locks/<cluster>.lock` names its holder.
public final class ClusterLock {
    public struct Holder: Codable, Equatable, Sendable {
        public var pid: Int32
        public var host: String
        public var user: String
        public var session: String
        public var since: Double
    }

    /// Another live run holds the lock.
    public struct Held: Error, CustomStringConvertible {
        public var cluster: String
        public var holder: Holder
        public var path: String
        public var description: String {
            let since = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: holder.since))
            return "cluster '\(cluster)' is locked by another warren run: pid \(holder.pid) on \(holder.host), user \(holder.user), session \(holder.session), since \(since). Nothing was changed. If that run is gone, retry with --break-lock (lock file: \(path))."
        }
    }

    public let path: String
    public let holder: Holder
    private var released = false

    /// Takes the lock. A lock whose holder process is dead (same host) is taken over, with a message.
    public init(cluster: String, session: String, paths: StatePaths, breakLock: Bool, notice: (String) -> Void) throws {
        try StatePaths.ensureDirectory(paths.locks)
        let safe = cluster.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" }
        path = paths.locks + "/" + String(safe) + ".lock"
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
            let existing = FileManager.default.contents(atPath: path).flatMap { try? JSONDecoder().decode(Holder.self, from: $0) }
            if let existing, !breakLock {
                let alive = existing.host != holder.host || kill(existing.pid, 0) == 0 || errno != ESRCH
                if alive && existing.pid != getpid() { throw Held(cluster: cluster, holder: existing, path: path) }
                notice("taking over the lock of cluster '\(cluster)' from session \(existing.session) (pid \(existing.pid) is no longer running)\n")
            } else if breakLock {
                notice("breaking the lock of cluster '\(cluster)'" + (existing.map { " held by pid \($0.pid) on \($0.host), session \($0.session)" } ?? "") + "\n")
            }
            unlink(path)
        }
        throw CocoaError(.fileWriteFileExists, userInfo: [NSFilePathErrorKey: path])
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
