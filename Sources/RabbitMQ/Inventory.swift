import Cluster
import Foundation
import Yams

/// A real cluster, as described by an inventory file (YAML; see shared/design/architecture.md).
///
/// ```yaml
/// cluster: prod-eu                  # expected cluster_name; checked before any change
/// nodes:
///   - name: rabbit@rabbit1
///     management: http://rabbit1:15672
///     start: ssh rabbit1 sudo systemctl start rabbitmq-server
///     stop:  ssh rabbit1 sudo systemctl stop rabbitmq-server
///     upgrade: ssh rabbit1 sudo apt-get install -y rabbitmq-server={version}-1   # optional: installs a release
///     env: {}                       # extra environment for the CLI tools and start/stop
///     log: /var/log/rabbitmq/rabbit@rabbit1.log   # optional: shown when a start fails
///     spare: false                  # optional: not (yet) a member; add-node/replace-node use it
///     shell: ssh rabbit1             # optional: runs a command on the node's host; the commands
///                                   # that work on a stopped node's data (force_boot,
///                                   # forget_cluster_node --offline) run through it
/// cli:
///   path: /usr/lib/rabbitmq/bin
///   env: { HOME: /root }            # the CLI reads $HOME/.erlang.cookie
///   cookie_file: /root/.erlang.cookie   # optional; default $HOME/.erlang.cookie of cli.env
/// management:                       # optional
///   user_env: RABBITMQ_USER         # credentials come from the environment, never the file
///   password_env: RABBITMQ_PASSWORD
///   allow_guest: false              # true: use guest/guest when the variables are unset (loopback)
///   timeout: 2                      # seconds per HTTP call before falling back to the CLI
/// secrets: [EXTRA_TOKEN_ENV]        # env variable names (UPPER_CASE) or literal values to redact
/// ```
public struct Inventory: Equatable, Sendable {
    public struct Node: Equatable, Sendable {
        public var name: String
        public var management: String?
        public var start: String
        public var stop: String
        /// Installs a release on the stopped node (`rolling-upgrade`): `{version}` is replaced by
        /// the release, e.g. 3.13.7.
        public var upgrade: String?
        public var env: [String: String]
        public var log: String?
        public var spare: Bool
        /// A command prefix that runs a command on the node's host (`ssh HOST`).
        public var shell: String?
        public init(name: String, management: String?, start: String, stop: String, upgrade: String? = nil,
                    env: [String: String] = [:], log: String? = nil, spare: Bool = false, shell: String? = nil) {
            self.name = name
            self.management = management
            self.start = start
            self.stop = stop
            self.upgrade = upgrade
            self.env = env
            self.log = log
            self.spare = spare
            self.shell = shell
        }

        /// The placeholder of ``upgrade`` that the release replaces.
        public static let versionPlaceholder = "{version}"
    }

    public var path: String?
    public var cluster: String
    public var nodes: [Node]
    public var cliPath: String
    public var cliEnv: [String: String]
    public var cookieFile: String?
    public var userEnv: String?
    public var passwordEnv: String?
    public var allowGuest: Bool
    public var httpTimeout: Double
    public var secrets: [String]

    public init(path: String? = nil, cluster: String, nodes: [Node], cliPath: String = "/usr/lib/rabbitmq/bin",
                cliEnv: [String: String] = [:], cookieFile: String? = nil, userEnv: String? = nil,
                passwordEnv: String? = nil, allowGuest: Bool = false, httpTimeout: Double = 2,
                secrets: [String] = []) {
        self.path = path
        self.cluster = cluster
        self.nodes = nodes
        self.cliPath = cliPath
        self.cliEnv = cliEnv
        self.cookieFile = cookieFile
        self.userEnv = userEnv
        self.passwordEnv = passwordEnv
        self.allowGuest = allowGuest
        self.httpTimeout = httpTimeout
        self.secrets = secrets
    }

    /// The cookie file the CLI tools read: `cli.cookie_file`, else `$HOME/.erlang.cookie` with the
    /// HOME of `cli.env`, else of this process.
    public var effectiveCookieFile: String {
        if let f = cookieFile { return f }
        let home = cliEnv["HOME"] ?? ProcessInfo.processInfo.environment["HOME"] ?? "/root"
        return (home as NSString).appendingPathComponent(".erlang.cookie")
    }

    /// Management credentials from the environment (or guest/guest when allowed and unset).
    public func credentials(environment: [String: String] = ProcessInfo.processInfo.environment) -> (user: String, password: String)? {
        if let u = userEnv, let p = passwordEnv, let user = environment[u], let password = environment[p] {
            return (user, password)
        }
        return allowGuest ? ("guest", "guest") : nil
    }

    // MARK: Loading

    /// Loads and validates an inventory file.
    /// - Throws: ``InventoryError`` naming the file, line and key of every problem found.
    public static func load(path: String) throws -> Inventory {
        guard let data = FileManager.default.contents(atPath: path),
              let text = String(data: data, encoding: .utf8) else {
            throw InventoryError(file: path, problems: [.init(line: nil, key: nil,
                message: "cannot read the file", fix: "check the path and its permissions")])
        }
        return try parse(text, file: path)
    }

    /// Parses and validates inventory YAML; `file` is used in messages.
    public static func parse(_ text: String, file: String = "<inventory>") throws -> Inventory {
        let root: Yams.Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            var line: Int?
            var message = "\(error)"
            switch error {
            case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _), let .composer(_, problem, mark, _):
                line = mark.line
                message = problem
            default: break
            }
            throw InventoryError(file: file, problems: [.init(line: line, key: nil,
                message: "not valid YAML: \(message)", fix: "fix the YAML syntax (indentation, quotes, colons)")])
        }
        var v = Validator(file: file)
        let inv = v.inventory(root)
        if !v.problems.isEmpty { throw InventoryError(file: file, problems: v.problems) }
        var result = inv!
        result.path = file
        return result
    }

    // MARK: Writing

    /// The inventory as YAML, in the format `parse` reads.
    public func yaml() -> String {
        func q(_ s: String) -> String {
            let escaped = s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return "\"\(escaped)\""
        }
        func map(_ m: [String: String]) -> String {
            m.isEmpty ? "{}" : "{ " + m.keys.sorted().map { "\($0): \(q(m[$0]!))" }.joined(separator: ", ") + " }"
        }
        var s = "cluster: \(q(cluster))\nnodes:\n"
        for n in nodes {
            s += "  - name: \(q(n.name))\n"
            if let m = n.management { s += "    management: \(q(m))\n" }
            s += "    start: \(q(n.start))\n    stop: \(q(n.stop))\n"
            if let u = n.upgrade { s += "    upgrade: \(q(u))\n" }
            s += "    env: \(map(n.env))\n"
            if let l = n.log { s += "    log: \(q(l))\n" }
            if n.spare { s += "    spare: true\n" }
            if let sh = n.shell { s += "    shell: \(q(sh))\n" }
        }
        s += "cli:\n  path: \(q(cliPath))\n  env: \(map(cliEnv))\n"
        if let c = cookieFile { s += "  cookie_file: \(q(c))\n" }
        if userEnv != nil || passwordEnv != nil || allowGuest || httpTimeout != 2 {
            s += "management:\n"
            if let u = userEnv { s += "  user_env: \(u)\n" }
            if let p = passwordEnv { s += "  password_env: \(p)\n" }
            if allowGuest { s += "  allow_guest: true\n" }
            s += "  timeout: \(httpTimeout)\n"
        }
        if !secrets.isEmpty { s += "secrets: [" + secrets.map(q).joined(separator: ", ") + "]\n" }
        return s
    }
}

/// Everything wrong with an inventory file, each problem with its line, key and a fix.
public struct InventoryError: Error, CustomStringConvertible, Equatable, Sendable {
    public struct Problem: Equatable, Sendable {
        public var line: Int?
        /// The key path, e.g. `nodes[1].management`.
        public var key: String?
        public var message: String
        public var fix: String
    }
    public var file: String
    public var problems: [Problem]

    public var description: String {
        var lines = ["invalid inventory \(file): \(problems.count) problem\(problems.count == 1 ? "" : "s")"]
        for p in problems {
            var where_ = file
            if let l = p.line { where_ += ":\(l)" }
            if let k = p.key { where_ += ": \(k)" }
            lines.append("  \(where_): \(p.message); fix: \(p.fix)")
        }
        return lines.joined(separator: "\n")
    }
}

private let envNamePattern = try! NSRegularExpression(pattern: "^[A-Za-z_][A-Za-z0-9_]*$")
func isEnvName(_ s: String) -> Bool {
    envNamePattern.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
}
func isUpperEnvName(_ s: String) -> Bool { isEnvName(s) && s == s.uppercased() }

private struct Validator {
    let file: String
    var problems: [InventoryError.Problem] = []

    mutating func problem(_ node: Yams.Node?, _ key: String?, _ message: String, _ fix: String, line: Int? = nil) {
        problems.append(.init(line: line ?? node?.mark?.line, key: key, message: message, fix: fix))
    }

    /// A mapping's entries by key, reporting unknown and duplicate keys.
    mutating func entries(_ node: Yams.Node, path: String, allowed: [String]) -> [String: Yams.Node] {
        var result: [String: Yams.Node] = [:]
        guard let mapping = node.mapping else { return result }
        for (k, value) in mapping {
            guard let key = k.string else {
                problem(k, path, "a key must be a plain string", "write the key as text")
                continue
            }
            let full = path.isEmpty ? key : "\(path).\(key)"
            if !allowed.contains(key) {
                let hint = allowed.min { editDistance($0, key) < editDistance($1, key) }
                let fix = hint.map { editDistance($0, key) <= 3 ? "did you mean '\($0)'?" : "remove it" } ?? "remove it"
                problem(k, full, "unknown key '\(key)' (known: \(allowed.joined(separator: ", ")))", fix)
                continue
            }
            if result[key] != nil { problem(k, full, "duplicate key '\(key)'", "keep only one '\(key)'") }
            result[key] = value
        }
        return result
    }

    mutating func string(_ node: Yams.Node?, _ key: String, required: Bool, parent: Yams.Node?, fix: String) -> String? {
        guard let node = node else {
            if required { problem(parent, key, "missing required key '\(key.split(separator: ".").last ?? "")'", fix) }
            return nil
        }
        guard let s = node.scalar?.string, !s.trimmingCharacters(in: .whitespaces).isEmpty else {
            problem(node, key, node.scalar == nil ? "'\(key)' must be a string" : "'\(key)' is empty", fix)
            return nil
        }
        return s
    }

    mutating func bool(_ node: Yams.Node?, _ key: String) -> Bool {
        guard let node = node else { return false }
        guard let b = node.bool else {
            problem(node, key, "'\(key)' must be true or false", "write \(key): true or \(key): false")
            return false
        }
        return b
    }

    mutating func envMap(_ node: Yams.Node?, _ key: String) -> [String: String] {
        guard let node = node else { return [:] }
        if case .scalar(let s) = node, s.string == "" || s.string == "~" || s.string == "null" { return [:] }
        guard let mapping = node.mapping else {
            problem(node, key, "'\(key)' must be a mapping of variable names to values", "write \(key): { NAME: value }")
            return [:]
        }
        var result: [String: String] = [:]
        for (k, v) in mapping {
            guard let name = k.string, isEnvName(name) else {
                problem(k, key, "'\(k.string ?? "?")' is not an environment variable name", "use letters, digits and _")
                continue
            }
            guard let value = v.scalar?.string else {
                problem(v, "\(key).\(name)", "the value of \(name) must be a string", "quote it")
                continue
            }
            result[name] = value
        }
        return result
    }

    mutating func inventory(_ root: Yams.Node?) -> Inventory? {
        guard let root = root, root.mapping != nil else {
            problem(root, nil, "the inventory must be a YAML mapping with keys cluster, nodes, cli",
                    "start from the example in `warren devcluster up`'s inventory.yaml", line: root?.mark?.line ?? 1)
            return nil
        }
        let top = entries(root, path: "", allowed: ["cluster", "nodes", "cli", "management", "secrets"])
        let cluster = string(top["cluster"], "cluster", required: true, parent: root,
                             fix: "add `cluster: NAME` (the cluster_name that `rabbitmqctl cluster_status` shows)")
        var nodes: [Inventory.Node] = []
        if let list = top["nodes"] {
            if let seq = list.sequence, !seq.isEmpty {
                var seen: [String: Int] = [:]
                for (i, item) in seq.enumerated() {
                    if let n = node(item, index: i) {
                        if let prev = seen[n.name] {
                            problem(item, "nodes[\(i)].name", "node '\(n.name)' is listed twice (first at nodes[\(prev)])", "remove one of them")
                        }
                        seen[n.name] = i
                        nodes.append(n)
                    }
                }
            } else {
                problem(list, "nodes", "'nodes' must be a non-empty list", "list each node as `- name: rabbit@host`")
            }
        } else {
            problem(root, "nodes", "missing required key 'nodes'", "add `nodes:` with one `- name: rabbit@host` entry per node")
        }
        var cliPath = "/usr/lib/rabbitmq/bin"
        var cliEnv: [String: String] = [:]
        var cookieFile: String?
        if let cli = top["cli"] {
            if cli.mapping == nil {
                problem(cli, "cli", "'cli' must be a mapping", "write cli: { path: /usr/lib/rabbitmq/bin, env: {} }")
            } else {
                let c = entries(cli, path: "cli", allowed: ["path", "env", "cookie_file"])
                if let p = string(c["path"], "cli.path", required: false, parent: cli, fix: "give the directory of rabbitmqctl") {
                    cliPath = p
                }
                cliEnv = envMap(c["env"], "cli.env")
                cookieFile = string(c["cookie_file"], "cli.cookie_file", required: false, parent: cli, fix: "give the cookie file's path")
            }
        }
        var userEnv: String?, passwordEnv: String?, allowGuest = false, timeout = 2.0
        if let m = top["management"] {
            if m.mapping == nil {
                problem(m, "management", "'management' must be a mapping", "write management: { user_env: RABBITMQ_USER, password_env: RABBITMQ_PASSWORD }")
            } else {
                let e = entries(m, path: "management", allowed: ["user_env", "password_env", "allow_guest", "timeout", "user", "password"])
                for literal in ["user", "password"] where e[literal] != nil {
                    problem(e[literal], "management.\(literal)", "credentials must not be written in the inventory",
                            "put the value in an environment variable and name it with `\(literal)_env: VARIABLE`")
                }
                for key in ["user_env", "password_env"] {
                    if let s = string(e[key], "management.\(key)", required: false, parent: m, fix: "name an environment variable") {
                        if !isEnvName(s) {
                            problem(e[key], "management.\(key)", "'\(key)' must name an environment variable, not hold a value",
                                    "write the variable's name, e.g. RABBITMQ_PASSWORD, and export the value")
                        } else if key == "user_env" { userEnv = s } else { passwordEnv = s }
                    }
                }
                if (userEnv == nil) != (passwordEnv == nil) {
                    problem(m, "management", "give both user_env and password_env, or neither", "add the missing one")
                }
                allowGuest = bool(e["allow_guest"], "management.allow_guest")
                if let t = e["timeout"] {
                    if let d = t.float, d > 0 { timeout = d } else {
                        problem(t, "management.timeout", "'timeout' must be a positive number of seconds", "write e.g. timeout: 2")
                    }
                }
            }
        }
        var secrets: [String] = []
        if let s = top["secrets"] {
            if let seq = s.sequence {
                for (i, item) in seq.enumerated() {
                    if let v = item.scalar?.string, !v.isEmpty { secrets.append(v) } else {
                        problem(item, "secrets[\(i)]", "each secret must be a non-empty string", "write a variable name or a value")
                    }
                }
            } else {
                problem(s, "secrets", "'secrets' must be a list", "write secrets: [NAME_OF_VARIABLE]")
            }
        }
        guard problems.isEmpty, let name = cluster else { return nil }
        return Inventory(cluster: name, nodes: nodes, cliPath: cliPath, cliEnv: cliEnv, cookieFile: cookieFile,
                         userEnv: userEnv, passwordEnv: passwordEnv, allowGuest: allowGuest, httpTimeout: timeout,
                         secrets: secrets)
    }

    mutating func node(_ item: Yams.Node, index i: Int) -> Inventory.Node? {
        let path = "nodes[\(i)]"
        guard item.mapping != nil else {
            problem(item, path, "each node must be a mapping", "write `- name: rabbit@host` with start and stop")
            return nil
        }
        let e = entries(item, path: path, allowed: ["name", "management", "start", "stop", "upgrade", "env", "log", "spare", "shell"])
        let name = string(e["name"], "\(path).name", required: true, parent: item, fix: "add `name: rabbit@host`")
        if let n = name, !n.contains("@") || n.hasPrefix("@") || n.hasSuffix("@") {
            problem(e["name"], "\(path).name", "node name '\(n)' is not of the form name@host", "write e.g. rabbit@\(n)")
        }
        let mgmt = string(e["management"], "\(path).management", required: false, parent: item, fix: "write e.g. http://host:15672")
        if let m = mgmt {
            let u = URL(string: m)
            if u == nil || !(u!.scheme == "http" || u!.scheme == "https") || u!.host == nil {
                problem(e["management"], "\(path).management", "'\(m)' is not an http(s) URL", "write e.g. http://host:15672")
            }
        }
        let start = string(e["start"], "\(path).start", required: true, parent: item,
                           fix: "add the command that starts the node, e.g. `start: ssh host sudo systemctl start rabbitmq-server`")
        let stop = string(e["stop"], "\(path).stop", required: true, parent: item,
                          fix: "add the command that stops the node, e.g. `stop: ssh host sudo systemctl stop rabbitmq-server`")
        let upgrade = string(e["upgrade"], "\(path).upgrade", required: false, parent: item,
                             fix: "give the command that installs a release on the stopped node, e.g. `upgrade: ssh host sudo apt-get install -y rabbitmq-server={version}-1`")
        if let u = upgrade, !u.contains(Inventory.Node.versionPlaceholder) {
            problem(e["upgrade"], "\(path).upgrade", "the upgrade command does not contain \(Inventory.Node.versionPlaceholder)",
                    "write \(Inventory.Node.versionPlaceholder) where the release to install goes, e.g. rabbitmq-server={version}-1")
        }
        let env = envMap(e["env"], "\(path).env")
        let log = string(e["log"], "\(path).log", required: false, parent: item, fix: "give the node's log file path")
        let spare = bool(e["spare"], "\(path).spare")
        let shell = string(e["shell"], "\(path).shell", required: false, parent: item,
                           fix: "give the command that runs a command on the node's host, e.g. `shell: ssh host`")
        guard let n = name, let s = start, let t = stop else { return nil }
        return Inventory.Node(name: n, management: mgmt, start: s, stop: t, upgrade: upgrade, env: env, log: log, spare: spare, shell: shell)
    }
}

func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var prev = Array(0...b.count)
    for i in 1...a.count {
        var cur = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        prev = cur
    }
    return prev[b.count]
}
