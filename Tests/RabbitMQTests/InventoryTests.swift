import Cluster
import Foundation
@testable import RabbitMQ
import Testing

@Suite("Inventory")
struct InventoryTests {
    static let valid = """
    cluster: prod-eu
    nodes:
      - name: rabbit@rabbit1
        management: http://rabbit1:15672
        start: ssh rabbit1 sudo systemctl start rabbitmq-server
        stop:  ssh rabbit1 sudo systemctl stop rabbitmq-server
        env: {}
      - name: rabbit@rabbit2
        start: ssh rabbit2 sudo systemctl start rabbitmq-server
        stop:  ssh rabbit2 sudo systemctl stop rabbitmq-server
        spare: true
    cli:
      path: /usr/lib/rabbitmq/bin
      env: { HOME: /root }
    management:
      user_env: RABBITMQ_USER
      password_env: RABBITMQ_PASSWORD
    secrets: [EXTRA_TOKEN, "literal-secret-value"]
    """

    @Test("a valid inventory parses with every field")
    func validInventory() throws {
        let inv = try Inventory.parse(Self.valid, file: "prod.yaml")
        #expect(inv.cluster == "prod-eu")
        #expect(inv.nodes.map(\.name) == ["rabbit@rabbit1", "rabbit@rabbit2"])
        #expect(inv.nodes[0].management == "http://rabbit1:15672")
        #expect(inv.nodes[1].spare)
        #expect(inv.cliEnv == ["HOME": "/root"])
        #expect(inv.effectiveCookieFile == "/root/.erlang.cookie")
        #expect(inv.userEnv == "RABBITMQ_USER")
        #expect(inv.secrets == ["EXTRA_TOKEN", "literal-secret-value"])
        #expect(inv.credentials(environment: ["RABBITMQ_USER": "u", "RABBITMQ_PASSWORD": "p"])! == ("u", "p"))
        #expect(inv.credentials(environment: [:]) == nil)
    }

    @Test("the written YAML reads back as the same inventory")
    func roundTrip() throws {
        var inv = try Inventory.parse(Self.valid, file: "prod.yaml")
        inv.path = nil
        var back = try Inventory.parse(inv.yaml())
        back.path = nil
        #expect(back == inv)
    }

    /// Parses and returns the error's description, or nil when it parsed.
    func failure(_ yaml: String) -> (InventoryError?, String) {
        do {
            _ = try Inventory.parse(yaml, file: "bad.yaml")
            return (nil, "")
        } catch let e as InventoryError {
            return (e, e.description)
        } catch {
            return (nil, "\(error)")
        }
    }

    func replacing(_ old: String, _ new: String) -> String {
        precondition(Self.valid.contains(old))
        return Self.valid.replacingOccurrences(of: old, with: new)
    }

    @Test("a node's upgrade command is read and written back; one without {version} is refused with its line and a fix")
    func upgradeCommand() throws {
        let yaml = replacing("    env: {}\n", "    upgrade: ssh rabbit1 sudo apt-get install -y rabbitmq-server={version}-1\n    env: {}\n")
        var inv = try Inventory.parse(yaml, file: "prod.yaml")
        #expect(inv.nodes[0].upgrade == "ssh rabbit1 sudo apt-get install -y rabbitmq-server={version}-1" && inv.nodes[1].upgrade == nil)
        inv.path = nil
        var back = try Inventory.parse(inv.yaml())
        back.path = nil
        #expect(back == inv)
        let (e, text) = failure(replacing("    env: {}\n", "    upgrade: ssh rabbit1 sudo apt-get install -y rabbitmq-server\n    env: {}\n"))
        #expect(e?.problems.first?.key == "nodes[0].upgrade" && e?.problems.first?.line == 7, "\(text)")
        #expect(text.contains("does not contain {version}") && text.contains("rabbitmq-server={version}-1"))
    }

    @Test("a missing cluster name is reported with the file, line and key, and a fix")
    func missingCluster() {
        let (e, d) = failure(replacing("cluster: prod-eu\n", ""))
        #expect(e?.problems.first?.key == "cluster")
        #expect(e?.problems.first?.line == 1)
        #expect(d.contains("bad.yaml:1: cluster"))
        #expect(d.contains("fix: add `cluster: NAME`"))
    }

    @Test("an unknown key names its line and suggests the likely key")
    func unknownKey() {
        let (e, d) = failure(replacing("    management: http://rabbit1:15672", "    managment: http://rabbit1:15672"))
        #expect(e?.problems.count == 1)
        #expect(e?.problems.first?.line == 4)
        #expect(d.contains("bad.yaml:4: nodes[0].managment"))
        #expect(d.contains("did you mean 'management'?"))
    }

    @Test("a node without a stop command names the node's line and key")
    func missingStop() {
        let (e, d) = failure(replacing("    stop:  ssh rabbit2 sudo systemctl stop rabbitmq-server\n", ""))
        #expect(e?.problems.first?.key == "nodes[1].stop")
        #expect(e?.problems.first?.line == 8)
        #expect(d.contains("bad.yaml:8: nodes[1].stop: missing required key 'stop'"))
    }

    @Test("a node name without a host, a bad URL and a duplicate node are each reported")
    func badNodeFields() {
        var yaml = replacing("  - name: rabbit@rabbit1", "  - name: rabbit1")
        yaml = yaml.replacingOccurrences(of: "http://rabbit1:15672", with: "rabbit1:15672")
        let (e, d) = failure(yaml)
        #expect(e?.problems.count == 2)
        #expect(d.contains("bad.yaml:3: nodes[0].name: node name 'rabbit1' is not of the form name@host"))
        #expect(d.contains("bad.yaml:4: nodes[0].management: 'rabbit1:15672' is not an http(s) URL"))
        let (e2, d2) = failure(replacing("  - name: rabbit@rabbit2", "  - name: rabbit@rabbit1"))
        #expect(e2?.problems.first?.key == "nodes[1].name")
        #expect(d2.contains("listed twice"))
    }

    @Test("a password written in the file is refused with the way to pass it")
    func literalPassword() {
        let (e, d) = failure(replacing("  password_env: RABBITMQ_PASSWORD", "  password: hunter2hunter2"))
        #expect(e?.problems.contains { $0.key == "management.password" && $0.line == 17 } == true)
        #expect(d.contains("credentials must not be written in the inventory"))
        #expect(d.contains("password_env: VARIABLE"))
        let (e2, _) = failure(replacing("  user_env: RABBITMQ_USER", "  user_env: some value"))
        #expect(e2?.problems.contains { $0.key == "management.user_env" && $0.line == 16 } == true)
    }

    @Test("nodes of the wrong type and a YAML syntax error name their line")
    func wrongTypes() {
        let (e, d) = failure("cluster: x\nnodes: rabbit@a\ncli: {}\n")
        #expect(e?.problems.first?.key == "nodes")
        #expect(d.contains("bad.yaml:2: nodes: 'nodes' must be a non-empty list"))
        let (e2, d2) = failure("cluster: x\nnodes:\n  - name: [unclosed\n")
        #expect(e2?.problems.first?.line != nil)
        #expect(d2.contains("bad.yaml:"))
        #expect(d2.contains("not valid YAML"))
        let (e3, _) = failure("- just\n- a list\n")
        #expect(e3?.problems.first?.line == 1)
    }

    @Test("the redactor hides the cookie, the password, listed secrets and Authorization headers")
    func redactor() throws {
        let dir = NSTemporaryDirectory() + "warren-redact-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "COOKIEVALUEXYZ\n".write(toFile: dir + "/.erlang.cookie", atomically: true, encoding: .utf8)
        var inv = try Inventory.parse(Self.valid)
        inv.cliEnv["HOME"] = dir
        let env = ["RABBITMQ_USER": "admin", "RABBITMQ_PASSWORD": "s3cretpass", "EXTRA_TOKEN": "tok-123456"]
        let r = Redactor(inventory: inv, environment: env)
        let basic = Data("admin:s3cretpass".utf8).base64EncodedString()
        let text = """
        cookie COOKIEVALUEXYZ password s3cretpass token tok-123456 literal-secret-value
        Authorization: Basic \(basic)
        url http://admin:s3cretpass@host:15672/api
        """
        let out = r.redact(text)
        for secret in ["COOKIEVALUEXYZ", "s3cretpass", "tok-123456", "literal-secret-value", basic] {
            #expect(!out.contains(secret))
        }
        #expect(out.contains("cookie *** password ***"))
        #expect(out.contains("Authorization: ***"))
    }

    @Test("an upper-case literal secret, and a cookie in warren's own environment, are redacted too")
    func redactorLiteralsAndEnvironmentCookie() throws {
        var inv = try Inventory.parse(Self.valid)
        inv.cliEnv["HOME"] = "/nonexistent"
        inv.secrets = ["AKIAEXAMPLEKEY42"]
        let r = Redactor(inventory: inv, environment: ["RABBITMQ_ERLANG_COOKIE": "ENVCOOKIE987"])
        let out = r.redact("key AKIAEXAMPLEKEY42 cookie ENVCOOKIE987")
        #expect(out == "key *** cookie ***", "\(out)")
    }

    @Test("the cookie hash matches rabbitmq-diagnostics erlang_cookie_hash")
    func cookieHash() {
        #expect(erlangCookieHash("") == "1B2M2Y8AsgTpgAmY7PhCfg==")
        #expect(Data(md5(Array("The quick brown fox jumps over the lazy dog".utf8))).map { String(format: "%02x", $0) }.joined()
                == "9e107d9d372bb6826bd81d3542a419d6")
    }
}

@Suite("Devcluster and backend without RabbitMQ")
struct NotInstalledTests {
    @Test("devcluster up without RabbitMQ says how to install it")
    func devclusterNotInstalled() {
        let dir = NSTemporaryDirectory() + "warren-notinstalled-\(getpid())"
        #expect {
            try DevCluster.up(nodes: 1, dir: dir, cliPath: "/nonexistent/rabbitmq/bin")
        } throws: { error in
            "\(error)".contains("apt-get install rabbitmq-server")
        }
        #expect(!FileManager.default.fileExists(atPath: dir))
    }

    @Test("the backend with a wrong cli.path says how to install RabbitMQ or fix the path")
    func backendNotInstalled() throws {
        let inv = Inventory(cluster: "x", nodes: [.init(name: "rabbit@nowhere", management: nil, start: "true", stop: "true")],
                            cliPath: "/nonexistent/bin")
        let b = RabbitMQBackend(inventory: inv)
        #expect(try b.ping("rabbit@nowhere") == false)
        let error = try #require(throws: ClusterError.self) { try b.status() }
        #expect(error.message.contains("apt-get install rabbitmq-server"))
        #expect(error.message.contains("cli.path"))
        #expect(b.notices.count == 2)
        #expect(b.notices[0].contains("reads use the CLI tools"))
    }

    @Test("an interrupt ends a running command and its children at once, exit 130")
    func interruptedCommand() throws {
        let dir = NSTemporaryDirectory() + "warren-interrupt-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var asked = 0
        let r = ProcessRunner.run("/bin/sh", ["-c", "sleep 600 & echo $! > '\(dir)/child'; wait"], environment: [:], timeout: 600,
                                  interrupted: {
                                      asked += 1
                                      return FileManager.default.fileExists(atPath: dir + "/child") && asked > 3
                                  })
        #expect(r.interrupted && !r.timedOut && r.exitCode == 130)
        #expect(r.duration < 60, "took \(r.duration) s")
        let child = try #require(Int32(try String(contentsOfFile: dir + "/child", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        // The group got SIGTERM: the sleep is gone (or a zombie waiting for init to reap it).
        let deadline = Date().addingTimeInterval(10)
        func alive() -> Bool {
            guard let stat = try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8) else { return false }
            return !stat.contains(") Z ")
        }
        while alive() && Date() < deadline { usleep(10_000) }
        #expect(!alive(), "sleep \(child) survived the interrupt")
    }

    @Test("an interrupt fails a CLI call and a wait for a node with the interrupted code, not after their timeouts")
    func interruptedBackend() throws {
        let dir = NSTemporaryDirectory() + "warren-interrupt-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for tool in ["rabbitmqctl", "rabbitmq-diagnostics"] {
            try "#!/bin/sh\nexec sleep 600\n".write(toFile: "\(dir)/\(tool)", atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: "\(dir)/\(tool)")
        }
        let node = "warren-interrupt-test@localhost"
        let inv = Inventory(cluster: "x", nodes: [.init(name: node, management: nil, start: "true", stop: "true")], cliPath: dir)
        let b = RabbitMQBackend(inventory: inv)
        var asked = 0
        b.interruptRequested = { asked += 1; return asked > 3 }
        let started = Date()
        let cli = b.cliError("rabbitmqctl", node: node, args: ["await_startup"],
                             b.cli("rabbitmqctl", node: node, ["await_startup", "--timeout", "600"], timeout: 600))
        #expect(cli.code == .interrupted)
        #expect(cli.message.contains("interrupted (Ctrl-C or a signal to stop): `rabbitmqctl -n \(node) await_startup` was stopped"), "\(cli.message)")
        asked = 0
        let wait = try #require(throws: ClusterError.self) { try b.awaitRunning(node, timeout: 600) }
        #expect(wait.code == .interrupted, "\(wait)")
        #expect(Date().timeIntervalSince(started) < 60)
    }

    @Test("the default devcluster directory is under WARREN_STATE, else /tmp")
    func defaultDirectory() {
        #expect(DevCluster.defaultDirectory(environment: ["WARREN_STATE": "/var/st"]) == "/var/st/devcluster")
        #expect(DevCluster.defaultDirectory(environment: [:]).hasPrefix("/tmp/warren-devcluster-"))
    }
}
