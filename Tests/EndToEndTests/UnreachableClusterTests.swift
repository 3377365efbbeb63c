import Foundation
import WarrenTestSupport
import Testing

/// A network where nothing answers: a namespace whose hosts file maps `rabbit1..3` to addresses
/// that drop every packet, and whose name server drops every query too (a lookup of any other
/// name waits out the resolver's retries, 20 s here). Built from two network namespaces joined
/// by a veth pair; the far one owns the addresses and drops everything. Nothing leaves them.
/// Needs root (network namespaces); removed afterwards, also when a test fails.
final class BlackHole {
    let name: String
    let peer: String
    let hosts = ["rabbit1", "rabbit2", "rabbit3"]

    init() throws {
        let tag = "\(getpid() % 100_000)\(Int.random(in: 0..<100))"
        name = "wbh\(tag)"
        peer = "wbh\(tag)p"
        do {
            try sh("ip netns add \(name) && ip netns add \(peer)")
            try FileManager.default.createDirectory(atPath: "/etc/netns/\(name)", withIntermediateDirectories: true)
            try "nameserver 198.18.99.53\n".write(toFile: "/etc/netns/\(name)/resolv.conf", atomically: true, encoding: .utf8)
            try ("127.0.0.1 localhost\n" + hosts.enumerated().map { "198.18.99.\(11 + $0.offset) \($0.element)\n" }.joined())
                .write(toFile: "/etc/netns/\(name)/hosts", atomically: true, encoding: .utf8)
            try sh("""
                ip -n \(name) link set lo up
                ip link add \(name)a netns \(name) type veth peer name \(name)b netns \(peer)
                ip -n \(name) addr add 198.18.99.1/24 dev \(name)a && ip -n \(name) link set \(name)a up
                for a in 11 12 13 53; do ip -n \(peer) addr add 198.18.99.$a/24 dev \(name)b; done
                ip -n \(peer) link set \(name)b up
                ip netns exec \(peer) iptables -A INPUT -j DROP
                """)
        } catch {
            remove()
            throw error
        }
    }

    func remove() {
        _ = try? sh("ip netns del \(name) 2>/dev/null; ip netns del \(peer) 2>/dev/null; true")
        try? FileManager.default.removeItem(atPath: "/etc/netns/\(name)")
    }

    /// An inventory of three nodes on `hosts` (names that resolve to silent addresses), or on
    /// names that do not resolve at all.
    func inventory(resolving: Bool, in dir: String) throws -> String {
        let names = resolving ? hosts : hosts.map { "\($0).corp.example" }
        let text = "cluster: prod-eu\nnodes:\n" + names.map {
            "  - name: rabbit@\($0)\n    management: http://\($0):15672\n    start: \"true\"\n    stop: \"true\"\n"
        }.joined() + "cli:\n  path: /usr/lib/rabbitmq/bin\nmanagement:\n  user_env: RABBITMQ_USER\n  password_env: RABBITMQ_PASSWORD\n"
        let path = dir + "/inventory-\(resolving ? "silent" : "unresolved").yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @discardableResult
    func sh(_ script: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-ec", script]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard p.terminationStatus == 0 else { throw SetUpFailed(description: "`\(script)` failed: \(text)") }
        return text
    }

    struct SetUpFailed: Error, CustomStringConvertible { let description: String }

    static var unavailable: String? {
        if getuid() != 0 { return "needs root: builds network namespaces (CI runs as root)" }
        if !FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") { return "needs iproute2 (ip)" }
        if !FileManager.default.isExecutableFile(atPath: "/usr/sbin/iptables") { return "needs iptables" }
        return nil
    }
}

@Suite("A cluster that does not answer: every probe time-boxed, hosts probed side by side",
       .enabled(if: BlackHole.unavailable == nil, "\(BlackHole.unavailable ?? "")"))
struct UnreachableClusterTests {
    /// `warren ARGS` inside the namespace (credentials set, so the management API is tried too).
    func inNamespace(_ w: Warren, _ hole: BlackHole, _ args: [String]) throws -> (code: Int32, output: String, seconds: Double) {
        let started = Date()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        p.arguments = ["netns", "exec", hole.name, w.executable] + args
        p.environment = ProcessInfo.processInfo.environment.merging(w.environment) { $1 }
            .merging(["RABBITMQ_USER": "ops", "RABBITMQ_PASSWORD": "s3cret-pw"]) { $1 }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self), Date().timeIntervalSince(started))
    }

    @Test("preflight on three hosts that do not resolve, or resolve to silence, ends within 15 s naming each host",
          arguments: [false, true])
    func preflight(resolving: Bool) throws {
        let w = try Warren(); defer { w.cleanUp() }
        let hole = try BlackHole(); defer { hole.remove() }
        let r = try inNamespace(w, hole, ["preflight", "--inventory", try hole.inventory(resolving: resolving, in: w.state)])
        #expect(r.code == 1, "\(r.output)")
        #expect(r.seconds <= 15, "preflight took \(r.seconds) s:\n\(r.output)")
        for host in hole.hosts {
            let name = resolving ? host : "\(host).corp.example"
            let expected = resolving ? "\(name) does not answer" : "\(name) does not resolve"
            #expect(r.output.contains(expected), "no line says `\(expected)`:\n\(r.output)")
        }
        #expect(r.output.contains("no node answered cluster_status"))
        #expect(!r.output.contains("s3cret-pw"))
    }

    @Test("the shell's prompt on an unreachable cluster shows within 5 s, and Ctrl-D leaves within 1 s", arguments: [false, true])
    func shell(resolving: Bool) throws {
        let w = try Warren(); defer { w.cleanUp() }
        let hole = try BlackHole(); defer { hole.remove() }
        let started = Date()
        let t = try PseudoTerminal(executable: "/usr/sbin/ip",
                                   arguments: ["netns", "exec", hole.name, w.executable, "shell", "--inventory",
                                               try hole.inventory(resolving: resolving, in: w.state)],
                                   environment: w.environment, workingDirectory: w.state, columns: 120, rows: 40)
        try t.expect("prod-eu [?]> ", timeout: 60)
        let toPrompt = Date().timeIntervalSince(started)
        #expect(toPrompt <= 5, "the prompt took \(toPrompt) s")
        let sent = Date()
        t.sendControl("d")
        #expect(try t.waitForExit(timeout: 60) == 0)
        let toExit = Date().timeIntervalSince(sent)
        #expect(toExit <= 1, "Ctrl-D took \(toExit) s to leave")
    }
}
