import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a program on a new pseudo-terminal, as an operator's terminal would: the program is a
/// session leader whose controlling terminal is the pty, so `sendControl("c")` arrives as the
/// terminal's intr character and the kernel sends SIGINT to its foreground process group.
///
/// How the child gets its controlling terminal, without fork: `posix_spawn` with
/// `POSIX_SPAWN_SETSID` makes the child a new session leader (glibc runs setsid before the file
/// actions), and the first file action opens the pty slave by path without O_NOCTTY, which on
/// Linux makes it the session's controlling terminal. No Swift code runs in the child, which
/// `fork` + Swift could not guarantee. Signal dispositions are reset and the mask emptied, so a
/// test runner that ignores or blocks SIGINT does not pass that on.
///
/// Everything is polled against deadlines; nothing sleeps for synchronisation. The process is
/// killed (SIGKILL) and reaped when the terminal is deinitialised, if it has not exited.
public final class PseudoTerminal {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public let pid: pid_t
    private let master: Int32
    private let slave: Int32
    private var unread: [UInt8] = []
    private var everything: [UInt8] = []
    private var status: Int32?

    /// - Parameters:
    ///   - executable: the program's path (not searched in PATH).
    ///   - environment: overrides on top of this process's environment; TERM defaults to xterm.
    ///   - workingDirectory: the child's current directory (nil: this process's).
    public init(executable: String, arguments: [String] = [], environment: [String: String] = [:],
         workingDirectory: String? = nil, columns: UInt16 = 80, rows: UInt16 = 24) throws {
        guard access(executable, X_OK) == 0 else {
            throw Failure(description: "\(executable) is not an executable file")
        }
        let master = PTY.posix_openpt(O_RDWR | O_NOCTTY)
        guard master >= 0, PTY.grantpt(master) == 0, PTY.unlockpt(master) == 0 else {
            throw Failure(description: "cannot open a pseudo-terminal: errno \(errno)")
        }
        _ = fcntl(master, F_SETFD, FD_CLOEXEC)
        var name = [CChar](repeating: 0, count: 256)
        guard PTY.ptsname_r(master, &name, name.count) == 0 else {
            close(master)
            throw Failure(description: "ptsname_r failed: errno \(errno)")
        }
        let slavePath = String(cString: name)
        // Kept open here so reading the master never fails with EIO once the child has exited.
        let slave = open(slavePath, O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard slave >= 0 else {
            close(master)
            throw Failure(description: "cannot open \(slavePath): errno \(errno)")
        }
        var size = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(master, UInt(TIOCSWINSZ), &size)
        _ = fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, slavePath, O_RDWR, 0)
        posix_spawn_file_actions_adddup2(&actions, 0, 1)
        posix_spawn_file_actions_adddup2(&actions, 0, 2)
        // Other tests' descriptors would otherwise leak into the child (glibc 2.34+).
        if let closeFrom = PTY.addclosefrom_np { _ = closeFrom(&actions, 3) }
        if let workingDirectory {
            guard let chdir = PTY.addchdir_np else {
                close(master); close(slave)
                throw Failure(description: "posix_spawn_file_actions_addchdir_np is not available")
            }
            _ = chdir(&actions, workingDirectory)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t(), none = sigset_t()
        sigfillset(&all)
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes,
            Int16(PTY.spawnSetsid | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        var env = ProcessInfo.processInfo.environment
        env["TERM"] = "xterm"
        for (key, value) in environment { env[key] = value }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in argv + envp { free(p) } }

        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard rc == 0 else {
            close(master); close(slave)
            throw Failure(description: "posix_spawn \(executable) failed: \(String(cString: strerror(rc)))")
        }
        self.pid = pid
        self.master = master
        self.slave = slave
    }

    deinit {
        if status == nil {
            _ = Glibc.kill(pid, SIGKILL)
            var raw: Int32 = 0
            while waitpid(pid, &raw, 0) == -1 && errno == EINTR {}
        }
        close(master)
        close(slave)
    }

    /// Everything the program has written so far (escape sequences included).
    public var transcript: String {
        drain()
        return String(decoding: everything, as: UTF8.self)
    }

    /// Types `text`; use "\r" for Enter, as a terminal does.
    public func send(_ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        let deadline = Date().addingTimeInterval(5)
        while offset < bytes.count && Date() < deadline {
            let written = bytes[offset...].withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
            if written > 0 {
                offset += written
            } else if errno == EAGAIN {
                drain(waitingAtMost: 0.01)   // the program is not reading: let its output flow
            } else if errno != EINTR {
                return
            }
        }
    }

    /// Types Ctrl-<letter>, e.g. "c" for the interrupt character, "d" for end of input.
    public func sendControl(_ letter: Character) {
        guard let ascii = letter.uppercased().first?.asciiValue else { return }
        send(String(UnicodeScalar(ascii & 0x1F)))
    }

    /// Waits until `text` appears in output not yet consumed by an earlier `expect`; returns that
    /// output up to and including `text`, and consumes it.
    /// - Throws: `Failure` with everything seen since the last match, after `timeout` seconds or
    ///   as soon as the program has exited without printing it.
    @discardableResult
    public func expect(_ text: String, timeout: Double = 30) throws -> String {
        let needle = Array(text.utf8)
        return try waitFor(text.debugDescription, timeout: timeout) { unread in
            guard unread.count >= needle.count else { return nil }
            for start in 0...(unread.count - needle.count)
            where unread[start..<start + needle.count].elementsEqual(needle) {
                return start + needle.count
            }
            return nil
        }
    }

    /// Like `expect(_:)`, for a regular expression (NSRegularExpression syntax).
    @discardableResult
    public func expect(regex pattern: String, timeout: Double = 30) throws -> String {
        let regex = try NSRegularExpression(pattern: pattern)
        return try waitFor("/\(pattern)/", timeout: timeout) { unread in
            let text = String(decoding: unread, as: UTF8.self)
            guard let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
                  let range = Range(match.range, in: text) else { return nil }
            return text[..<range.upperBound].utf8.count
        }
    }

    /// Waits for the program to exit and returns its exit code, or 128 + the signal that killed it
    /// (as a shell reports it). Output keeps being read meanwhile, so the program never blocks on
    /// a full terminal.
    @discardableResult
    public func waitForExit(timeout: Double = 30) throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let code = exitCode() { drain(); return code }
            if Date() >= deadline {
                throw Failure(description: "process \(pid) still running after \(timeout)s; output: "
                              + String(decoding: unread, as: UTF8.self).debugDescription)
            }
            drain(waitingAtMost: 0.02)
        }
    }

    /// Sends `signal` to the process.
    public func kill(_ signal: Int32 = SIGTERM) {
        guard status == nil else { return }
        _ = Glibc.kill(pid, signal)
    }

    /// Changes the window size; the program gets SIGWINCH.
    public func resize(columns: UInt16, rows: UInt16) {
        var size = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(master, UInt(TIOCSWINSZ), &size)
    }

    /// The path of the built `warren` (`.build/debug/warren` under the package root).
    public static func warrenExecutable(file: StaticString = #filePath) throws -> String {
        let path = "\(file)"
        guard let tests = path.range(of: "/Tests/", options: .backwards) else {
            throw Failure(description: "cannot find the package root above \(path)")
        }
        let executable = String(path[..<tests.lowerBound]) + "/.build/debug/warren"
        guard access(executable, X_OK) == 0 else {
            throw Failure(description: "\(executable) not found: run `swift build` first")
        }
        return executable
    }

    // MARK: - Reading

    private func waitFor(_ what: String, timeout: Double, match: ([UInt8]) -> Int?) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let end = match(unread) {
                let consumed = String(decoding: unread[..<end], as: UTF8.self)
                unread.removeSubrange(..<end)
                return consumed
            }
            let seen = String(decoding: unread, as: UTF8.self).debugDescription
            if let code = exitCode() {
                drain()
                if match(unread) != nil { continue }
                throw Failure(description: "process exited (\(code)) without printing \(what); saw: \(seen)")
            }
            if Date() >= deadline {
                throw Failure(description: "did not see \(what) within \(timeout)s; saw: \(seen)")
            }
            drain(waitingAtMost: min(0.1, max(0.001, deadline.timeIntervalSinceNow)))
        }
    }

    /// Reads whatever is available, waiting up to `seconds` for the first byte.
    private func drain(waitingAtMost seconds: Double = 0) {
        var descriptor = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
        var wait = Int32(seconds * 1000)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while poll(&descriptor, 1, wait) > 0 {
            let count = read(master, &buffer, buffer.count)
            guard count > 0 else { break }
            unread.append(contentsOf: buffer[..<count])
            everything.append(contentsOf: buffer[..<count])
            wait = 0
        }
    }

    private func exitCode() -> Int32? {
        if status == nil {
            var raw: Int32 = 0
            if waitpid(pid, &raw, WNOHANG) == pid { status = raw }
        }
        guard let raw = status else { return nil }
        let signal = raw & 0x7F
        return signal == 0 ? (raw >> 8) & 0xFF : 128 + signal
    }
}

/// C library entry points the Glibc module hides behind _GNU_SOURCE, resolved with dlsym.
private enum PTY {
    /// POSIX_SPAWN_SETSID from glibc's <spawn.h> (0x80; `__USE_GNU` only, so not imported).
    static let spawnSetsid: Int32 = 0x80

    private static let handle = dlopen(nil, RTLD_NOW)
    private static func function<T>(_ name: String, as type: T.Type) -> T? {
        dlsym(handle, name).map { unsafeBitCast($0, to: type) }
    }
    static let posix_openpt = function("posix_openpt", as: (@convention(c) (Int32) -> Int32).self)!
    static let grantpt = function("grantpt", as: (@convention(c) (Int32) -> Int32).self)!
    static let unlockpt = function("unlockpt", as: (@convention(c) (Int32) -> Int32).self)!
    static let ptsname_r = function("ptsname_r",
        as: (@convention(c) (Int32, UnsafeMutablePointer<CChar>?, Int) -> Int32).self)!
    static let addchdir_np = function("posix_spawn_file_actions_addchdir_np",
        as: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?,
                             UnsafePointer<CChar>?) -> Int32).self)
    static let addclosefrom_np = function("posix_spawn_file_actions_addclosefrom_np",
        as: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32).self)
}
