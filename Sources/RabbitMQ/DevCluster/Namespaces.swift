import Foundation

/// The system tools a devcluster with hosts runs, found on the usual paths.
enum SystemTool {
    static let directories = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]

    /// The full path of `name`, or nil when it is not installed.
    static func path(_ name: String) -> String? {
        directories.map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The tools `devcluster up --hosts` needs, with the Debian package of each.
    static let required: [(tool: String, package: String)] = [
        ("ip", "iproute2"), ("ss", "iproute2"), ("tc", "iproute2"), ("unshare", "util-linux"), ("sshd", "openssh-server"),
        ("ssh", "openssh-client"), ("ssh-keygen", "openssh-client"), ("nft", "nftables"), ("iptables", "iptables"),
        ("getent", "libc-bin"), ("hostname", "hostname"),
    ]

    /// Runs `tool args` with a plain environment; a missing tool exits 127 with a message.
    static func run(_ tool: String, _ args: [String], environment: [String: String]? = nil, timeout: Double = 30,
                    stdin: String? = nil) -> ProcessResult {
        guard let exe = path(tool) else {
            return ProcessResult(exitCode: 127, stdout: "", stderr: "\(tool) is not installed", duration: 0, timedOut: false)
        }
        let env = environment ?? ["PATH": directories.joined(separator: ":"), "LC_ALL": "C"]
        return ProcessRunner.run(exe, args, environment: env, timeout: timeout, stdin: stdin)
    }
}

/// Network namespaces by name (`/run/netns/NAME`, as `ip netns` keeps them), and the processes
/// inside them or marked as a devcluster's.
enum NetworkNamespaces {
    static let directory = "/run/netns"

    static func exists(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: directory + "/" + name)
    }

    /// The names of the namespaces that start with `prefix`.
    static func named(prefix: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasPrefix(prefix) }.sorted()
    }

    /// The (device, inode) of a namespace file: what `ip netns pids` compares `/proc/PID/ns/net` with.
    private static func identity(_ path: String) -> (UInt64, UInt64)? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return (UInt64(st.st_dev), UInt64(st.st_ino))
    }

    /// The processes whose network namespace is one of `names`.
    static func pids(in names: [String]) -> Set<Int32> {
        let wanted = names.compactMap { identity(directory + "/" + $0) }
        guard !wanted.isEmpty else { return [] }
        var out: Set<Int32> = []
        for pid in allPids() {
            guard let id = identity("/proc/\(pid)/ns/net") else { continue }
            if wanted.contains(where: { $0 == id }) { out.insert(pid) }
        }
        return out
    }

    /// The processes that carry `marker` (`NAME=VALUE`) in their environment, or whose command
    /// line names a path under `directory` (sshd rewrites its environment area with its title).
    static func pids(marked marker: String, directory: String) -> Set<Int32> {
        var out: Set<Int32> = []
        let needle = Array(marker.utf8), path = Array((directory + "/").utf8)
        for pid in allPids() {
            if let env = FileManager.default.contents(atPath: "/proc/\(pid)/environ"),
               env.split(separator: 0).contains(where: { Array($0) == needle }) {
                out.insert(pid)
                continue
            }
            if let cmd = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), contains(Array(cmd), path) {
                out.insert(pid)
            }
        }
        return out
    }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
            if Array(haystack[i..<(i + needle.count)]) == needle { return true }
        }
        return false
    }

    static func allPids() -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap(Int32.init)
    }

    /// This process and its ancestors: never killed by a teardown run from inside a devcluster.
    static func selfAndAncestors() -> Set<Int32> {
        var out: Set<Int32> = [getpid()]
        var pid = getpid()
        while pid > 1 {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { break }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, let parent = Int32(fields[1]) else { break }
            out.insert(parent)
            pid = parent
        }
        return out
    }

    /// Whether the process is a zombie (dead, waiting for its parent to reap it).
    static func isZombie(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return true }
        return stat[stat.index(after: close)...].split(separator: " ").first == "Z"
    }
}
