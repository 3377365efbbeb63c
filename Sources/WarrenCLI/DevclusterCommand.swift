import ArgumentParser
import Cluster
import Foundation
import RabbitMQ
import Runbook
import Sessions

/// `warren devcluster up|down|status|exec`: real RabbitMQ nodes on loopback, or one per host in
/// network namespaces (`--hosts`).
struct DevclusterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devcluster",
        abstract: "Real RabbitMQ nodes on loopback (--nodes) or one per host in network namespaces (--hosts, root).",
        discussion: """
        Default directory: $WARREN_STATE/devcluster, else /tmp/warren-devcluster-<uid>. \
        On loopback, node K is rabbitK@localhost on ports base+K (AMQP), base+10000+K (management), \
        base+20000+K (distribution), base 5700 by default. With --hosts, host nK is a network namespace \
        at 198.18.213.(10+K) running sshd and rabbit@nK on the standard ports; warren and the CLI tools \
        run in a bastion namespace: `warren devcluster exec -- warren shell --inventory DIR/inventory.yaml`.
        """,
        subcommands: [Up.self, Down.self, Status.self, Exec.self, Form.self, DelayPackets.self]
    )

    struct DirOption: ParsableArguments {
        @Option(name: .long, help: "The devcluster's directory (default: $WARREN_STATE/devcluster, else /tmp/warren-devcluster-<uid>).")
        var dir: String?
        var path: String { absolute(dir ?? DevCluster.defaultDirectory()) }
    }

    /// This program, to run again inside the bastion.
    static var selfExecutable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// The environment of a command run in the devcluster: this one, with the inventory's and the
    /// bastion's, and warren's state where it is now (HOME changes to the bastion's).
    static func environment(for m: DevCluster.Manifest) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["WARREN_STATE"] = StatePaths().root
        if m.hosts != nil {
            env = DevCluster.bastionEnvironment(m, base: env)
        } else {
            env["HOME"] = m.dir
        }
        return env
    }

    struct Up: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start N clustered nodes (loopback) or N hosts (network namespaces) and write DIR/inventory.yaml.")
        @Option(name: .long, help: "Cluster members on loopback (1-9).") var nodes: Int?
        @Option(name: .long, help: "Hosts, one node each, in network namespaces with ssh (1-9; needs root).") var hosts: Int?
        @Option(name: .long, help: "Spare nodes written to the inventory (spare: true), not started or clustered.") var spares: Int = 0
        @Option(name: .long, help: "Base port on loopback (node K: AMQP base+K, management base+10000+K, distribution base+20000+K).")
        var basePort: Int = DevCluster.defaultBasePort
        @Option(name: .long, help: "Node name prefix on loopback: nodes are PREFIX1@localhost, PREFIX2@localhost...") var prefix = "rabbit"
        @Option(name: .long, help: "cluster_partition_handling with --hosts: ignore, pause_minority or autoheal.")
        var partitionHandling = "pause_minority"
        @Flag(name: .long, help: "Print every command run, with its exit code and duration.") var verbose = false
        @OptionGroup var dir: DirOption

        func validate() throws {
            if nodes != nil && hosts != nil { throw ValidationError("choose --nodes N (loopback) or --hosts N (network namespaces), not both") }
        }

        /// Forms the cluster with warren's own form-cluster runbook (recorded as a session).
        static func formWithRunbook(_ backend: RabbitMQBackend, members: [String], dir: String) throws {
            let runner = Targets.runner(terminal: ProcessTerminal())
            let source = try runner.library.find("form-cluster")
            let target = InventoryTarget(spec: .inventory((dir as NSString).appendingPathComponent("inventory.yaml")), backend: backend)
            var options = RunOptions()
            options.assumeYes = true
            options.params = ["nodes": members.joined(separator: ",")]
            let outcome = try runner.run(source, on: target, options: options)
            guard outcome.exitCode == 0 else {
                throw DevCluster.Failure("the form-cluster runbook did not complete (exit \(outcome.exitCode)); see `warren sessions show \(outcome.session)`")
            }
        }

        /// Makes a hosts devcluster; its cluster is formed by this program run again in the bastion.
        static func upHosts(hosts: Int, spares: Int, dir: String, partitionHandling: String,
                            log: @escaping (String) -> Void) throws -> DevCluster.Manifest {
            try DevCluster.upHosts(hosts: hosts, spares: spares, dir: dir, partitionHandling: partitionHandling, log: log) { m in
                let (exe, args) = try DevCluster.inBastion(m, [DevclusterCommand.selfExecutable, "devcluster", "form", "--dir", m.dir])
                let r = runAndShow(exe, args, environment: DevclusterCommand.environment(for: m), timeout: 900)
                if r != 0 { throw DevCluster.Failure("forming the cluster in the bastion failed (exit \(r))") }
            }
        }

        func run() throws {
            let start = Date()
            let path = dir.path
            if let hosts {
                let m = try Up.upHosts(hosts: hosts, spares: spares, dir: path, partitionHandling: partitionHandling,
                                       log: { print($0); fflush(stdout) })
                print(String(format: "up in %.1f s: %@", Date().timeIntervalSince(start), m.inventoryPath))
                print("run warren there: warren devcluster exec --dir \(path) -- warren shell --inventory \(m.inventoryPath)")
                return
            }
            let verbose = self.verbose
            let m = try DevCluster.up(nodes: nodes ?? 3, spares: spares, dir: path, basePort: basePort, prefix: prefix, log: { print($0) },
                                      onCommand: { r in
                if verbose { print(String(format: "  [%d %.2fs] %@", r.exitCode, r.duration, r.argv.joined(separator: " "))) }
            }, form: { backend, members in try Up.formWithRunbook(backend, members: members, dir: path) })
            print(String(format: "up in %.1f s: %@", Date().timeIntervalSince(start), m.inventoryPath))
        }
    }

    struct Down: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop every node and remove everything the devcluster made (idempotent).")
        @OptionGroup var dir: DirOption
        func run() throws {
            let start = Date()
            var nothing = false
            try DevCluster.down(dir: dir.path) { line in
                if line.hasSuffix("nothing to remove") { nothing = true }
                print(line)
            }
            if !nothing { print(String(format: "removed %@ (%.1f s)", dir.path, Date().timeIntervalSince(start))) }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the hosts and nodes and their state.")
        @OptionGroup var dir: DirOption
        func run() throws {
            for line in try DevCluster.status(dir: dir.path) { print(line) }
        }
    }

    struct Exec: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a command where the operator's commands run (the bastion with --hosts), with the inventory's environment.",
            discussion: "e.g. `warren devcluster exec -- warren run rolling-restart --inventory DIR/inventory.yaml --yes`, or `-- rabbitmqctl -n rabbit@n1 cluster_status`.")
        @OptionGroup var dir: DirOption
        @Argument(parsing: .captureForPassthrough, help: "The command and its arguments (after --).") var command: [String] = []

        func run() throws {
            var argv = command
            if argv.first == "--" { argv.removeFirst() }
            guard !argv.isEmpty else { throw ValidationError("give the command to run after --, e.g. `warren devcluster exec -- rabbitmqctl -n rabbit@n1 cluster_status`") }
            guard let m = DevCluster.manifest(dir: dir.path) else {
                throw DevCluster.Failure("no devcluster in \(dir.path) (no devcluster.json); start one with `warren devcluster up`")
            }
            var exe = "/usr/bin/env", args = argv
            if m.hosts != nil {
                guard geteuid() == 0 else { throw DevCluster.Failure("entering the bastion's network namespace needs root; nothing was run") }
                (exe, args) = try DevCluster.inBastion(m, argv)
            }
            let env = DevclusterCommand.environment(for: m)
            let cArgs = ([exe] + args).map { strdup($0) } + [nil]
            let cEnv = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
            fflush(stdout)
            execve(exe, cArgs, cEnv)
            throw DevCluster.Failure("cannot run \(exe): \(String(cString: strerror(errno)))")
        }
    }

    /// Runs in the bastion during `up --hosts`: forms the cluster with the form-cluster runbook.
    struct Form: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Form the devcluster's cluster (run by `up --hosts` in the bastion).",
                                                        shouldDisplay: false)
        @OptionGroup var dir: DirOption
        func run() throws {
            guard let m = DevCluster.manifest(dir: dir.path) else { throw DevCluster.Failure("no devcluster in \(dir.path)") }
            let backend = RabbitMQBackend(inventory: try Inventory.load(path: m.inventoryPath))
            backend.verifyClusterName = false
            if let refusal = backend.credentialsRefusal() { throw DevCluster.Failure(refusal) }
            try Up.formWithRunbook(backend, members: m.nodes.filter { !$0.spare }.map(\.name), dir: m.dir)
        }
    }

    /// Runs inside a host's namespace for `fault.delay` where the kernel has no netem.
    struct DelayPackets: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delay-packets",
                                                        abstract: "Delay the packets queued to NFQUEUE 0 (fault.delay without netem).",
                                                        shouldDisplay: false)
        @Option(help: "The delay in milliseconds.") var ms: Int
        @Option(help: "Where to write this process's pid.") var pidFile: String?
        func run() throws {
            if let pidFile { try "\(getpid())\n".write(toFile: pidFile, atomically: true, encoding: .utf8) }
            try PacketDelay.run(queue: 0, delay: Double(ms) / 1000)
        }
    }
}

/// Runs a command with its output shown as it comes (it inherits standard output and error).
func runAndShow(_ exe: String, _ args: [String], environment: [String: String], timeout: Double) -> Int32 {
    var pid: pid_t = 0
    let cArgs = ([exe] + args).map { strdup($0) } + [nil]
    let cEnv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { cArgs.forEach { free($0) }; cEnv.forEach { free($0) } }
    fflush(stdout)
    guard posix_spawn(&pid, exe, nil, nil, cArgs, cEnv) == 0 else { return 127 }
    let deadline = Date().addingTimeInterval(timeout)
    var status: Int32 = 0
    while waitpid(pid, &status, WNOHANG) == 0 {
        if Date() > deadline { kill(pid, SIGKILL); _ = waitpid(pid, &status, 0); return -1 }
        usleep(50_000)
    }
    return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
}
