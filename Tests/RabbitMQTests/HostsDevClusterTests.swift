import Cluster
import Foundation
@testable import RabbitMQ
import Testing

/// One 3-host devcluster (`warren devcluster up --hosts 3`) shared by a serialized suite, and what
/// the tests check it with: commands in its bastion, `rabbitmqctl` run there directly (not through
/// warren), the management API through curl, and its footprint on this machine (namespaces, links,
/// processes, files). Its directory (and with it the namespace prefix, a hash of the directory)
/// is named after this checkout, so another checkout's suite on this machine never meets it.
final class HostsDevCluster: @unchecked Sendable {
    static let hosts = ["n1", "n2", "n3"]
    static let members = hosts.map { "rabbit@\($0)" }

    static let dir: String = {
        var h: UInt32 = 0x811c9dc5
        for b in DevClusterFixture.packageRoot.utf8 { h = (h ^ UInt32(b)) &* 0x01000193 }
        return "/tmp/warren-hosts-tests-" + String(format: "%08x", h)
    }()

    /// Why the suite cannot run here, or nil.
    static var unavailable: String? {
        if getuid() != 0 { return "needs root: builds network namespaces, a bridge and an sshd per host (CI runs as root)" }
        if !DevClusterFixture.rabbitMQInstalled { return "needs RabbitMQ installed (rabbitmq-server)" }
        let missing = SystemTool.required.filter { SystemTool.path($0.tool) == nil }.map(\.tool)
        if !missing.isEmpty { return "needs \(missing.joined(separator: ", ")) (see .ci/run)" }
        if SystemTool.path("curl") == nil { return "needs curl" }
        return nil
    }

    let manifest: DevCluster.Manifest
    let layout: DevCluster.HostsLayout
    /// WARREN_STATE of the warren runs in the bastion (sessions, journals).
    let state: String

    init() throws {
        _ = Self.down()  // what a crashed earlier run left, if anything
        state = NSTemporaryDirectory() + "warren-hosts-state-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let up = Self.run(DevClusterFixture.warrenBinary, ["devcluster", "up", "--hosts", "3", "--spares", "1", "--dir", Self.dir],
                          env: ["WARREN_STATE": state], timeout: 600)
        guard up.code == 0, let m = DevCluster.manifest(dir: Self.dir), let h = m.hosts else {
            _ = Self.down()
            try? FileManager.default.removeItem(atPath: state)
            throw DevCluster.Failure("warren devcluster up --hosts 3 failed (\(up.code)): \(up.output)")
        }
        manifest = m
        layout = h
    }

    /// `warren devcluster down`; returns its exit code and output.
    @discardableResult
    static func down() -> (code: Int32, output: String) {
        run(DevClusterFixture.warrenBinary, ["devcluster", "down", "--dir", dir], timeout: 180)
    }

    func removeState() { try? FileManager.default.removeItem(atPath: state) }

    static func run(_ exe: String, _ args: [String], env: [String: String] = [:], timeout: Double) -> (code: Int32, output: String) {
        DevClusterFixture.run(exe, args, env: env, timeout: timeout)
    }

    /// `warren devcluster exec -- ARGV`: ARGV in the bastion with the inventory's environment.
    func exec(_ argv: [String], env: [String: String] = [:], timeout: Double = 600) -> (code: Int32, output: String) {
        Self.run(DevClusterFixture.warrenBinary, ["devcluster", "exec", "--dir", Self.dir, "--"] + argv,
                 env: ["WARREN_STATE": state, "WARREN_RUNBOOKS": DevClusterFixture.packageRoot + "/runbooks"].merging(env) { $1 },
                 timeout: timeout)
    }

    /// `warren ARGS` run in the bastion through `devcluster exec`.
    func warren(_ args: [String], env: [String: String] = [:], timeout: Double = 600) -> (code: Int32, output: String) {
        exec(["env"] + env.map { "\($0.key)=\($0.value)" } + [DevClusterFixture.warrenBinary] + args, timeout: timeout)
    }

    /// ARGV inside namespace `ns`, with a plain environment.
    func inNamespace(_ ns: String, _ argv: [String], env: [String: String] = [:], timeout: Double = 60) -> (code: Int32, output: String) {
        let r = ProcessRunner.run("/usr/sbin/ip", ["netns", "exec", ns] + argv,
                                  environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C.UTF-8"].merging(env) { $1 },
                                  timeout: timeout)
        return (r.exitCode, r.stdout + r.stderr)
    }

    func namespace(of host: String) -> String { layout.prefix + "-" + host }

    /// `rabbitmqctl -n NODE ARGS --formatter json` run in the bastion directly, with its cookie.
    func ctlJSON(_ node: String, _ args: [String]) -> Any? {
        let r = inNamespace(layout.bastionNamespace, [manifest.cliPath + "/rabbitmqctl", "-q", "-n", node] + args + ["--formatter", "json"],
                            env: ["HOME": layout.bastionHome], timeout: 60)
        guard r.code == 0, let start = r.output.firstIndex(where: { $0 == "{" || $0 == "[" }) else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(r.output[start...].utf8))
    }

    /// The management user's credentials, from the env file `up` wrote.
    var credentials: (user: String, password: String) {
        let text = (try? String(contentsOfFile: layout.envFile, encoding: .utf8)) ?? ""
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { values[parts[0].replacingOccurrences(of: "export ", with: "")] = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "'\"")) }
        }
        return (values[DevCluster.userVariable] ?? "", values[DevCluster.passwordVariable] ?? "")
    }

    /// A management API request from the bastion (curl); returns the HTTP status and body.
    func api(_ method: String, _ path: String, body: String? = nil, host: String = "n1") -> (status: Int, body: String) {
        let c = credentials
        var argv = ["curl", "-s", "-m", "10", "-u", "\(c.user):\(c.password)", "-X", method, "-H", "content-type: application/json",
                    "-w", "\n%{http_code}", "http://\(host):15672/api" + path]
        if let body { argv += ["-d", body] }
        let r = inNamespace(layout.bastionNamespace, argv)
        let lines = r.output.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    /// How long a TCP connection from namespace `ns` to ADDRESS:PORT takes to open, in ms (nil: it failed).
    func connectMilliseconds(from ns: String, to address: String, port: Int) -> Int? {
        let r = inNamespace(ns, ["bash", "-c", "a=$(date +%s%N); </dev/tcp/\(address)/\(port) || exit 1; b=$(date +%s%N); echo $(( (b - a) / 1000000 ))"], timeout: 10)
        return r.code == 0 ? Int(r.output.trimmingCharacters(in: .whitespacesAndNewlines)) : nil
    }

    /// Whether a TCP connection from namespace `ns` to ADDRESS:PORT is made within 2 s.
    func connects(from ns: String, to address: String, port: Int) -> Bool {
        inNamespace(ns, ["timeout", "2", "bash", "-c", "</dev/tcp/\(address)/\(port)"], timeout: 10).code == 0
    }

    /// Problems with the cluster as `rabbitmqctl` in the bastion sees it: every member a disk node
    /// and running, no partition, every quorum queue on all members, all online, with a leader.
    func clusterProblem(via node: String = "rabbit@n1", members: [String] = HostsDevCluster.members) -> String? {
        guard let st = ctlJSON(node, ["cluster_status"]) as? [String: Any] else { return "cluster_status failed on \(node)" }
        let expected = Set(members)
        let disk = Set(st["disk_nodes"] as? [String] ?? []), running = Set(st["running_nodes"] as? [String] ?? [])
        if disk != expected { return "members \(disk.sorted())" }
        if running != expected { return "running \(running.sorted())" }
        if let p = st["partitions"] as? [String: Any], !p.isEmpty { return "partitions \(p)" }
        if let p = st["partitions"] as? [Any], !p.isEmpty { return "partitions \(p)" }
        guard let qs = ctlJSON(node, ["list_queues", "name", "type", "leader", "members", "online"]) as? [[String: Any]] else {
            return "list_queues failed on \(node)"
        }
        for q in qs where q["type"] as? String == "quorum" {
            let name = q["name"] as? String ?? "?"
            let members = Set(q["members"] as? [String] ?? []), online = Set(q["online"] as? [String] ?? [])
            let leader = q["leader"] as? String ?? ""
            if members != expected { return "\(name): members \(members.sorted())" }
            if online != expected { return "\(name): online \(online.sorted())" }
            if !members.contains(leader) { return "\(name): no elected leader ('\(leader)')" }
        }
        return nil
    }

    /// Polls `check` every 0.5 s until it returns nil or `timeout` passes; returns the last problem.
    func waitUntil(timeout: Double, _ check: () -> String?) -> String? {
        let deadline = monotonicSeconds() + timeout
        var problem = check()
        while problem != nil, monotonicSeconds() < deadline {
            Thread.sleep(forTimeInterval: 0.5)
            problem = check()
        }
        return problem
    }

    // MARK: Footprint

    /// What the devcluster has on this machine.
    struct Footprint {
        var namespaces: [String]
        var etcNetns: [String]
        /// Links in the switch namespace (the bridge and a port per namespace).
        var switchLinks: [String]
        /// Links in this machine's own namespace whose name carries the prefix.
        var rootLinks: [String]
        var pids: Set<Int32>
        var directoryExists: Bool
    }

    static func footprint(prefix: String, dir: String = HostsDevCluster.dir) -> Footprint {
        let etc = ((try? FileManager.default.contentsOfDirectory(atPath: "/etc/netns")) ?? []).filter { $0.hasPrefix(prefix + "-") }
        let sw = prefix + "-sw"
        var switchLinks: [String] = []
        if NetworkNamespaces.exists(sw) {
            let r = SystemTool.run("ip", ["-n", sw, "-o", "link", "show"])
            switchLinks = r.stdout.split(separator: "\n").compactMap { line in
                line.split(separator: ":").dropFirst().first.map { String($0.trimmingCharacters(in: .whitespaces).split(separator: "@")[0]) }
            }.filter { $0 != "lo" }
        }
        let root = SystemTool.run("ip", ["-o", "link", "show"]).stdout.split(separator: "\n").map(String.init).filter { $0.contains(prefix) }
        return Footprint(namespaces: NetworkNamespaces.named(prefix: prefix + "-"), etcNetns: etc.sorted(), switchLinks: switchLinks.sorted(),
                         rootLinks: root, pids: DevCluster.devclusterPids(dir: dir, prefix: prefix),
                         directoryExists: FileManager.default.fileExists(atPath: dir))
    }

    /// After `down`: what is still there of `before` (empty: nothing).
    static func leftovers(prefix: String, dir: String = HostsDevCluster.dir, before: Footprint) -> [String] {
        let now = footprint(prefix: prefix, dir: dir)
        var left: [String] = []
        if !now.namespaces.isEmpty { left.append("namespaces \(now.namespaces)") }
        if !now.etcNetns.isEmpty { left.append("/etc/netns entries \(now.etcNetns)") }
        if !now.switchLinks.isEmpty { left.append("links in the switch \(now.switchLinks)") }
        if !now.rootLinks.isEmpty { left.append("links in this machine's namespace \(now.rootLinks)") }
        let alive = before.pids.union(now.pids).filter { kill($0, 0) == 0 && !NetworkNamespaces.isZombie($0) }
        if !alive.isEmpty { left.append("processes \(alive.sorted())") }
        if now.directoryExists { left.append("directory \(dir)") }
        return left
    }
}

/// Runs a suite around one 3-host devcluster; afterwards `down` must leave nothing of it behind
/// (namespaces, links, processes, files), else the suite fails saying what is left.
struct HostsDevClusterTrait: SuiteTrait, TestScoping {
    var isRecursive: Bool { false }

    struct LeftBehind: Error, CustomStringConvertible { let description: String }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        guard HostsDevCluster.unavailable == nil else {
            try await function()
            return
        }
        let cluster = try HostsDevCluster()
        let prefix = cluster.layout.prefix
        var failure: Error?
        do {
            try await HostsDevCluster.$current.withValue(cluster) { try await function() }
        } catch {
            failure = error
        }
        let before = HostsDevCluster.footprint(prefix: prefix)
        let down = HostsDevCluster.down()
        cluster.removeState()
        let left = HostsDevCluster.leftovers(prefix: prefix, before: before)
        if let failure { throw failure }
        if down.code != 0 { throw LeftBehind(description: "warren devcluster down failed (\(down.code)): \(down.output)") }
        if !left.isEmpty {
            _ = try? DevCluster.downHosts(dir: HostsDevCluster.dir)  // the next run should not meet them
            throw LeftBehind(description: "warren devcluster down left \(left.joined(separator: "; "))")
        }
    }
}

extension HostsDevCluster {
    @TaskLocal static var current: HostsDevCluster?
}

extension Trait where Self == HostsDevClusterTrait {
    /// The suite runs against one 3-host devcluster, removed (and checked gone) afterwards.
    static var hostsDevCluster: HostsDevClusterTrait { HostsDevClusterTrait() }
}

@Suite("A 3-host devcluster (network namespaces, ssh): up, runbooks from the bastion, faults; down leaves nothing behind",
       .serialized, .enabled(if: HostsDevCluster.unavailable == nil, "\(HostsDevCluster.unavailable ?? "")"), .hostsDevCluster)
struct HostsDevClusterTests {
    var cluster: HostsDevCluster { HostsDevCluster.current! }

    @Test("up made 6 namespaces (a spare host too), a bridge with 5 ports, hosts files, an sshd and a VM per member host, and a mode-600 credentials file")
    func footprintWhileUp() throws {
        let c = cluster, prefix = c.layout.prefix
        let f = HostsDevCluster.footprint(prefix: prefix)
        #expect(f.namespaces == ([prefix + "-bastion"] + (HostsDevCluster.hosts + ["n4"]).map { prefix + "-" + $0 } + [prefix + "-sw"]).sorted())
        #expect(f.etcNetns.count == 5, "\(f.etcNetns)")  // the bastion and the hosts resolve names from files
        #expect(f.switchLinks == ["bastion", "br0", "n1", "n2", "n3", "n4"], "\(f.switchLinks)")
        #expect(f.rootLinks.isEmpty, "\(f.rootLinks)")
        #expect(f.directoryExists)
        for host in HostsDevCluster.hosts {
            let pids = NetworkNamespaces.pids(in: [c.namespace(of: host)])
            let names = Set(pids.compactMap { try? String(contentsOfFile: "/proc/\($0)/comm", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) })
            #expect(names.contains("sshd") && names.contains("beam.smp") && names.contains("epmd"), "\(host): \(names.sorted())")
            #expect(pids.isSubset(of: f.pids))
        }
        let mode = (try FileManager.default.attributesOfItem(atPath: c.layout.envFile)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600)
        #expect(c.credentials.user == DevCluster.managementUserName && !c.credentials.password.isEmpty)
        let resolved = c.inNamespace(c.layout.bastionNamespace, ["getent", "hosts", "n2"])
        #expect(resolved.code == 0 && resolved.output.contains(DevCluster.hostsSubnet + ".12"), "\(resolved.output)")
    }

    @Test("rolling-restart --canary from the bastion with ssh start/stop completes, the canary (AMQP by hostname) losing nothing; rabbitmqctl there then sees 3 members running, every quorum queue led and online, no partition, no message lost")
    func rollingRestart() throws {
        let c = cluster
        for (i, q) in ["hq1", "hq2", "hq3"].enumerated() {
            let host = HostsDevCluster.hosts[i]
            let put = c.api("PUT", "/queues/%2F/\(q)", body: #"{"durable":true,"arguments":{"x-queue-type":"quorum"}}"#, host: host)
            #expect(put.status == 201 || put.status == 204, "declare \(q): \(put.status) \(put.body)")
            for k in 1...10 {
                let pub = c.api("POST", "/exchanges/%2F/amq.default/publish",
                                body: #"{"properties":{"delivery_mode":2},"routing_key":"\#(q)","payload":"m\#(k)","payload_encoding":"string"}"#)
                #expect(pub.body.contains("\"routed\":true"), "publish to \(q): \(pub.status) \(pub.body)")
            }
        }
        try #require(c.waitUntil(timeout: 60) { c.clusterProblem() } == nil)
        let started = monotonicSeconds()
        let run = c.warren(["run", "rolling-restart", "--inventory", c.manifest.inventoryPath, "--yes", "--canary"])
        let seconds = monotonicSeconds() - started
        #expect(run.code == 0, "\(run.output)")
        #expect(run.output.contains("rolling-restart completed"), "\(run.output)")
        let canary = run.output.split(separator: "\n").first { $0.contains("canary: published") }.map(String.init) ?? ""
        #expect(canary.contains(", lost 0,") && !canary.contains("published 0,"), "the canary: \(canary.isEmpty ? run.output : canary)")
        for n in HostsDevCluster.members { #expect(run.output.contains("\(n) stop … ok") && run.output.contains("\(n) start … ok"), "\(n) not restarted") }
        print(String(format: "rolling-restart on 3 hosts: %.1f s", seconds))
        // Checked independently: the CLI in the bastion, no warren.
        #expect(c.waitUntil(timeout: 60) { c.clusterProblem() } == nil)
        for n in HostsDevCluster.members {
            let st = c.ctlJSON(n, ["cluster_status"]) as? [String: Any]
            #expect(Set(st?["running_nodes"] as? [String] ?? []) == Set(HostsDevCluster.members), "\(n) sees \(st?["running_nodes"] ?? "nothing")")
        }
        let counts = (c.ctlJSON("rabbit@n2", ["list_queues", "name", "messages"]) as? [[String: Any]] ?? [])
            .reduce(into: [String: Int]()) { $0[$1["name"] as? String ?? ""] = $1["messages"] as? Int }
        for q in ["hq1", "hq2", "hq3"] { #expect(counts[q] == 10, "\(q) holds \(counts[q].map(String.init) ?? "nothing") messages") }
    }

    @Test("guest from the bastion: the refusal is said once, naming guest and loopback, and the run completes through the CLI")
    func refusedCredentials() throws {
        let c = cluster
        let text = try String(contentsOfFile: c.manifest.inventoryPath, encoding: .utf8)
            .replacingOccurrences(of: DevCluster.userVariable, with: "GUEST_USER")
            .replacingOccurrences(of: DevCluster.passwordVariable, with: "GUEST_PASSWORD")
        let path = c.state + "/inventory-guest.yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let run = c.warren(["run", "rebalance", "--inventory", path, "--yes"], env: ["GUEST_USER": "guest", "GUEST_PASSWORD": "guest"])
        #expect(run.code == 0, "\(run.output)")
        let refusals = run.output.components(separatedBy: "refused user 'guest'").count - 1
        #expect(refusals == 1, "the refusal is said \(refusals) times:\n\(run.output)")
        #expect(run.output.contains("guest may log in from loopback only"), "\(run.output)")
        #expect(run.output.contains("rebalance completed"), "\(run.output)")
    }

    @Test("fault.partition between n3 and n1,n2 drops their packets both ways (the bastion still reaches all); fault.heal restores them and the cluster")
    func partitionAndHeal() throws {
        let c = cluster
        let dir = c.state + "/lua"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try """
            runbook { name = "cut-n3", summary = "partition n3 from n1 and n2" }
            step("partition", function() fault.partition({ "rabbit@n1", "rabbit@n2" }, { "rabbit@n3" }) end)
            """.write(toFile: dir + "/cut.lua", atomically: true, encoding: .utf8)
        try """
            runbook { name = "heal", summary = "heal every partition" }
            step("heal", function() fault.heal() end)
            """.write(toFile: dir + "/heal.lua", atomically: true, encoding: .utf8)
        let addr = { (k: Int) in DevCluster.hostAddress(k) }
        #expect(c.connects(from: c.namespace(of: "n1"), to: addr(3), port: 4369), "n1 cannot reach n3 before the partition")

        let cut = c.warren(["run", dir + "/cut.lua", "--inventory", c.manifest.inventoryPath, "--yes"])
        var healed = false
        defer { if !healed { _ = c.warren(["run", dir + "/heal.lua", "--inventory", c.manifest.inventoryPath, "--yes"]) } }
        #expect(cut.code == 0, "\(cut.output)")
        #expect(!c.connects(from: c.namespace(of: "n1"), to: addr(3), port: 4369), "n1 still reaches n3")
        #expect(!c.connects(from: c.namespace(of: "n2"), to: addr(3), port: 22), "n2 still reaches n3")
        #expect(!c.connects(from: c.namespace(of: "n3"), to: addr(1), port: 22), "n3 still reaches n1")
        #expect(c.connects(from: c.namespace(of: "n1"), to: addr(2), port: 4369), "n1 lost n2 too")
        #expect(c.connects(from: c.layout.bastionNamespace, to: addr(3), port: 22), "the bastion lost n3")
        // pause_minority: n3 alone pauses; n1 sees n3 gone.
        let running = (c.ctlJSON("rabbit@n1", ["cluster_status"]) as? [String: Any])?["running_nodes"] as? [String] ?? []
        #expect(Set(running) == ["rabbit@n1", "rabbit@n2"], "n1 sees \(running)")

        let heal = c.warren(["run", dir + "/heal.lua", "--inventory", c.manifest.inventoryPath, "--yes"])
        healed = heal.code == 0
        #expect(heal.code == 0, "\(heal.output)")
        #expect(c.connects(from: c.namespace(of: "n1"), to: addr(3), port: 4369), "n1 cannot reach n3 after heal")
        #expect(c.connects(from: c.namespace(of: "n3"), to: addr(1), port: 22), "n3 cannot reach n1 after heal")
        let problem = c.waitUntil(timeout: 120) { c.clusterProblem() }
        #expect(problem == nil, "after heal: \(problem ?? "")")
    }
}


extension HostsDevClusterTests {
    @Test("fault.delay of 0.2 s on n3 slows every connection to it (netem, or warren's NFQUEUE delayer where the kernel has none); fault.heal removes it and its delayer")
    func delayAndHeal() throws {
        let c = cluster
        let dir = c.state + "/lua"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try """
            runbook { name = "slow-n3", summary = "delay n3's packets" }
            step("delay", function() fault.delay("rabbit@n3", 0.2) end)
            """.write(toFile: dir + "/slow.lua", atomically: true, encoding: .utf8)
        try """
            runbook { name = "heal", summary = "heal every fault of the network" }
            step("heal", function() fault.heal() end)
            """.write(toFile: dir + "/heal-delay.lua", atomically: true, encoding: .utf8)
        let n1 = c.namespace(of: "n1"), n3 = DevCluster.hostAddress(3), n2 = DevCluster.hostAddress(2)
        let slow = c.warren(["run", dir + "/slow.lua", "--inventory", c.manifest.inventoryPath, "--yes"])
        var healed = false
        defer { if !healed { _ = c.warren(["run", dir + "/heal-delay.lua", "--inventory", c.manifest.inventoryPath, "--yes"]) } }
        #expect(slow.code == 0, "\(slow.output)")
        let delayed = (0..<3).compactMap { _ in c.connectMilliseconds(from: n1, to: n3, port: 4369) }
        #expect(delayed.count == 3 && delayed.allSatisfy { $0 >= 180 }, "connections to n3 took \(delayed) ms")
        let other = c.connectMilliseconds(from: n1, to: n2, port: 4369)
        #expect(other.map { $0 < 150 } == true, "n1 to n2 took \(other.map(String.init) ?? "forever") ms")

        let heal = c.warren(["run", dir + "/heal-delay.lua", "--inventory", c.manifest.inventoryPath, "--yes"])
        healed = heal.code == 0
        #expect(heal.code == 0, "\(heal.output)")
        let after = c.connectMilliseconds(from: n1, to: n3, port: 4369)
        #expect(after.map { $0 < 150 } == true, "after heal n1 to n3 took \(after.map(String.init) ?? "forever") ms")
        let delayers = DevCluster.devclusterPids(dir: HostsDevCluster.dir, prefix: c.layout.prefix).filter {
            (FileManager.default.contents(atPath: "/proc/\($0)/cmdline")).map { String(decoding: $0, as: UTF8.self).contains("delay-packets") } == true
        }
        #expect(delayers.isEmpty, "packet delayers still run: \(delayers.sorted())")
        #expect(c.waitUntil(timeout: 60) { c.clusterProblem() } == nil)
    }
}

extension HostsDevClusterTests {
    @Test("fault.kill of n2 kills its VM (SIGKILL): n1 sees it gone; its start command over ssh brings it back into the cluster")
    func killAndStart() throws {
        let c = cluster
        let dir = c.state + "/lua"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try """
            runbook { name = "kill-n2", summary = "kill -9 rabbit@n2's VM" }
            step("kill", function() fault.kill("rabbit@n2") end)
            """.write(toFile: dir + "/kill.lua", atomically: true, encoding: .utf8)
        let beams = { NetworkNamespaces.pids(in: [c.namespace(of: "n2")]).filter {
            (try? String(contentsOfFile: "/proc/\($0)/comm", encoding: .utf8))?.hasPrefix("beam.smp") == true && !NetworkNamespaces.isZombie($0)
        } }
        try #require(!beams().isEmpty, "n2 runs no VM before the kill")
        let kill = c.warren(["run", dir + "/kill.lua", "--inventory", c.manifest.inventoryPath, "--yes"])
        defer { _ = c.exec(["ssh", "-F", c.layout.sshConfig, "n2", "rabbitmq-service", "start"], timeout: 180) }
        #expect(kill.code == 0, "\(kill.output)")
        #expect(beams().isEmpty, "n2's VM still runs: \(beams().sorted())")
        let seen = c.waitUntil(timeout: 60) {
            let running = (c.ctlJSON("rabbit@n1", ["cluster_status"]) as? [String: Any])?["running_nodes"] as? [String] ?? []
            return running.contains("rabbit@n2") ? "n1 still lists n2 running" : nil
        }
        #expect(seen == nil, "\(seen ?? "")")
        let start = c.exec(["ssh", "-F", c.layout.sshConfig, "n2", "rabbitmq-service", "start"], timeout: 180)
        #expect(start.code == 0, "\(start.output)")
        let problem = c.waitUntil(timeout: 120) { c.clusterProblem() }
        #expect(problem == nil, "after the start: \(problem ?? "")")
    }

    @Test("a stop command whose ssh the host refuses (no key it accepts): exit 1, an error naming the node and the refused key, and the node still runs")
    func sshRefusesTheKey() throws {
        let c = cluster
        let known = c.manifest.dir + "/ssh/known_hosts"
        let text = try String(contentsOfFile: c.manifest.inventoryPath, encoding: .utf8)
        let refused = text.replacingOccurrences(of: "ssh -F \(c.layout.sshConfig) n2 rabbitmq-service stop",
                                                with: "ssh -F /dev/null -o BatchMode=yes -o UserKnownHostsFile=\(known) n2 rabbitmq-service stop")
        try #require(refused != text, "the inventory has no ssh stop command for n2:\n\(text)")
        let path = c.state + "/inventory-refused-key.yaml"
        try refused.write(toFile: path, atomically: true, encoding: .utf8)
        let dir = c.state + "/lua"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try """
            runbook { name = "stop-n2", summary = "stop rabbit@n2" }
            step("stop", function()
              confirm("Stop rabbit@n2?")
              cluster.node("rabbit@n2"):stop()
            end)
            """.write(toFile: dir + "/stop-n2.lua", atomically: true, encoding: .utf8)
        let run = c.warren(["run", dir + "/stop-n2.lua", "--inventory", path, "--yes"])
        #expect(run.code == 1, "\(run.output)")
        #expect(run.output.contains("ssh to rabbit@n2's host refused the key offered"), "\(run.output)")
        #expect(run.output.contains("rabbit@n2 was not stopped"), "\(run.output)")
        #expect(run.output.contains("Permission denied"), "\(run.output)")
        #expect(c.clusterProblem() == nil)
    }

    /// Declares quorum queues QUEUES (one led from each host) with 10 messages each, through the management API.
    func declareQueues(_ c: HostsDevCluster, _ queues: [String]) {
        for (i, q) in queues.enumerated() {
            let put = c.api("PUT", "/queues/%2F/\(q)", body: #"{"durable":true,"arguments":{"x-queue-type":"quorum"}}"#, host: HostsDevCluster.hosts[i % 3])
            #expect(put.status == 201 || put.status == 204, "declare \(q): \(put.status) \(put.body)")
            for k in 1...10 {
                let pub = c.api("POST", "/exchanges/%2F/amq.default/publish",
                                body: #"{"properties":{"delivery_mode":2},"routing_key":"\#(q)","payload":"m\#(k)","payload_encoding":"string"}"#)
                #expect(pub.body.contains("\"routed\":true"), "publish to \(q): \(pub.status) \(pub.body)")
            }
        }
    }

    /// Polls (30 s at most: a quorum queue's count is its leader's metric, refreshed every few
    /// seconds, and reads 0 from a leader just elected) until each queue holds `count` messages;
    /// returns the last problem.
    func expectMessages(_ c: HostsDevCluster, _ queues: [String], _ count: Int) -> String? {
        c.waitUntil(timeout: 30) {
            let counts = messages(c)
            return queues.first { counts[$0] != count }.map { "\($0) holds \(counts[$0].map(String.init) ?? "nothing") messages, not \(count)" }
        }
    }

    func messages(_ c: HostsDevCluster, via node: String = "rabbit@n2") -> [String: Int] {
        (c.ctlJSON(node, ["list_queues", "name", "messages"]) as? [[String: Any]] ?? [])
            .reduce(into: [String: Int]()) { $0[$1["name"] as? String ?? ""] = $1["messages"] as? Int }
    }

    @Test("full-shutdown then full-startup from the bastion, stop and start over ssh: every VM gone in between, the last stopped starts first; rabbitmqctl then sees 3 members running, every quorum queue led and online, no partition, no message lost")
    func fullShutdownThenStartup() throws {
        let c = cluster
        declareQueues(c, ["fq1", "fq2"])
        try #require(c.waitUntil(timeout: 60) { c.clusterProblem() } == nil)
        let answers = c.state + "/full-shutdown-answers.txt"
        try HostsDevCluster.hosts.map { "stop-\($0)#unsafe: yes" }.joined(separator: "\n").write(toFile: answers, atomically: true, encoding: .utf8)
        let down = c.warren(["run", "full-shutdown", "--inventory", c.manifest.inventoryPath, "--yes", "--answers", answers])
        #expect(down.code == 0, "\(down.output)")
        for host in HostsDevCluster.hosts {
            let beams = NetworkNamespaces.pids(in: [c.namespace(of: host)]).filter {
                (try? String(contentsOfFile: "/proc/\($0)/comm", encoding: .utf8))?.hasPrefix("beam.smp") == true && !NetworkNamespaces.isZombie($0)
            }
            #expect(beams.isEmpty, "\(host) still runs a VM after full-shutdown")
        }
        let up = c.warren(["run", "full-startup", "--inventory", c.manifest.inventoryPath, "--yes"])
        #expect(up.code == 0, "\(up.output)")
        let starts = up.output.split(separator: "\n").filter { $0.contains(" start … ok") }
        #expect(starts.first?.contains("rabbit@n1 start") == true, "the last stopped (n1) should start first: \(starts)")
        #expect(c.waitUntil(timeout: 90) { c.clusterProblem() } == nil)
        let kept = expectMessages(c, ["fq1", "fq2"], 10)
        #expect(kept == nil, "\(kept ?? "")")
    }

    @Test("replace-node n3 by the spare n4 from the bastion (ssh start): rabbitmqctl then sees n1, n2, n4 with every quorum queue on them; and back (n4 stopped over ssh, replaced as a failed node by n3)")
    func replaceNodeAndBack() throws {
        let c = cluster
        declareQueues(c, ["rq1"])
        try #require(c.waitUntil(timeout: 60) { c.clusterProblem() } == nil)
        let inventory = c.manifest.inventoryPath
        let r = c.warren(["run", "replace-node", "--inventory", inventory, "--yes", "--param", "old=rabbit@n3", "--param", "new=rabbit@n4"])
        #expect(r.code == 0, "\(r.output)")
        let replaced = ["rabbit@n1", "rabbit@n2", "rabbit@n4"]
        let after = c.waitUntil(timeout: 90) { c.clusterProblem(members: replaced) }
        #expect(after == nil, "after replacing n3 by n4: \(after ?? "")")
        let kept = expectMessages(c, ["rq1"], 10)
        #expect(kept == nil, "after replacing n3 by n4: \(kept ?? "")")
        // And back: the spare goes down; n3 (forgotten, its app stopped) replaces it.
        let stop = c.exec(["ssh", "-F", c.layout.sshConfig, "n4", "rabbitmq-service", "stop"], timeout: 180)
        #expect(stop.code == 0, "\(stop.output)")
        let back = c.warren(["run", "replace-node", "--inventory", inventory, "--yes", "--param", "old=rabbit@n4", "--param", "new=rabbit@n3"])
        #expect(back.code == 0, "\(back.output)")
        let restored = c.waitUntil(timeout: 90) { c.clusterProblem() }
        #expect(restored == nil, "after replacing n4 by n3: \(restored ?? "")")
        let keptBack = expectMessages(c, ["rq1"], 10)
        #expect(keptBack == nil, "after replacing n4 by n3: \(keptBack ?? "")")
    }
}

@Suite("devcluster up --hosts needs root")
struct HostsDevClusterRootTests {
    @Test("as a non-root user it refuses clearly, saying what to do, and creates nothing")
    func refusesNonRoot() throws {
        let dir = NSTemporaryDirectory() + "warren-hosts-nonroot-\(UUID().uuidString)"
        let args = ["devcluster", "up", "--hosts", "3", "--dir", dir]
        // As root, drop to nobody for the run (setpriv); as anyone else, run as is.
        let r = getuid() == 0
            ? HostsDevCluster.run("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", DevClusterFixture.warrenBinary] + args,
                                  env: ["WARREN_STATE": dir + "-state", "HOME": "/nonexistent"], timeout: 60)
            : HostsDevCluster.run(DevClusterFixture.warrenBinary, args, env: ["WARREN_STATE": dir + "-state"], timeout: 60)
        defer { try? FileManager.default.removeItem(atPath: dir); try? FileManager.default.removeItem(atPath: dir + "-state") }
        #expect(r.code != 0, "\(r.output)")
        #expect(r.output.contains("needs root"), "\(r.output)")
        #expect(r.output.contains("Nothing was created"), "\(r.output)")
        #expect(r.output.contains("--nodes"), "the refusal does not offer loopback nodes: \(r.output)")
        #expect(!FileManager.default.fileExists(atPath: dir))
        #expect(NetworkNamespaces.named(prefix: DevCluster.namespacePrefix(dir: dir)).isEmpty)
    }
}

@Suite("devcluster up --hosts: names taken by another tool, and an up killed half-way",
       .enabled(if: HostsDevCluster.unavailable == nil, "\(HostsDevCluster.unavailable ?? "")"))
struct HostsDevClusterBadInputTests {
    static func scratchDirectory(_ what: String) -> String {
        "/tmp/warren-hosts-\(what)-\(getpid())-\(Int.random(in: 0..<1_000_000))"
    }

    @Test("a network namespace of the same name left by another tool: a clear error naming the host, nothing made, the namespace left alone")
    func namespaceTaken() throws {
        let dir = Self.scratchDirectory("taken")
        let prefix = DevCluster.namespacePrefix(dir: dir)
        let taken = prefix + "-n2"
        #expect(SystemTool.run("ip", ["netns", "add", taken]).exitCode == 0)
        defer {
            _ = SystemTool.run("ip", ["netns", "del", taken])
            _ = try? DevCluster.downHosts(dir: dir)
        }
        let r = HostsDevCluster.run(DevClusterFixture.warrenBinary, ["devcluster", "up", "--hosts", "3", "--dir", dir],
                                    env: ["WARREN_STATE": dir + "-state"], timeout: 120)
        defer { try? FileManager.default.removeItem(atPath: dir + "-state") }
        #expect(r.code != 0, "\(r.output)")
        #expect(r.output.contains("host n2") && r.output.contains(taken), "\(r.output)")
        #expect(r.output.contains("Nothing was created"), "\(r.output)")
        #expect(NetworkNamespaces.named(prefix: prefix + "-") == [taken])
        #expect(!FileManager.default.fileExists(atPath: dir))
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: "/etc/netns")) ?? []).filter { $0.hasPrefix(prefix) }.isEmpty)
    }

    @Test("up killed (SIGKILL) once its hosts run sshd: down removes every namespace, process and file it had made")
    func downAfterKilledUp() throws {
        let dir = Self.scratchDirectory("killed")
        let prefix = DevCluster.namespacePrefix(dir: dir)
        defer {
            _ = try? DevCluster.downHosts(dir: dir)
            try? FileManager.default.removeItem(atPath: dir + "-state")
        }
        let up = Process()
        up.executableURL = URL(fileURLWithPath: DevClusterFixture.warrenBinary)
        up.arguments = ["devcluster", "up", "--hosts", "3", "--dir", dir]
        up.environment = ProcessInfo.processInfo.environment.merging(["WARREN_STATE": dir + "-state"]) { $1 }
        up.standardOutput = FileHandle.nullDevice
        up.standardError = FileHandle.nullDevice
        up.standardInput = FileHandle.nullDevice
        try up.run()
        defer { if up.isRunning { kill(up.processIdentifier, SIGKILL); up.waitUntilExit() } }
        // Half-way: every host's namespace has its sshd.
        let deadline = monotonicSeconds() + 120
        var sshds = 0
        while monotonicSeconds() < deadline, up.isRunning {
            sshds = HostsDevCluster.hosts.filter { host in
                NetworkNamespaces.pids(in: [prefix + "-" + host]).contains {
                    (try? String(contentsOfFile: "/proc/\($0)/comm", encoding: .utf8))?.hasPrefix("sshd") == true
                }
            }.count
            if sshds == 3 { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        try #require(sshds == 3 && up.isRunning, "up did not reach its sshds while running (\(sshds) of 3)")
        kill(up.processIdentifier, SIGKILL)
        up.waitUntilExit()
        let before = HostsDevCluster.footprint(prefix: prefix, dir: dir)
        #expect(before.namespaces.count == 5 && before.pids.count >= 3 && before.directoryExists,
                "the killed up left too little to check: \(before)")
        let down = HostsDevCluster.run(DevClusterFixture.warrenBinary, ["devcluster", "down", "--dir", dir], timeout: 120)
        #expect(down.code == 0, "\(down.output)")
        let left = HostsDevCluster.leftovers(prefix: prefix, dir: dir, before: before)
        #expect(left.isEmpty, "down left \(left.joined(separator: "; "))")
        let again = HostsDevCluster.run(DevClusterFixture.warrenBinary, ["devcluster", "down", "--dir", dir], timeout: 60)
        #expect(again.code == 0, "a second down (nothing left) failed: \(again.output)")
    }
}
