import Foundation

/// Temporary files of a test process: every path is under one directory of the process, removed
/// when the process exits (a test run leaves nothing in /tmp unless it crashed).
public enum TestDirectory {
    nonisolated(unsafe) private static var root: String?
    private static let lock = NSLock()

    /// A new directory (or, with `file: true`, a path for a new file) named `prefix-UUID`.
    public static func make(_ prefix: String, file: Bool = false) -> String {
        let path = processRoot() + "/\(prefix)-\(UUID().uuidString)"
        if !file { try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        return path
    }

    private static func processRoot() -> String {
        lock.lock(); defer { lock.unlock() }
        if let root { return root }
        let path = NSTemporaryDirectory() + "warren-tests-\(getpid())"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        root = path
        atexit { if let root = TestDirectory.root { try? FileManager.default.removeItem(atPath: root) } }
        return path
    }
}
