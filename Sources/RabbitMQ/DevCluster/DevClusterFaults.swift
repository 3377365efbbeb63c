import Cluster
import Foundation

/// Real faults on a devcluster, for `fault.*` in Lua and for drills; the names are the
/// simulator's where the meaning is the same.
///
/// - `partition(a, b)`: the switch drops every IPv4 packet between the two sides' hosts, both
///   directions (an nftables bridge table in the switch namespace, so the hosts see silence, as on
///   a real network). It returns once each side has noticed (after `net_ticktime`, 10 s on a
///   devcluster): a running node there no longer lists the other side as running, or has paused
///   (`pause_minority`); at most 6 ticktimes + 30 s. The simulator's partition takes effect at once; waiting for the broker to
///   see it makes the two end the same way.
/// - `heal()`: removes every cut and every delay. The broker recovers by itself
///   (`pause_minority`: the paused side restarts its app); callers wait with a gate.
/// - `kill(node)`: SIGKILL to the node's VM; returns once the VM is gone.
/// - `alarm(node, "disk"|"memory", raised)`: `rabbitmqctl set_disk_free_limit 1000GB` (back to
///   50MB, the 3.10 default) or `set_vm_memory_high_watermark 0.0001` (back to 0.4).
/// - `fail_next_boot(node)`: the node's next start command fails (and clears the fault).
/// - `lose_disk(node)`: the VM is killed and its data directory emptied.
/// - `delay(node, seconds)`: `tc qdisc ... netem delay` on the host's eth0; where the kernel has
///   no netem, an NFQUEUE rule and warren's own packet delayer (``PacketDelay``) do the same.
/// Partitions and delays need hosts; on loopback they are refused, saying so.
public final class DevClusterFaults: FaultInjecting {
    let manifest: DevCluster.Manifest
    let backend: RabbitMQBackend
    /// The program that runs `devcluster delay-packets` (warren itself).
    public var helperExecutable: String = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "warren"

    public init(manifest: DevCluster.Manifest, backend: RabbitMQBackend) {
        self.manifest = manifest
        self.backend = backend
    }

    /// The devcluster an inventory belongs to (its manifest beside it), or nil.
    public static func forInventory(_ path: String, backend: RabbitMQBackend) -> DevClusterFaults? {
        guard let m = DevCluster.manifest(dir: (path as NSString).deletingLastPathComponent),
              URL(fileURLWithPath: m.inventoryPath).standardizedFileURL.path == URL(fileURLWithPath: path).standardizedFileURL.path else { return nil }
        return DevClusterFaults(manifest: m, backend: backend)
    }

    // MARK: State (what `status` shows and `heal` undoes)

    struct State: Codable {
        /// Host pairs the switch drops packets between.
        var cuts: [[String]] = []
        /// Host -> delay in milliseconds, and how it is made (netem or nfqueue).
        var delays: [String: Int] = [:]
        var delayHelpers: [String: Int32] = [:]
    }

    static func statePath(_ m: DevCluster.Manifest) -> String { m.dir + "/faults.json" }

    static func loadState(_ m: DevCluster.Manifest) -> State {
        guard let data = FileManager.default.contents(atPath: statePath(m)) else { return State() }
        return (try? JSONDecoder().decode(State.self, from: data)) ?? State()
    }

    func save(_ s: State) throws {
        try JSONEncoder().encode(s).write(to: URL(fileURLWithPath: Self.statePath(manifest)))
    }

    /// The faults in place, in words (nil without hosts).
    static func activeFaults(_ m: DevCluster.Manifest) -> [String]? {
        guard m.hosts != nil else { return nil }
        let s = loadState(m)
        var out = s.cuts.map { "packets dropped between \($0.joined(separator: " and "))" }
        out += s.delays.keys.sorted().map { "\($0)'s packets delayed \(s.delays[$0]!) ms" }
        return out
    }

    // MARK: Injecting

    func node(_ name: String) throws -> DevCluster.Node {
        let full = try backend.resolve(name)
        guard let n = manifest.nodes.first(where: { $0.name == full }) else { throw ClusterError.unknownNode(name, known: backend.nodeNames) }
        return n
    }

    func needHosts(_ what: String) throws -> DevCluster.HostsLayout {
        guard let h = manifest.hosts else {
            throw Fault.Refusal("fault.\(what) needs a devcluster with hosts (`warren devcluster up --hosts N`): on loopback every node shares one network stack, so there is no network between them to \(what == "delay" ? "slow down" : "cut")")
        }
        return h
    }

    public func inject(_ fault: Fault) throws {
        switch fault {
        case .partition(let a, let b): try partition(try a.map(node), try b.map(node))
        case .heal: try heal()
        case .kill(let n): try killVM(try node(n))
        case .failNextBoot(let n):
            let n = try node(n)
            guard FileManager.default.createFile(atPath: n.failMarker, contents: Data()) else {
                throw ClusterError(.software, "cannot write \(n.failMarker)", node: n.name)
            }
        case .loseDisk(let n):
            let n = try node(n)
            try killVM(n)
            try? FileManager.default.removeItem(atPath: n.mnesiaBase)
            try FileManager.default.createDirectory(atPath: n.mnesiaBase, withIntermediateDirectories: true)
        case .alarm(let n, let kind, let raised):
            let n = try node(n)
            let args = kind == "disk" ? ["set_disk_free_limit", raised ? "1000GB" : "50MB"]
                : ["set_vm_memory_high_watermark", raised ? "0.0001" : "0.4"]
            try backend.cliChecked("rabbitmqctl", node: n.name, args)
        case .delay(let n, let seconds): try delay(try node(n), milliseconds: Int((seconds * 1000).rounded()))
        case .slowBoot, .changeCookie, .restoreCookie, .failNextUpgrade:
            throw Fault.Refusal("fault.\(fault.name) is a simulator fault: a real devcluster cannot inject it (it can: \(["partition", "heal", "kill", "alarm", "fail_next_boot", "lose_disk", "delay"].joined(separator: ", ")))")
        }
    }

    func run(_ tool: String, in namespace: String, _ args: [String], timeout: Double = 30, check: Bool = true) throws -> ProcessResult {
        guard let exe = SystemTool.path(tool) else { throw ClusterError(.unavailable, "\(tool) is not installed") }
        let r = SystemTool.run("ip", ["netns", "exec", namespace, exe] + args, timeout: timeout)
        if check && r.exitCode != 0 {
            throw ClusterError(.software, "`\(tool) \(args.joined(separator: " "))` in namespace \(namespace) failed (exit \(r.exitCode)): \(r.combined)")
        }
        return r
    }

    // MARK: Partition and heal

    func partition(_ a: [DevCluster.Node], _ b: [DevCluster.Node]) throws {
        let h = try needHosts("partition")
        guard !a.isEmpty, !b.isEmpty, Set(a.map(\.name)).isDisjoint(with: b.map(\.name)) else {
            throw ClusterError(.usage, "partition: both sides must be non-empty and disjoint")
        }
        let sw = h.switchNamespace
        if try run("nft", in: sw, ["list", "table", "bridge", "warren_faults"], check: false).exitCode != 0 {
            let rules = """
                table bridge warren_faults {
                  set cut { type ipv4_addr . ipv4_addr; }
                  chain forward {
                    type filter hook forward priority 0; policy accept;
                    ether type ip ip saddr . ip daddr @cut drop
                  }
                }

                """
            let file = manifest.dir + "/faults.nft"
            try rules.write(toFile: file, atomically: true, encoding: .utf8)
            try run("nft", in: sw, ["-f", file])
        }
        var s = Self.loadState(manifest)
        var elements: [String] = []
        for x in a {
            for y in b {
                elements += ["\(x.address!) . \(y.address!)", "\(y.address!) . \(x.address!)"]
                s.cuts.append([x.host!, y.host!])
            }
        }
        try run("nft", in: sw, ["add", "element", "bridge", "warren_faults", "cut", "{ " + elements.joined(separator: ", ") + " }"])
        try save(s)
        try awaitPartitionSeen(a, b, ticktime: h.netTicktime)
    }

    /// Until each side has seen the other go: a node of the side whose VM runs answers
    /// `cluster_status` without any node of the other side running, or does not answer it (paused).
    func awaitPartitionSeen(_ a: [DevCluster.Node], _ b: [DevCluster.Node], ticktime: Int) throws {
        let deadline = monotonicSeconds() + Double(6 * ticktime + 30)
        var pending = [(a, b), (b, a)]
        while !pending.isEmpty {
            pending = pending.filter { side, other in
                let up = side.filter { backend.epmdRegistered($0.name) != false }
                guard let probe = up.first else { return false }
                let r = backend.cli("rabbitmqctl", node: probe.name, ["cluster_status"], json: true, timeout: Double(ticktime + 10))
                guard r.exitCode == 0, let st = try? backend.decode(BrokerAnswer.ClusterStatus.self, r) else { return false }
                let running = Set(RabbitMQBackend.RawStatus(st).running)
                return !other.contains { running.contains($0.name) }
            }
            if pending.isEmpty { return }
            // The packets are dropped whatever the nodes say: past the time the broker needs (a
            // node of the majority side of a pause_minority cluster was seen to take over 50 s
            // to stop listing the paused side), the callers' gates see the rest.
            if monotonicSeconds() > deadline { return }
            try backend.pause(1, waitingFor: "the nodes to notice the partition")
        }
    }

    func heal() throws {
        guard let h = manifest.hosts else { return }
        _ = try run("nft", in: h.switchNamespace, ["delete", "table", "bridge", "warren_faults"], check: false)
        var s = Self.loadState(manifest)
        for host in Set(s.delays.keys).union(s.delayHelpers.keys) {
            if let n = manifest.nodes.first(where: { $0.host == host }) { removeDelay(n, &s) }
        }
        s.cuts = []
        try save(s)
    }

    // MARK: Node faults

    static func alive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 && !NetworkNamespaces.isZombie(pid) }

    func killVM(_ n: DevCluster.Node) throws {
        guard let pid = DevCluster.readPid(n), Self.alive(pid) else { return }
        Foundation.kill(pid, SIGKILL)
        let deadline = monotonicSeconds() + 10
        while Self.alive(pid) || backend.epmdRegistered(n.name) == true {
            if monotonicSeconds() > deadline { throw ClusterError(.timeout, "\(n.name)'s VM (pid \(pid)) was killed but is still listed after 10 s", node: n.name) }
            usleep(50_000)
        }
    }

    // MARK: Slow network

    func delay(_ n: DevCluster.Node, milliseconds ms: Int) throws {
        _ = try needHosts("delay")
        let ns = n.namespace!
        var s = Self.loadState(manifest)
        removeDelay(n, &s)
        let netem = try run("tc", in: ns, ["qdisc", "replace", "dev", "eth0", "root", "netem", "delay", "\(ms)ms"], check: false)
        if netem.exitCode != 0 {
            // No netem in this kernel: queue the host's outgoing packets to our delayer.
            try run("iptables", in: ns, ["-t", "mangle", "-A", "POSTROUTING", "-o", "eth0", "-j", "NFQUEUE", "--queue-num", "0", "--queue-bypass"])
            let pidFile = n.dir + "/delay.pid", log = n.dir + "/delay.log"
            try? FileManager.default.removeItem(atPath: pidFile)
            let q = ServiceScript.quote
            let command = "exec \(q(SystemTool.path("ip") ?? "ip")) netns exec \(q(ns)) env \(DevCluster.markerVariable)=\(q(manifest.dir)) "
                + "\(q(helperExecutable)) devcluster delay-packets --ms \(ms) --pid-file \(q(pidFile)) >\(q(log)) 2>&1 </dev/null &"
            _ = ProcessRunner.run("/bin/sh", ["-c", command], environment: ["PATH": SystemTool.directories.joined(separator: ":")], timeout: 10)
            let deadline = monotonicSeconds() + 5
            var pid: Int32?
            while monotonicSeconds() < deadline {
                pid = (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
                if let p = pid, Self.alive(p) { break }
                usleep(50_000)
            }
            guard let p = pid, Self.alive(p) else {
                removeDelay(n, &s)
                let why = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                throw ClusterError(.software, "the packet delayer for host \(n.host!) did not start: \(why.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            s.delayHelpers[n.host!] = p
        }
        s.delays[n.host!] = ms
        try save(s)
    }

    func removeDelay(_ n: DevCluster.Node, _ s: inout State) {
        let ns = n.namespace!
        _ = try? run("tc", in: ns, ["qdisc", "del", "dev", "eth0", "root"], check: false)
        for _ in 0..<10 {
            let r = try? run("iptables", in: ns, ["-t", "mangle", "-D", "POSTROUTING", "-o", "eth0", "-j", "NFQUEUE", "--queue-num", "0", "--queue-bypass"], check: false)
            if r?.exitCode != 0 { break }
        }
        if let p = s.delayHelpers[n.host!], Self.alive(p) { Foundation.kill(p, SIGKILL) }
        s.delayHelpers[n.host!] = nil
        s.delays[n.host!] = nil
    }
}
