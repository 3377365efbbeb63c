import Cluster
import Foundation

/// What a finished process left behind.
struct ProcessResult {
    var exitCode: Int32
    var stdout: String
    var stderr: String
    var duration: Double
    var timedOut: Bool
    /// Stopped before it finished because an interrupt (Ctrl-C) was requested.
    var interrupted = false
    /// What a command that did not need to run "returns".
    static let skipped = ProcessResult(exitCode: 0, stdout: "", stderr: "", duration: 0, timedOut: false)

    /// Standard output then standard error, trimmed.
    var combined: String {
        [stdout, stderr].map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty }.joined(separator: "\n")
    }
}

/// Runs processes with a deadline, through posix_spawn and waitpid.
///
/// Not Foundation's `Process`: on Linux it learns of a child's exit through a descriptor the
/// child inherits, so a start command that daemonizes (`rabbitmq-server -detached`) never
/// "ends". Output goes to temporary files, not pipes, for the same reason; every other
/// descriptor is closed in the child.
enum ProcessRunner {
    /// - Parameter interrupted: asked while the process runs; when it answers true the process
    ///   group is ended as on a timeout, and the result says `interrupted` (exit code 130).
    /// - Parameter stdin: a file read as standard input (a password for `add_user`), else /dev/null.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String],
                    timeout: Double, stdin: String? = nil, interrupted: () -> Bool = { false }) -> ProcessResult {
        let start = monotonicSeconds()
        let tmp = NSTemporaryDirectory()
        let base = (tmp as NSString).appendingPathComponent("warren-\(getpid())-\(UUID().uuidString)")
        let outPath = base + ".out", errPath = base + ".err"
        defer { unlink(outPath); unlink(errPath) }
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            return ProcessResult(exitCode: 127, stdout: "", stderr: "\(executable): not found or not executable",
                                 duration: 0, timedOut: false)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin ?? "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        closeFrom(&actions, 3)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        // Own process group, so that a timeout can end the command and its children together.
        posix_spawnattr_setpgroup(&attr, 0)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attr, &mask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGTERM)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attr, argv, envp)
        if rc != 0 {
            return ProcessResult(exitCode: 127, stdout: "", stderr: "cannot run \(executable): \(String(cString: strerror(rc)))",
                                 duration: monotonicSeconds() - start, timedOut: false)
        }
        var status: Int32 = 0
        var timedOut = false, stopped = false
        let deadline = start + timeout
        var pause: UInt32 = 1_000
        while true {
            let w = waitpid(pid, &status, WNOHANG)
            if w == pid || (w < 0 && errno != EINTR) { break }
            stopped = interrupted()
            if stopped || monotonicSeconds() >= deadline {
                timedOut = !stopped
                kill(-pid, SIGTERM)
                let grace = monotonicSeconds() + 2
                while waitpid(pid, &status, WNOHANG) == 0 {
                    if monotonicSeconds() >= grace { kill(-pid, SIGKILL); _ = waitpid(pid, &status, 0); break }
                    usleep(20_000)
                }
                break
            }
            usleep(pause)
            pause = min(pause * 2, 20_000)
        }
        let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        let code: Int32
        if stopped { code = 130 } else if timedOut { code = -1 } else if status & 0x7f == 0 { code = (status >> 8) & 0xff } else { code = 128 + (status & 0x7f) }
        return ProcessResult(exitCode: code, stdout: out, stderr: err, duration: monotonicSeconds() - start, timedOut: timedOut,
                             interrupted: stopped)
    }
}

/// `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34+; Glibc does not import it), else
/// close each descriptor open now.
private func closeFrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ low: Int32) {
    typealias Fn = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    if let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") {
        _ = unsafeBitCast(sym, to: Fn.self)(actions, low)
        return
    }
    for e in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
        if let fd = Int32(e), fd >= low, fcntl(fd, F_GETFD) >= 0 { posix_spawn_file_actions_addclose(actions, fd) }
    }
}

/// Seconds from an arbitrary origin, never going backwards.
func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
