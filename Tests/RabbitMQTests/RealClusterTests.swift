import Cluster
import Foundation
@testable import RabbitMQ
import Testing

/// Real RabbitMQ: one 3-node devcluster (plus a spare) for the whole suite, started through the
/// built `warren devcluster up` and stopped afterwards even when a test fails. Every test leaves
/// the cluster converged (3 members running, quorum queues on all three), and checks convergence
/// with `rabbitmqctl` directly, not through the backend.
@Suite("Real RabbitMQ cluster", .serialized, .enabled(if: DevClusterFixture.rabbitMQInstalled), .devCluster)
struct RealClusterTests {
    let f: DevClusterFixture

    /// Each test starts from a converged cluster, whatever an earlier failed test left behind.
    init() {
        f = DevClusterFixture.current!
        f.restore()
    }
    var all: Set<String> { Set(f.members) }
    var n1: String { f.members[0] }
    var n2: String { f.members[1] }
    var n3: String { f.members[2] }

    func expectConverged(_ members: Set<String>? = nil, queueMembers: Set<String>? = nil, via: String? = nil,
                         sourceLocation: SourceLocation = #_sourceLocation) {
        let problem = f.waitUntil { f.convergenceProblem(members: members ?? all, queueMembers: queueMembers, via: via) }
        #expect(problem == nil, "not converged: \(problem ?? "")", sourceLocation: sourceLocation)
    }

    /// An inventory whose management URLs point at a closed port: every read must fall back to the CLI.
    func closedManagementInventory() -> Inventory {
        var inv = f.inventory
        for i in inv.nodes.indices { inv.nodes[i].management = "http://127.0.0.1:1" }
        return inv
    }

    @Test("status, nodes and queues read the same through the management API and through the CLI fallback")
    func readsHTTPAndCLI() throws {
        expectConverged()
        let b = f.backend!
        let before = f.commands.count
        let http = try b.status()
        let httpCommands = f.commands[before...]
        #expect(httpCommands.contains { $0.kind == .http && $0.argv.last?.hasSuffix("/api/nodes") == true })
        // Only the stopped spare is probed with the CLI.
        #expect(httpCommands.filter { $0.kind == .cli }.allSatisfy { $0.argv.contains(f.spareNames[0]) })
        let cli = try b.statusViaCLI()
        for s in [http, cli] {
            #expect(s.clusterName == "warren-dev")
            #expect(Set(s.members) == all)
            #expect(Set(s.running) == all)
            #expect(s.healthy)
            #expect(s.nodes.map(\.name) == f.inventory.nodes.map(\.name))
            #expect(s.nodes.first { $0.name == f.spareNames[0] }?.state == .stopped)
        }
        let fallback = f.makeBackend(closedManagementInventory())
        let viaFallback = try fallback.status()
        #expect(Set(viaFallback.running) == all)

        let qHTTP = try b.queues(type: nil).sorted { $0.name < $1.name }
        let qCLI = try b.queuesViaCLI().sorted { $0.name < $1.name }
        let qFallback = try fallback.queues(type: nil).sorted { $0.name < $1.name }
        #expect(qHTTP.map(\.name) == (DevClusterFixture.quorumQueues + [DevClusterFixture.classicQueue]).sorted())
        for list in [qCLI, qFallback] {
            #expect(list.map(\.name) == qHTTP.map(\.name))
            #expect(list.map(\.type) == qHTTP.map(\.type))
            #expect(list.map { Set($0.members) } == qHTTP.map { Set($0.members) })
            #expect(list.map(\.leader) == qHTTP.map(\.leader))
        }
        let classic = try #require(qCLI.first { $0.name == DevClusterFixture.classicQueue })
        #expect(classic.leader == n1 && classic.available)
        for q in qHTTP where q.type == .quorum {
            #expect(Set(q.members) == all && Set(q.online) == all && q.available)
        }
        #expect(try b.queues(type: .quorum).count == 3)

        let nodes = try b.nodes()
        #expect(nodes.filter { $0.state == .running }.count == 3)
        #expect(nodes.first { $0.name == n1 }?.replicas == 3)
        #expect(nodes.map(\.leaders).reduce(0, +) == 3)

        // Independent check.
        let direct = try #require(f.json(n2, ["cluster_status"]) as? [String: Any])
        #expect(Set(direct["running_nodes"] as? [String] ?? []) == all)
        #expect(try b.ping(n1))
        #expect(try b.ping(String(n2.prefix { $0 != "@" })))
        #expect(try !b.ping(f.spareNames[0]))
    }

    @Test("health checks and preflight pass on the converged devcluster")
    func healthAndPreflight() throws {
        let b = f.backend!
        let h = try b.health(n1)
        #expect(h.map(\.name) == ["running", "local_alarms", "virtual_hosts", "port_connectivity"])
        #expect(h.allSatisfy { $0.ok }, "\(h)")
        let viaCLI = try f.makeBackend(closedManagementInventory()).health(n2)
        #expect(viaCLI.count == 4 && viaCLI.allSatisfy { $0.ok }, "\(viaCLI)")
        let checks = try b.preflight()
        let byName = Dictionary(checks.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byName["node count"]?.outcome == .pass)
        #expect(byName["cookie file mode"]?.outcome == .pass)
        for n in f.members { #expect(byName["cookie \(n)"]?.outcome == .pass) }
        #expect(byName["cookie \(f.spareNames[0])"]?.outcome == .warn)
        #expect(byName["versions"]?.outcome == .pass)
        #expect(byName["partitions"]?.outcome == .pass && byName["alarms"]?.outcome == .pass)
        #expect(byName["ports \(n1)"]?.outcome == .pass, "\(byName["ports \(n1)"]?.detail ?? "")")
        #expect(byName["hostname localhost"]?.outcome == .pass)
        let text = checks.map(\.detail).joined(separator: "\n")
        let cookie = try String(contentsOfFile: f.dir + "/.erlang.cookie", encoding: .utf8)
        #expect(!text.contains(cookie.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    @Test("a manual rolling restart of one node: quorum gate, drain, stop, start, await_running")
    func rollingRestartOneNode() throws {
        expectConverged()
        let b = f.makeBackend()
        #expect(try b.quorumCritical(n2) == [])
        try b.drain(n2)
        #expect(try b.statusViaCLI().maintenance == [n2])
        // A fresh backend sees it too: through the management API and the listener probe.
        #expect(try f.makeBackend().status().maintenance == [n2])
        #expect(try b.status().maintenance == [n2])
        try b.stop(n2)
        #expect(f.ctl(n2, ["ping"], tool: "rabbitmq-diagnostics").code != 0)
        // With n2 down, n1 and n3 are each critical for every 3-replica quorum queue.
        let problem = f.waitUntil(timeout: 30) {
            let critical = (try? b.quorumCritical(n1)) ?? []
            return Set(critical) == Set(DevClusterFixture.quorumQueues) ? nil : "critical: \(critical)"
        }
        #expect(problem == nil)
        let viaCLI = try f.makeBackend(closedManagementInventory()).quorumCritical(n3)
        #expect(Set(viaCLI) == Set(DevClusterFixture.quorumQueues))
        let down = try b.status()
        #expect(Set(down.members) == all && !down.running.contains(n2))
        #expect(down.nodes.first { $0.name == n2 }?.state == .stopped)
        let qs = try b.queues(type: .quorum)
        #expect(qs.allSatisfy { $0.available && !$0.online.contains(n2) && $0.leader != n2 })

        try b.start(n2)
        #expect(f.ctl(n2, ["ping"], tool: "rabbitmq-diagnostics").code == 0)
        try b.awaitRunning(n2, timeout: 120)
        expectConverged()
        #expect(try b.statusViaCLI().maintenance == [])
        #expect(try b.status().maintenance == [])
        #expect(try b.quorumCritical(n2) == [])
        // Every command was journaled through the hook with argv, exit code and duration.
        #expect(f.commands.contains { $0.argv.contains("drain") && $0.exitCode == 0 && $0.duration > 0 })
        #expect(f.commands.contains { $0.kind == .shell && $0.argv.last?.hasSuffix("node2/rabbitmq-service' stop") == true })
    }

    @Test("shrink removes a node from every quorum queue and grow puts it back")
    func growShrink() throws {
        expectConverged()
        let b = f.backend!
        let shrunk = try b.shrink(n3)
        #expect(Set(shrunk) == Set(DevClusterFixture.quorumQueues))
        expectConverged(queueMembers: [n1, n2])
        let grown = try b.grow(n3, strategy: .all)
        #expect(Set(grown) == Set(DevClusterFixture.quorumQueues))
        expectConverged()
    }

    @Test("a spare starts, joins, gets replicas, then is removed and forgotten")
    func spareJoinAndForget() throws {
        expectConverged()
        let b = f.backend!
        let spare = f.spareNames[0]
        try b.start(spare)
        try b.awaitRunning(spare, timeout: 120)
        try b.stopApp(spare)
        try b.reset(spare)
        try b.join(spare, seed: n1)
        try b.startApp(spare)
        let four = all.union([spare])
        expectConverged(four, queueMembers: all, via: spare)
        let grown = try b.grow(spare, strategy: .all)
        #expect(Set(grown) == Set(DevClusterFixture.quorumQueues))
        expectConverged(four)
        #expect(try b.status().nodes.first { $0.name == spare }?.state == .running)

        // Remove it again: stop_app, forget from a member (which shrinks its replicas), stop.
        try b.stopApp(spare)
        try b.forget(spare, from: n1, offline: false)
        expectConverged()
        try b.stop(spare)
        #expect(f.ctl(spare, ["ping"], tool: "rabbitmq-diagnostics").code != 0)
    }

    @Test("a failing start command shows the node's last log lines")
    func failingStart() throws {
        var inv = f.inventory
        let i = inv.nodes.firstIndex { $0.name == n3 }!
        inv.nodes[i].start = "echo 'cannot start: simulated failure' >&2; exit 3"
        // Starting a node that runs does nothing (as the service manager would): stop it first.
        try f.makeBackend().stop(n3)
        defer {
            let good = f.makeBackend()
            try? good.start(n3)
            try? good.awaitRunning(n3, timeout: 120)
        }
        let b = f.makeBackend(inv)
        let error = try #require(throws: ClusterError.self) { try b.start(n3) }
        #expect(error.node == n3)
        #expect(error.message.contains("the start command of \(n3) failed (exit 3)"))
        #expect(error.message.contains("simulated failure"))
        #expect(error.message.contains("last lines of \(f.dir)/node3/log/\(n3).log:"))
        #expect(error.message.contains("[info]"))
    }

    @Test("a wrong cookie in the CLI environment names the cookie file and never shows a value")
    func wrongCookie() throws {
        let home = NSTemporaryDirectory() + "warren-wrong-cookie-\(getpid())"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: home) }
        let wrong = "WRONGCOOKIEWRONGCOOKIE"
        _ = FileManager.default.createFile(atPath: home + "/.erlang.cookie", contents: Data(wrong.utf8), attributes: [.posixPermissions: 0o600])
        var inv = closedManagementInventory()
        inv.cliEnv["HOME"] = home
        inv.cookieFile = nil
        for i in inv.nodes.indices { inv.nodes[i].env["HOME"] = home }
        let b = f.makeBackend(inv)
        let error = try #require(throws: ClusterError.self) { try b.status() }
        let right = try String(contentsOfFile: f.dir + "/.erlang.cookie", encoding: .utf8)
        #expect(error.code == .unavailable)
        #expect(error.message.contains(home + "/.erlang.cookie"))
        #expect(error.message.lowercased().contains("cookie"))
        #expect(!error.message.contains(wrong))
        #expect(!error.message.contains(right))
        #expect(!f.commands.contains { $0.output.contains(wrong) || $0.output.contains(right) })
        #expect(try b.ping(n1) == false)
        let pre = try b.preflight()
        #expect(pre.first { $0.name == "cookie \(n1)" }?.outcome == .fail)
    }

    @Test("an unknown node, a management URL refusing connections and a foreign cluster give clear errors")
    func clearErrors() throws {
        let b = f.backend!
        let unknown = try #require(throws: ClusterError.self) { try b.ping("rabbit9") }
        #expect(unknown.code == .usage)
        #expect(unknown.message == "unknown node 'rabbit9'; known nodes: \(f.inventory.nodes.map(\.name).joined(separator: ", "))")
        #expect(try b.resolve(String(n2.prefix { $0 != "@" })) == n2)
        #expect(throws: ClusterError.self) { try b.resolve("localhost") }  // ambiguous host part

        let closed = f.makeBackend(closedManagementInventory())
        let declare = try #require(throws: ClusterError.self) { try closed.declareQueue(QueueSpec(name: "never", node: n1)) }
        #expect(declare.message.contains("127.0.0.1:1"))
        #expect(try closed.status().running.count == 3)  // reads still work through the CLI

        // A wrong password is named as such, not as an API that does not answer; it is never shown.
        let user = f.inventory.userEnv ?? "WARREN_RABBITMQ_USER", password = f.inventory.passwordEnv ?? "WARREN_RABBITMQ_PASSWORD"
        var environment = ProcessInfo.processInfo.environment
        environment[user] = "guest"
        environment[password] = "not-the-password-9"
        let wrong = f.makeBackend(environment: environment)
        for spec in [QueueSpec(name: "never", node: n1), QueueSpec(name: "never")] {
            let refused = try #require(throws: ClusterError.self) { try wrong.declareQueue(spec) }
            #expect(refused.message.contains("refused the credentials from $\(user) / $\(password)"), "\(refused.message)")
            #expect(!refused.message.contains("not-the-password-9"))
        }

        var foreign = f.inventory
        foreign.cluster = "prod-eu"
        let guarded = f.makeBackend(foreign)
        let identity = try #require(throws: ClusterError.self) { try guarded.stopApp(n3) }
        #expect(identity.message.contains("named 'warren-dev'") && identity.message.contains("expects 'prod-eu'"))
        #expect(f.ctl(n3, ["check_running"], tool: "rabbitmq-diagnostics").code == 0)

        let usage = try #require(throws: ClusterError.self) { try b.join(n2, seed: n2) }
        #expect(usage.code == .usage, "\(usage.code): \(usage.message)")
        #expect(usage.message.contains("requires the 'rabbit' app to be stopped"))
    }

    @Test("publish and consume go through the management API")
    func publishConsume() throws {
        let b = f.backend!
        #expect(try b.publish(queue: "qq1", count: 5, mandatory: true) == 5)
        #expect(try b.consume(queue: "qq1", max: 10) == 5)
        let path = f.dir + "/definitions.json"
        try b.exportDefinitions(to: path)
        let defs = try String(contentsOfFile: path, encoding: .utf8)
        #expect(defs.contains("\"qq1\""))
    }

    @Test("devcluster up refuses a port in use, and status lists the running devcluster")
    func devclusterPortInUse() {
        let other = NSTemporaryDirectory() + "warren-other-\(getpid())"
        let r = DevClusterFixture.run(DevClusterFixture.warrenBinary,
                                      ["devcluster", "up", "--nodes", "1", "--base-port", String(f.basePort), "--prefix", "wother", "--dir", other])
        #expect(r.code == 1)
        #expect(r.output.contains("port \(f.basePort + 1) (AMQP port of wother1@localhost) is already in use"), "\(r.output)")
        #expect(!FileManager.default.fileExists(atPath: other))
        let st = DevClusterFixture.run(DevClusterFixture.warrenBinary, ["devcluster", "status", "--dir", f.dir])
        #expect(st.code == 0)
        for n in f.members { #expect(st.output.contains("\(n)  member  running")) }
        #expect(st.output.contains("\(f.spareNames[0])  spare  stopped"))
    }

    @Test("a management API that stalls is abandoned after its time box and the CLI answers instead")
    func stalledManagementAPI() throws {
        let silent = try SilentServer()
        var inv = f.inventory
        for i in inv.nodes.indices { inv.nodes[i].management = "http://127.0.0.1:\(silent.port)" }
        var records: [CommandRecord] = []
        let b = RabbitMQBackend(inventory: inv)
        b.onCommand = { records.append($0) }
        let t0 = b.now()
        let st = try b.status()
        let statusTime = b.now() - t0
        #expect(Set(st.running) == all)
        // The silent API never answers: without its 2 s time box this would wait for good. The
        // bound leaves room for the CLI calls that answer instead on a loaded machine.
        #expect(statusTime < 20, "status() took \(statusTime) s")
        // One abandoned request, then the CLI; the other nodes' URLs are not tried in turn.
        #expect(records.filter { $0.kind == .http && $0.timedOut }.count == 1)
        #expect(records.contains { $0.kind == .cli && $0.argv.contains("cluster_status") && $0.exitCode == 0 })
        let t1 = b.now()
        let qs = try b.queues(type: .quorum)
        #expect(b.now() - t1 < 20)
        #expect(records.filter { $0.kind == .http && $0.timedOut }.count == 2, "one abandoned request per read")
        #expect(Set(qs.map(\.name)) == Set(DevClusterFixture.quorumQueues))
        #expect(try b.quorumCritical(n1) == [])
    }

    @Test("a full shutdown and startup: stop every node, start the last one stopped first, then the others")
    func fullShutdownStartup() throws {
        expectConverged()
        let b = f.makeBackend()
        let order = [n3, n2, n1]
        for n in order { try b.stop(n) }
        for n in order { #expect(f.ctl(n, ["ping"], tool: "rabbitmq-diagnostics").code != 0) }
        let none = try #require(throws: ClusterError.self) { try b.status() }
        #expect(none.code == .unavailable)
        #expect(none.message.contains("no node of warren-dev answered"), "\(none.message)")

        // A fresh backend (as after a resume) may start nodes while nothing answers.
        let fresh = f.makeBackend()
        let last = order.last!
        try fresh.start(last)
        try fresh.awaitRunning(last, timeout: 120)
        for n in order.dropLast() { try fresh.start(n) }
        for n in order.dropLast() { try fresh.awaitRunning(n, timeout: 180) }
        expectConverged()
        #expect(try fresh.status().healthy)
    }

    @Test("force_boot runs on a stopped node with the node's own environment, and the node boots and rejoins")
    func forceBootStoppedNode() throws {
        expectConverged()
        let b = f.makeBackend()
        #expect(b.notices.isEmpty)
        try b.stop(n3)
        try b.forceBoot(n3)
        let marker = f.dir + "/node3/mnesia/\(n3)/force_load"
        #expect(FileManager.default.fileExists(atPath: marker))
        try b.start(n3)
        try b.awaitRunning(n3, timeout: 120)
        expectConverged()
    }
}
