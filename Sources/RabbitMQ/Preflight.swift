import Cluster
import Foundation

extension RabbitMQBackend {
    /// The source document's requirements, checked against the inventory and the live cluster.
    /// Never prints the cookie: only whether its hash matches.
    public func preflight() throws -> [PreflightCheck] {
        var checks: [PreflightCheck] = []
        let members = inventory.nodes.filter { !$0.spare }
        // Every host at once: a name server or a host that does not answer costs its time box
        // once, and the checks below skip what cannot answer.
        let hosts = inventory.nodes.map { Self.host(of: $0.name) }
        Resolver.shared.warm(hosts)
        probeHosts()

        // Node count
        switch members.count {
        case 2:
            checks.append(.init(name: "node count", outcome: .warn,
                                detail: "2 nodes: discouraged, no majority survives the loss of either node; use 3"))
        case 1:
            checks.append(.init(name: "node count", outcome: .warn, detail: "1 node: fine for dev/test, no redundancy"))
        case let n where n % 2 == 0:
            checks.append(.init(name: "node count", outcome: .warn, detail: "\(n) nodes: an odd count (3, 5, 7) tolerates as many losses with fewer nodes"))
        default:
            checks.append(.init(name: "node count", outcome: .pass, detail: "\(members.count) nodes (odd)"))
        }

        checks.append(credentialsCheck())

        // Cookie file
        let cookiePath = inventory.effectiveCookieFile
        var cliCookieHash: String?
        if let attrs = try? FileManager.default.attributesOfItem(atPath: cookiePath),
           let mode = (attrs[.posixPermissions] as? NSNumber)?.intValue {
            let ok = mode & 0o077 == 0
            checks.append(.init(name: "cookie file mode", outcome: ok ? .pass : .fail,
                                detail: ok ? "\(cookiePath) is mode \(String(mode, radix: 8))"
                                           : "\(cookiePath) is mode \(String(mode, radix: 8)); run `chmod 600 \(cookiePath)`"))
            if let c = try? String(contentsOfFile: cookiePath, encoding: .utf8) {
                cliCookieHash = erlangCookieHash(c.trimmingCharacters(in: .whitespacesAndNewlines))
            }
        } else {
            checks.append(.init(name: "cookie file mode", outcome: .fail,
                                detail: "\(cookiePath) does not exist or cannot be read; the CLI tools need it (set cli.env HOME or cli.cookie_file)"))
        }

        // Same cookie as the nodes (hashes only)
        for n in inventory.nodes {
            let r = cli("rabbitmq-diagnostics", node: n.name, ["erlang_cookie_hash", "-q"], timeout: 30)
            let nodeHash = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").last.map(String.init)
            if r.exitCode == 0, let h = nodeHash {
                let same = cliCookieHash == nil || cliCookieHash == h
                checks.append(.init(name: "cookie \(n.name)", outcome: same ? .pass : .fail,
                                    detail: same ? "the node's cookie hash matches \(cookiePath)"
                                                 : "the node's cookie hash differs from \(cookiePath)'s; copy the nodes' cookie there (values not shown)"))
            } else if RabbitMQBackend.isCookieMismatch(cli("rabbitmqctl", node: n.name, ["cluster_status"], timeout: 30).combined) {
                checks.append(.init(name: "cookie \(n.name)", outcome: .fail,
                                    detail: "the CLI cannot authenticate to \(n.name): its cookie (\(cookiePath)) differs from the node's (values not shown)"))
            } else {
                checks.append(.init(name: "cookie \(n.name)", outcome: .warn, detail: "\(n.name) does not answer; cookie not compared"))
            }
        }

        // Host names
        for n in inventory.nodes {
            let host = Self.host(of: n.name)
            let ok = hostResolves(host)
            checks.append(.init(name: "hostname \(host)", outcome: ok ? .pass : .fail,
                                detail: ok ? "resolves" : "\(host) does not resolve; add it to DNS or /etc/hosts on every node"))
        }

        // Cluster view: versions, partitions, alarms, listeners
        let raw = try? rawStatus(preferCLI: true)
        checks += inParallel(inventory.nodes.count) { [self] i in
            let n = inventory.nodes[i]
            let host = Self.host(of: n.name)
            var ports: [(String, Int)] = [("epmd", 4369)]
            let listeners = raw?.listeners[n.name] ?? []
            for l in listeners { ports.append((l.protocol, l.port)) }
            if listeners.isEmpty {
                if let d = n.env["RABBITMQ_DIST_PORT"].flatMap(Int.init) { ports.append(("clustering", d)) }
                if let a = n.env["RABBITMQ_NODE_PORT"].flatMap(Int.init) { ports.append(("amqp", a)) }
            }
            if let m = n.management, let u = URL(string: m), let p = u.port, !ports.contains(where: { $0.1 == p }) {
                ports.append(("http", p))
            }
            let resolves = Resolver.shared.addresses(host) != nil
            // A host silent on epmd a moment ago is not asked again port by port.
            let silent = reachability.recent(host) == .silent
            let closed = ports.filter { !resolves || silent || !tcpReachable(host: host, port: $0.1, timeout: 1) }
            return PreflightCheck(name: "ports \(n.name)", outcome: closed.isEmpty ? .pass : .fail,
                                       detail: closed.isEmpty ? ports.map { "\($0.0) \($0.1)" }.joined(separator: ", ") + " reachable"
                                           : "not reachable: " + closed.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
                                             + (!resolves ? " (\(host) does not resolve)" : silent ? " (\(host) does not answer: down, or a firewall between here and it)"
                                                : " (node down, or a firewall between here and \(host))"))
        }
        let cliPorts = (35672...35682).filter { loopbackPortFree($0) }
        checks.append(.init(name: "CLI tool ports", outcome: cliPorts.isEmpty ? .fail : .pass,
                            detail: cliPorts.isEmpty ? "35672-35682 are all taken here; the CLI tools cannot start their distribution"
                                                     : "\(cliPorts.count) of 35672-35682 free here for the CLI tools"))
        if let raw = raw {
            let rv = Set(raw.versions.values.map(\.rabbitmq))
            let ev = Set(raw.versions.values.map { $0.erlang.split(separator: ".").first.map(String.init) ?? $0.erlang })
            let same = rv.count <= 1 && ev.count <= 1
            let detail = raw.versions.keys.sorted().map { "\($0): RabbitMQ \(raw.versions[$0]!.rabbitmq), Erlang \(raw.versions[$0]!.erlang)" }
                .joined(separator: "; ")
            // Mixed releases are expected while a rolling upgrade of warren's is unfinished.
            let underWay = same ? nil : upgradeUnderWay?()
            checks.append(.init(name: "versions", outcome: same ? .pass : (underWay == nil ? .fail : .warn),
                                detail: same ? detail : underWay.map { "mixed versions while \($0.description) (`warren resume \($0.session)`): \(detail)" }
                                    ?? "mixed versions: \(detail); upgrade every node to the same RabbitMQ and Erlang major"))
            checks.append(.init(name: "partitions", outcome: raw.partitions.isEmpty ? .pass : .fail,
                                detail: raw.partitions.isEmpty ? "none" : raw.partitions.map { "\($0.key) cannot see \($0.value.joined(separator: ", "))" }.sorted().joined(separator: "; ")))
            checks.append(.init(name: "alarms", outcome: raw.alarms.isEmpty ? .pass : .fail,
                                detail: raw.alarms.isEmpty ? "none" : raw.alarms.map { "\($0.key): \($0.value.joined(separator: ", "))" }.sorted().joined(separator: "; ")))
            if raw.clusterName != inventory.cluster {
                checks.append(.init(name: "cluster name", outcome: .fail,
                                    detail: "the cluster is named '\(raw.clusterName)', the inventory expects '\(inventory.cluster)'"))
            } else {
                checks.append(.init(name: "cluster name", outcome: .pass, detail: raw.clusterName))
            }
        } else {
            checks.append(.init(name: "cluster status", outcome: .fail, detail: "no node answered cluster_status; versions, partitions and alarms not checked"))
        }
        return checks
    }
}
