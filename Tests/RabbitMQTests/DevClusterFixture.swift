import Cluster
import Foundation
@testable import RabbitMQ
import Testing

/// A real devcluster for tests: started through the built `warren devcluster up` binary in a
/// fixed directory (so that a crashed earlier run is cleaned up first), stopped with
/// `warren devcluster down`. Reusable by other test targets that run runbooks on real RabbitMQ.
final class DevClusterFixture: @unchecked Sendable {
    /// The package root, from this file's path.
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()
    static var warrenBinary: String { packageRoot + "/.build/debug/warren" }
    static let cliPath = "/usr/lib/rabbitmq/bin"

    /// Whether RabbitMQ is installed here (integration suites are skipped otherwise).
    static var rabbitMQInstalled: Bool { FileManager.default.isExecutableFile(atPath: cliPath + "/rabbitmq-server") }

    let dir: String
    let nodes: Int
    let spares: Int
    let inventoryPath: String
    let inventory: Inventory
    let members: [String]
    let spareNames: [String]
    /// Every command the fixture's backend ran, for inspection.
    private(set) var commands: [CommandRecord] = []
    private(set) var backend: RabbitMQBackend!

    /// A number (0-15) of this checkout: two checkouts of the package on one machine (a second
    /// worktree) run their suites on devclusters of their own (directory, ports, node names).
    static let checkoutNumber: Int = {
        var h: UInt64 = 0xcbf29ce484222325
        for b in packageRoot.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        return Int(h % 16)
    }()
    static var defaultDirectory: String { "/tmp/warren-rabbitmq-tests-\(checkoutNumber)" }
    static var defaultBasePort: Int { 5800 + checkoutNumber * 10 }

    let basePort: Int

    /// Starts a devcluster in `dir` (removing a leftover one there first).
    init(nodes: Int = 3, spares: Int = 1, basePort: Int = DevClusterFixture.defaultBasePort,
         prefix: String = "wt\(DevClusterFixture.checkoutNumber)n", dir: String = DevClusterFixture.defaultDirectory) throws {
        self.dir = dir
        self.basePort = basePort
        self.nodes = nodes
        self.spares = spares
        if DevCluster.manifest(dir: dir) != nil {
            _ = Self.run(Self.warrenBinary, ["devcluster", "down", "--dir", dir], timeout: 120)
        }
        if FileManager.default.fileExists(atPath: dir) { try FileManager.default.removeItem(atPath: dir) }
        Self.killStrays(dir)
        let up = Self.run(Self.warrenBinary, ["devcluster", "up", "--nodes", String(nodes), "--spares", String(spares),
                                              "--base-port", String(basePort), "--prefix", prefix, "--dir", dir], timeout: 300)
        guard up.code == 0 else {
            _ = Self.run(Self.warrenBinary, ["devcluster", "down", "--dir", dir], timeout: 120)
            throw DevCluster.Failure("warren devcluster up failed (\(up.code)): \(up.output)")
        }
        inventoryPath = dir + "/inventory.yaml"
        inventory = try Inventory.load(path: inventoryPath)
        members = inventory.nodes.filter { !$0.spare }.map(\.name)
        spareNames = inventory.nodes.filter(\.spare).map(\.name)
        backend = makeBackend()
    }

    /// A backend on this devcluster's inventory (or a modified copy) that records its commands.
    func makeBackend(_ inventory: Inventory? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) -> RabbitMQBackend {
        let b = RabbitMQBackend(inventory: inventory ?? self.inventory, environment: environment)
        b.onCommand = { [weak self] r in self?.commands.append(r) }
        return b
    }

    /// Stops every node and removes the directory (through the binary, then directly).
    func stop() {
        let r = Self.run(Self.warrenBinary, ["devcluster", "down", "--dir", dir], timeout: 180)
        if r.code != 0, DevCluster.manifest(dir: dir) != nil { try? DevCluster.down(dir: dir) }
        Self.killStrays(dir)
    }

    /// Kills Erlang VMs left by an earlier, interrupted run of this suite (their `-home` is `dir`).
    static func killStrays(_ dir: String) {
        _ = run("/usr/bin/pkill", ["-KILL", "-f", "beam.smp.* -home \(dir) "])
    }

    // MARK: Independent checks (rabbitmqctl directly, not through the backend)

    static func run(_ exe: String, _ args: [String], env: [String: String]? = nil, timeout: Double = 60) -> (code: Int32, output: String) {
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in env ?? [:] { environment[k] = v }
        let r = ProcessRunner.run(exe, args, environment: environment, timeout: timeout)
        return (r.exitCode, r.stdout + r.stderr)
    }

    /// `rabbitmqctl -n node ARGS` with the devcluster's HOME (cookie).
    func ctl(_ node: String, _ args: [String], tool: String = "rabbitmqctl") -> (code: Int32, output: String) {
        Self.run(Self.cliPath + "/" + tool, ["-n", node] + args, env: ["HOME": dir])
    }

    func json(_ node: String, _ args: [String]) -> Any? {
        let r = ctl(node, args + ["--formatter", "json"])
        guard r.code == 0, let start = r.output.firstIndex(where: { $0 == "{" || $0 == "[" }) else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(r.output[start...].utf8))
    }

    struct QueueView: Equatable { var name: String; var type: String; var leader: String; var members: Set<String>; var online: Set<String> }

    func queuesDirect(via node: String) -> [QueueView]? {
        guard let rows = json(node, ["list_queues", "name", "type", "leader", "members", "online"]) as? [[String: Any]] else { return nil }
        return rows.map {
            QueueView(name: $0["name"] as? String ?? "", type: $0["type"] as? String ?? "",
                      leader: $0["leader"] as? String ?? "",
                      members: Set($0["members"] as? [String] ?? []), online: Set($0["online"] as? [String] ?? []))
        }
    }

    /// Polls until `check` returns nil (no problem) or the deadline passes; returns the last problem.
    func waitUntil(timeout: Double = 90, every: Double = 1, _ check: () -> String?) -> String? {
        let deadline = monotonicSeconds() + timeout
        var problem = check()
        while let _ = problem, monotonicSeconds() < deadline {
            Thread.sleep(forTimeInterval: every)
            problem = check()
        }
        return problem
    }

    /// Converged: `expected` are the members and all run (rabbitmqctl cluster_status on `via`), and every
    /// quorum queue has exactly `expected` (or `queueMembers`) as members, all online, with an elected leader.
    func convergenceProblem(members expected: Set<String>, queueMembers: Set<String>? = nil, via: String? = nil) -> String? {
        let node = via ?? expected.sorted().first!
        guard let st = json(node, ["cluster_status"]) as? [String: Any] else { return "cluster_status failed on \(node)" }
        let disk = Set(st["disk_nodes"] as? [String] ?? []), running = Set(st["running_nodes"] as? [String] ?? [])
        if disk != expected { return "members \(disk.sorted()) != \(expected.sorted())" }
        if running != expected { return "running \(running.sorted()) != \(expected.sorted())" }
        if let p = st["partitions"] as? [String: Any], !p.isEmpty { return "partitions \(p)" }
        guard let qs = queuesDirect(via: node) else { return "list_queues failed on \(node)" }
        let want = queueMembers ?? expected
        for q in qs where q.type == "quorum" {
            if q.members != want { return "\(q.name): members \(q.members.sorted()) != \(want.sorted())" }
            if q.online != want { return "\(q.name): online \(q.online.sorted()) != \(want.sorted())" }
            if q.leader.isEmpty || !q.members.contains(q.leader) { return "\(q.name): no elected leader (\(q.leader))" }
        }
        return nil
    }

    /// The node's directory in the devcluster.
    func nodeDirectory(_ node: String) -> String {
        DevCluster.manifest(dir: dir)!.nodes.first { $0.name == node }!.dir
    }

    /// Runs the node's service script (`start` returns once its VM runs, `stop` once it exited).
    @discardableResult
    func service(_ node: String, _ action: String, timeout: Double = 120) -> (code: Int32, output: String) {
        Self.run("/bin/bash", [(nodeDirectory(node) as NSString).appendingPathComponent("rabbitmq-service"), action], timeout: timeout)
    }

    /// Brings the cluster back to its starting shape after a failed test, with the CLI directly:
    /// every member running, the spares stopped and not members, quorum queues on every member.
    func restore() {
        guard convergenceProblem(members: Set(members)) != nil else { return }
        for n in members {
            if ctl(n, ["ping"], tool: "rabbitmq-diagnostics").code != 0 {
                service(n, "start")
                _ = waitUntil(timeout: 60) { ctl(n, ["ping"], tool: "rabbitmq-diagnostics").code == 0 ? nil : "down" }
            }
            if ctl(n, ["check_running"], tool: "rabbitmq-diagnostics").code != 0 { _ = ctl(n, ["start_app"]) }
            _ = ctl(n, ["await_startup", "--timeout", "120"])
            _ = ctl(n, ["revive"], tool: "rabbitmq-upgrade")
        }
        let disk = (json(members[0], ["cluster_status"]) as? [String: Any])?["disk_nodes"] as? [String] ?? []
        for s in spareNames {
            if disk.contains(s) {
                _ = ctl(s, ["stop_app"])
                _ = ctl(members[0], ["forget_cluster_node", s])
            }
            service(s, "stop")
        }
        for n in members { _ = ctl(n, ["grow", n, "all"], tool: "rabbitmq-queues") }
        _ = waitUntil(timeout: 60) { convergenceProblem(members: Set(members)) }
    }

    /// The quorum queues and the classic queue every integration test can rely on.
    static let quorumQueues = ["qq1", "qq2", "qq3"]
    static let classicQueue = "cq1"

    func declareQueues() throws {
        for (i, q) in Self.quorumQueues.enumerated() {
            try backend.declareQueue(QueueSpec(name: q, type: .quorum, node: members[i % members.count]))
        }
        try backend.declareQueue(QueueSpec(name: Self.classicQueue, type: .classic, node: members[0]))
    }
}

/// Runs a suite once around a started devcluster, and stops it afterwards whatever happened.
struct DevClusterTrait: SuiteTrait, TestScoping {
    var isRecursive: Bool { false }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        guard DevClusterFixture.rabbitMQInstalled else {
            try await function()
            return
        }
        let fixture = try DevClusterFixture()
        do {
            try fixture.declareQueues()
            try await DevClusterFixture.$current.withValue(fixture) { try await function() }
        } catch {
            fixture.stop()
            throw error
        }
        fixture.stop()
    }
}

extension DevClusterFixture {
    @TaskLocal static var current: DevClusterFixture?
}

extension Trait where Self == DevClusterTrait {
    /// The suite runs against one real devcluster (3 members + 1 spare).
    static var devCluster: DevClusterTrait { DevClusterTrait() }
}

/// A TCP listener on loopback that accepts connections (through the kernel's backlog) and never
/// answers: a management API that stalls, as 3.10.8 queue listings do while a member is down.
final class SilentServer {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        guard bound == 0, listen(fd, 64) == 0 else { throw DevCluster.Failure("cannot listen on loopback") }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        self.fd = fd
        self.port = Int(UInt16(bigEndian: addr.sin_port))
    }

    deinit { close(fd) }
}
