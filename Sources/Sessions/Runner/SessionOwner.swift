import Cluster
import Foundation

/// `owner.json` in a session's directory while a process works on it (a run, a resume, a shell):
/// `warren sessions` lists such a session as running (a shell as open), and `warren resume`
/// leaves it alone. A process that dies leaves its marker behind; a dead pid does not count.
public struct SessionOwner: Codable, Equatable, Sendable {
    public var pid: Int32
    public var host: String
    public var started: Double

    public static let file = "owner.json"

    /// Marks the directory as this process's. (Not synced: after a power loss the mark is gone
    /// with the process, which is what it says anyway.)
    static func claim(_ dir: String) -> SessionOwner {
        let me = SessionOwner(pid: getpid(), host: ProcessInfo.processInfo.hostName, started: Date().timeIntervalSince1970)
        if let data = try? JSONEncoder().encode(me) {
            FileManager.default.createFile(atPath: dir + "/" + file, contents: data, attributes: [.posixPermissions: 0o600])
        }
        return me
    }

    /// Removes the mark, if it is still this one.
    func release(_ dir: String) {
        if SessionOwner.read(dir) == self { unlink(dir + "/" + SessionOwner.file) }
    }

    static func read(_ dir: String) -> SessionOwner? {
        FileManager.default.contents(atPath: dir + "/" + file).flatMap { try? JSONDecoder().decode(SessionOwner.self, from: $0) }
    }

    /// The live process working on the session now, if any (on this host).
    public static func live(_ dir: String) -> SessionOwner? {
        guard let o = read(dir), o.host == ProcessInfo.processInfo.hostName,
              kill(o.pid, 0) == 0 || errno == EPERM else { return nil }
        return o
    }
}
