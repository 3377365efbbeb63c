import Cluster
import Foundation

/// Real RabbitMQ nodes for drills and tests (`warren devcluster up|down|status|exec`): on loopback
/// (`--nodes N`, this file), or one node per host in network namespaces (`--hosts N`, Hosts.swift).
///
/// Layout of the directory D on loopback:
/// ```
/// D/devcluster.json      what was started (nodes, ports); `down` and `status` read it
/// D/inventory.yaml       the inventory for `--inventory` (start/stop: D/nodeK/rabbitmq-service start|stop)
/// D/.erlang.cookie       generated, mode 600; D is the HOME of the nodes and the CLI tools
/// D/nodeK/               env.sh, rabbitmq-service, rabbitmq.conf, enabled_plugins, mnesia/, log/, pid
/// ```
/// Node K (1-based) is `rabbitK@localhost` (`--prefix` changes `rabbit`, so that devclusters in
/// different directories can run side by side) with AMQP port base+K, management 10000+base+K,
/// distribution 20000+base+K (base 5700 by default: 5701, 15701, 25701 for node 1), all bound to
/// 127.0.0.1, so a package-installed default node (5672/15672/25672) never collides.
/// Spares (`--spares K`) are written to the inventory with `spare: true` but neither started nor
/// clustered: add-node and replace-node start and join them.
public enum DevCluster {
    public static let defaultBasePort = 5700
    public static let clusterName = "warren-dev"

    public struct Node: Codable, Equatable, Sendable {
        public var index: Int
        public var name: String
        public var amqpPort: Int
        public var managementPort: Int
        public var distPort: Int
        public var spare: Bool
        public var dir: String
        /// With hosts: the node's host name, address and network namespace.
        public var host: String?
        public var address: String?
        public var namespace: String?

        /// The file whose presence makes the node's next start fail (`fault.fail_next_boot`).
        var failMarker: String { (dir as NSString).appendingPathComponent("fail-next-start") }
        var pidFile: String { (dir as NSString).appendingPathComponent(host == nil ? "pid" : "rabbit.pid") }
        var logFile: String { (dir as NSString).appendingPathComponent("log/\(name).log") }
        var mnesiaBase: String { (dir as NSString).appendingPathComponent("mnesia") }
    }

    public struct Manifest: Codable, Equatable, Sendable {
        public var cluster: String
        public var dir: String
        public var cliPath: String
        public var nodes: [Node]
        /// nil: the nodes run on loopback.
        public var hosts: HostsLayout?
        public var inventoryPath: String { (dir as NSString).appendingPathComponent("inventory.yaml") }
    }

    /// A failure of `devcluster` with what to do about it.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(_ d: String) { description = d }
    }

    /// `$WARREN_STATE/devcluster` when WARREN_STATE is set, else `/tmp/warren-devcluster-<uid>`.
    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let s = environment["WARREN_STATE"], !s.isEmpty { return (s as NSString).appendingPathComponent("devcluster") }
        return "/tmp/warren-devcluster-\(getuid())"
    }

    public static let defaultCLIPath = "/usr/lib/rabbitmq/bin"

    /// Throws when the RabbitMQ server and CLI tools are not installed.
    public static func checkInstalled(cliPath: String = defaultCLIPath) throws {
        for tool in ["rabbitmq-server", "rabbitmqctl", "rabbitmq-diagnostics"] {
            if !FileManager.default.isExecutableFile(atPath: (cliPath as NSString).appendingPathComponent(tool)) {
                throw Failure("RabbitMQ is not installed (\(cliPath)/\(tool) not found): run `apt-get install rabbitmq-server`")
            }
        }
    }

    static func manifestPath(_ dir: String) -> String { (dir as NSString).appendingPathComponent("devcluster.json") }

    /// The manifest of the devcluster in `dir`, or nil.
    public static func manifest(dir: String) -> Manifest? {
        guard let data = FileManager.default.contents(atPath: manifestPath(dir)) else { return nil }
        return try? JSONDecoder().decode(Manifest.self, from: data)
    }

    /// Starts `nodes` nodes, clusters them, writes `D/inventory.yaml`; returns the manifest.
    @discardableResult
    public static func up(nodes: Int, spares: Int = 0, dir: String, basePort: Int = defaultBasePort, prefix: String = "rabbit",
                          cliPath: String = defaultCLIPath, log: (String) -> Void = { _ in },
                          onCommand: ((CommandRecord) -> Void)? = nil,
                          form: ((RabbitMQBackend, [String]) throws -> Void)? = nil) throws -> Manifest {
        guard nodes >= 1, nodes <= 9, spares >= 0, nodes + spares <= 9 else {
            throw Failure("--nodes must be 1-9 and --nodes + --spares at most 9 (got \(nodes) + \(spares))")
        }
        guard basePort >= 1024, basePort + 20000 + nodes + spares < 65536 else {
            throw Failure("--base-port must be between 1024 and \(65535 - 20000 - nodes - spares)")
        }
        guard !prefix.isEmpty, prefix.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) else {
            throw Failure("--prefix must be letters, digits, '-' or '_' (got '\(prefix)')")
        }
        try checkInstalled(cliPath: cliPath)
        let dir = URL(fileURLWithPath: dir).standardizedFileURL.path
        let fm = FileManager.default
        if let existing = manifest(dir: dir) {
            if existing.hosts != nil {
                throw Failure("a devcluster with hosts is in \(dir); remove it first with `warren devcluster down --dir \(dir)`")
            }
            let alive = existing.nodes.contains { pidAlive(readPid($0)) }
            if alive {
                throw Failure("a devcluster is already running in \(dir); stop it with `warren devcluster down --dir \(dir)`")
            }
            try fm.removeItem(atPath: dir)
        } else if fm.fileExists(atPath: dir), let contents = try? fm.contentsOfDirectory(atPath: dir), !contents.isEmpty {
            throw Failure("\(dir) exists and is not a devcluster directory; choose another with --dir or remove it")
        }
        var list: [Node] = []
        for k in 1...(nodes + spares) {
            list.append(Node(index: k, name: "\(prefix)\(k)@localhost", amqpPort: basePort + k, managementPort: basePort + 10000 + k,
                             distPort: basePort + 20000 + k, spare: k > nodes,
                             dir: (dir as NSString).appendingPathComponent("node\(k)")))
        }
        for n in list {
            for (what, port) in [("AMQP", n.amqpPort), ("management", n.managementPort), ("distribution", n.distPort)] where !loopbackPortFree(port) {
                throw Failure("port \(port) (\(what) port of \(n.name)) is already in use; stop what listens there or choose other ports with --base-port")
            }
        }
        // Node names must be free in epmd too (another devcluster in another directory).
        let names = runEpmdNames()
        for n in list where names.contains(String(n.name.split(separator: "@")[0])) {
            throw Failure("a node named \(n.name) is already registered with epmd (another devcluster?); stop it first (`warren devcluster down --dir ...`)")
        }

        let manifest = Manifest(cluster: clusterName, dir: dir, cliPath: cliPath, nodes: list)
        try writeFiles(manifest)
        log("devcluster: \(nodes) node\(nodes == 1 ? "" : "s")\(spares > 0 ? " + \(spares) spare" : "") in \(dir)")

        let backend = RabbitMQBackend(inventory: try Inventory.load(path: manifest.inventoryPath))
        backend.verifyClusterName = false
        backend.onCommand = onCommand
        do {
            let members = list.filter { !$0.spare }.map(\.name)
            for n in members {
                log("starting \(n)")
                try backend.start(n)
            }
            if let form {
                for n in members { try backend.awaitRunning(n, timeout: 120) }
                try form(backend, members)
            } else {
                try formCluster(backend, members: members, log: log)
            }
        } catch {
            log("start failed; stopping what was started")
            try? down(dir: dir, removeDirectory: false)
            throw error
        }
        log("inventory: \(manifest.inventoryPath)")
        return manifest
    }

    /// Forms the cluster from running nodes: the first is the seed; every other node does
    /// stop_app, reset, join_cluster seed, start_app. Then names the cluster. `warren devcluster
    /// up` runs the form-cluster runbook instead; this is for callers without the engine.
    public static func formCluster(_ backend: RabbitMQBackend, members: [String], log: (String) -> Void = { _ in }) throws {
        guard let seed = members.first else { return }
        for n in members { try backend.awaitRunning(n, timeout: 120) }
        for n in members.dropFirst() {
            log("joining \(n) to \(seed)")
            try backend.stopApp(n)
            try backend.reset(n)
            try backend.join(n, seed: seed)
            try backend.startApp(n)
        }
        try backend.cliChecked("rabbitmqctl", node: seed, ["set_cluster_name", clusterName])
    }

    static func writeFiles(_ m: Manifest) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: m.dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let cookiePath = (m.dir as NSString).appendingPathComponent(".erlang.cookie")
        var cookie = ""
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<32 { cookie.append(letters.randomElement(using: &rng)!) }
        guard fm.createFile(atPath: cookiePath, contents: Data(cookie.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw Failure("cannot write \(cookiePath)")
        }
        var invNodes: [Inventory.Node] = []
        for n in m.nodes {
            for sub in ["mnesia", "log"] {
                try fm.createDirectory(atPath: (n.dir as NSString).appendingPathComponent(sub), withIntermediateDirectories: true)
            }
            func p(_ f: String) -> String { (n.dir as NSString).appendingPathComponent(f) }
            let env: [(String, String)] = [
                ("HOME", m.dir),
                ("RABBITMQ_NODENAME", n.name),
                ("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1"),
                ("RABBITMQ_NODE_PORT", String(n.amqpPort)),
                ("RABBITMQ_DIST_PORT", String(n.distPort)),
                ("RABBITMQ_MNESIA_BASE", p("mnesia")),
                ("RABBITMQ_LOG_BASE", p("log")),
                // A VM that dies writes its dump next to its log, not into the caller's directory.
                ("ERL_CRASH_DUMP", p("log/erl_crash.dump")),
                ("RABBITMQ_PID_FILE", p("pid")),
                ("RABBITMQ_ENABLED_PLUGINS_FILE", p("enabled_plugins")),
                ("RABBITMQ_CONFIG_FILE", p("rabbitmq.conf")),
                ("RABBITMQ_ADVANCED_CONFIG_FILE", p("advanced.config")),
                ("RABBITMQ_CONF_ENV_FILE", p("rabbitmq-env.conf")),
                // Bind distribution to loopback; no busy-waiting schedulers on a shared machine.
                ("RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS", "-kernel inet_dist_use_interface {127,0,0,1} +sbwt none +sbwtdcpu none +sbwtdio none"),
            ]
            let conf = """
            listeners.tcp.1 = 127.0.0.1:\(n.amqpPort)
            management.tcp.port = \(n.managementPort)
            management.tcp.ip = 127.0.0.1
            cluster_name = \(m.cluster)
            log.file.level = info
            log.console = false

            """
            try conf.write(toFile: p("rabbitmq.conf"), atomically: true, encoding: .utf8)
            try "[rabbitmq_management].\n".write(toFile: p("enabled_plugins"), atomically: true, encoding: .utf8)
            try "".write(toFile: p("rabbitmq-env.conf"), atomically: true, encoding: .utf8)
            let envSh = "# generated by warren devcluster\n" + env.map { "export \($0.0)='\($0.1)'" }.joined(separator: "\n") + "\n"
            try envSh.write(toFile: p("env.sh"), atomically: true, encoding: .utf8)
            let service = ServiceScript(node: n.name, environment: ". \(ServiceScript.quote(p("env.sh")))", cliPath: m.cliPath,
                                        pidFile: n.pidFile, logFile: n.logFile, amqpHost: "127.0.0.1", amqpPort: n.amqpPort,
                                        managementPort: n.managementPort, distPort: n.distPort, failMarker: n.failMarker,
                                        waitsForBoot: false)
            try service.text.write(toFile: p("rabbitmq-service"), atomically: true, encoding: .utf8)
            try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: p("rabbitmq-service"))
            invNodes.append(Inventory.Node(name: n.name, management: "http://127.0.0.1:\(n.managementPort)",
                                           start: ServiceScript.quote(p("rabbitmq-service")) + " start",
                                           stop: ServiceScript.quote(p("rabbitmq-service")) + " stop",
                                           env: Dictionary(uniqueKeysWithValues: env), log: n.logFile, spare: n.spare))
        }
        let inv = Inventory(cluster: m.cluster, nodes: invNodes, cliPath: m.cliPath, cliEnv: ["HOME": m.dir],
                            cookieFile: cookiePath, userEnv: "WARREN_RABBITMQ_USER", passwordEnv: "WARREN_RABBITMQ_PASSWORD",
                            allowGuest: true)
        let header = "# generated by `warren devcluster up`; management credentials: the variables below, else guest/guest (loopback)\n"
        try (header + inv.yaml()).write(toFile: m.inventoryPath, atomically: true, encoding: .utf8)
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try enc.encode(m).write(to: URL(fileURLWithPath: manifestPath(m.dir)))
    }

    static func readPid(_ n: Node) -> Int32? {
        guard let s = try? String(contentsOfFile: n.pidFile, encoding: .utf8) else { return nil }
        return Int32(s.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    static func pidAlive(_ pid: Int32?) -> Bool {
        guard let p = pid, p > 0 else { return false }
        return kill(p, 0) == 0
    }

    static func runEpmdNames() -> Set<String> {
        let candidates = ["/usr/bin/epmd", "/usr/lib/erlang/bin/epmd"]
        guard let epmd = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return [] }
        let r = ProcessRunner.run(epmd, ["-names"], environment: ProcessInfo.processInfo.environment, timeout: 5)
        var names: Set<String> = []
        for line in r.stdout.split(separator: "\n") where line.hasPrefix("name ") {
            if let n = line.split(separator: " ").dropFirst().first { names.insert(String(n)) }
        }
        return names
    }

    /// Stops every node of the devcluster in `dir` (stop script, then the pid, then SIGKILL) and
    /// removes the directory.
    /// With hosts: removes every namespace, link, process and file the devcluster made (see
    /// ``downHosts(dir:log:)``), also after a crash of `up`.
    public static func down(dir: String, removeDirectory: Bool = true, log: (String) -> Void = { _ in }) throws {
        let dir = URL(fileURLWithPath: dir).standardizedFileURL.path
        let m = manifest(dir: dir)
        if m?.hosts != nil || (m == nil && hostsLeftovers(dir: dir)) {
            let left = try downHosts(dir: dir, log: log)
            if !left.isEmpty { throw Failure("the devcluster in \(dir) was not entirely removed: \(left.joined(separator: "; "))") }
            return
        }
        guard let m else {
            // Already removed (a second `down`): nothing to do, which is what was asked.
            if !FileManager.default.fileExists(atPath: dir) { log("no devcluster in \(dir): nothing to remove"); return }
            throw Failure("no devcluster in \(dir) (no devcluster.json); nothing was stopped")
        }
        for n in m.nodes {
            let pid = readPid(n)
            let wasAlive = pidAlive(pid)
            if wasAlive {
                log("stopping \(n.name)")
                _ = ProcessRunner.run("/bin/bash", [(n.dir as NSString).appendingPathComponent("rabbitmq-service"), "stop"],
                                      environment: ProcessInfo.processInfo.environment, timeout: 30)
            }
            if let p = pid, pidAlive(p) {
                kill(p, SIGTERM)
                let deadline = monotonicSeconds() + 10
                while pidAlive(p) && monotonicSeconds() < deadline { usleep(100_000) }
                if pidAlive(p) { log("killing \(n.name) (pid \(p))"); kill(p, SIGKILL) }
            }
        }
        // A beam process whose pid file was never written: find it by its node name.
        for pid in leftoverPids(dir: dir) {
            log("killing leftover pid \(pid)")
            kill(pid, SIGKILL)
        }
        if removeDirectory { try FileManager.default.removeItem(atPath: dir) }
    }

    /// Processes whose command line mentions the directory (beam.smp, erl_child_setup, inet_gethost).
    static func leftoverPids(dir: String) -> [Int32] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        var pids: [Int32] = []
        for e in entries {
            guard let pid = Int32(e), pid != getpid(),
                  let data = FileManager.default.contents(atPath: "/proc/\(e)/cmdline") else { continue }
            let cmd = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            if cmd.contains("beam") && cmd.contains(dir + "/") { pids.append(pid) }
        }
        return pids
    }

    /// One line per node: name, role, state, ports (with hosts: per host, see ``statusHosts(_:)``).
    public static func status(dir: String) throws -> [String] {
        let dir = URL(fileURLWithPath: dir).standardizedFileURL.path
        guard let m = manifest(dir: dir) else { throw Failure("no devcluster in \(dir) (no devcluster.json)") }
        if m.hosts != nil { return statusHosts(m) }
        let backend = RabbitMQBackend(inventory: try Inventory.load(path: m.inventoryPath))
        var lines = ["devcluster \(m.cluster) in \(dir)", "inventory: \(m.inventoryPath)"]
        let st = try? backend.status()
        for n in m.nodes {
            let state = st?.nodes.first { $0.name == n.name }?.state.rawValue ?? ((try? backend.ping(n.name)) == true ? "vm up" : "stopped")
            let member = st?.members.contains(n.name) == true ? "member" : (n.spare ? "spare" : "not a member")
            lines.append("  \(n.name)  \(member)  \(state)  amqp \(n.amqpPort)  http \(n.managementPort)  dist \(n.distPort)  pid \(readPid(n).map(String.init) ?? "-")")
        }
        return lines
    }
}
