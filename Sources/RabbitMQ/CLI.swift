import Cluster
import Foundation

/// Running the CLI tools (`rabbitmqctl`, `rabbitmq-diagnostics`, `rabbitmq-queues`,
/// `rabbitmq-upgrade`) and reading their answers.
extension RabbitMQBackend {
    // MARK: Running the CLI

    func cliEnvironment(for node: String?) -> [String: String] {
        var env = environment
        for (k, v) in inventory.cliEnv { env[k] = v }
        if let n = node { for (k, v) in entry(n).env { env[k] = v } }
        return env
    }

    /// Runs a CLI tool; never throws (see ``cliChecked``). A node whose host does not resolve
    /// or does not answer is not asked: the result is exit 69 with the reason, at once.
    /// - Parameter recordOutput: false for a command whose output may hold secrets (`environment`
    ///   prints the node's configuration, passwords included): its record has no output.
    @discardableResult
    func cli(_ tool: String, node: String?, _ args: [String], json: Bool = false, timeout: Double? = nil,
             recordOutput: Bool = true) -> ProcessResult {
        var argv: [String] = []
        if let n = node { argv += ["-n", n] }
        argv += args
        if json { argv += ["--formatter", "json"] }
        let exe = (inventory.cliPath as NSString).appendingPathComponent(tool)
        if let missing = missingTool(tool) { return missing }
        if let n = node, let reason = unreachableReason(n) {
            let result = ProcessResult(exitCode: 69, stdout: "", stderr: reason, duration: 0, timedOut: false)
            record(CommandRecord(kind: .cli, argv: [exe] + argv, exitCode: 69, duration: 0, output: result.stderr, timedOut: false))
            return result
        }
        let limit = timeout ?? cliTimeout
        let result = waiting("\(tool) \(args.first ?? "")" + (node.map { " on \($0)" } ?? ""), limit: limit) {
            ProcessRunner.run(exe, argv, environment: cliEnvironment(for: node), timeout: limit, interrupted: interruptRequested)
        }
        record(CommandRecord(kind: .cli, argv: [exe] + argv, exitCode: result.exitCode, duration: result.duration,
                             output: recordOutput ? result.combined : "", timedOut: result.timedOut))
        return result
    }

    /// Exit 127 when the tool is not installed at the inventory's `cli.path`: said before anything
    /// about a node, since no probe of a host can help it.
    func missingTool(_ tool: String) -> ProcessResult? {
        let exe = (inventory.cliPath as NSString).appendingPathComponent(tool)
        if FileManager.default.isExecutableFile(atPath: exe) { return nil }
        return ProcessResult(exitCode: 127, stdout: "", stderr: "\(exe) not found", duration: 0, timedOut: false)
    }

    /// Runs a CLI tool and maps a failure to a ``ClusterError`` with the tool's own message.
    @discardableResult
    func cliChecked(_ tool: String, node: String?, _ args: [String], json: Bool = false, timeout: Double? = nil) throws -> ProcessResult {
        let r = cli(tool, node: node, args, json: json, timeout: timeout)
        if r.exitCode == 0 { return r }
        throw cliError(tool, node: node, args: args, r)
    }

    func cliError(_ tool: String, node: String?, args: [String], _ r: ProcessResult) -> ClusterError {
        let what = ([tool] + (node.map { ["-n", $0] } ?? []) + args).joined(separator: " ")
        if r.interrupted { return Self.interrupted("`\(what)` was stopped before it finished", node: node) }
        if r.timedOut {
            return ClusterError(.timeout, "timed out: `\(what)` did not finish within \(Int(r.duration.rounded())) s and was stopped", node: node)
        }
        if r.exitCode == 127 {
            return ClusterError(.unavailable, "cannot run \(tool) from \(inventory.cliPath): \(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines)). "
                + "Install RabbitMQ (`apt-get install rabbitmq-server`) or fix `cli.path` in the inventory.", node: node)
        }
        var message = cleanCLIMessage(r.combined)
        if message.isEmpty { message = "`\(what)` failed with exit code \(r.exitCode)" }
        if Self.isCookieMismatch(r.combined) {
            message += "\nThe CLI tools read the Erlang cookie from \(inventory.effectiveCookieFile) (HOME=\(cliEnvironment(for: node)["HOME"] ?? "?")); "
                + "it must hold the same cookie as the nodes. Its value is not shown."
        }
        let code = ClusterError.Code(rawValue: r.exitCode) ?? .software
        return ClusterError(code, redactor.redact(message), node: node)
    }

    /// Whether the CLI reached the node's port but was refused: a cookie mismatch.
    static func isCookieMismatch(_ output: String) -> Bool {
        output.contains("Erlang distribution failed") || output.contains("check if the Erlang cookie is identical")
    }

    /// Whether the CLI could not reach the node at all (VM down, host unreachable, cookie).
    /// A command that needs the app refused on a node whose app is stopped (3.10.8: exit 64,
    /// "this command requires the 'rabbit' app to be running on the target node").
    static func appNotRunning(_ output: String) -> Bool {
        output.contains("requires the 'rabbit' app to be running")
    }

    static func isUnreachable(_ output: String) -> Bool {
        output.contains("DIAGNOSTICS") || output.contains("Failed to connect and authenticate")
    }

    /// The CLI's message without the usage text and the "Arguments given" noise; for a node that
    /// cannot be reached, the first line and the diagnostics about that node only.
    func cleanCLIMessage(_ text: String) -> String {
        let all = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if let d = all.firstIndex(of: "DIAGNOSTICS") {
            let first = all.first { $0.hasPrefix("Error") } ?? all[0]
            let end = all[d...].firstIndex { $0.hasPrefix("Current node details") } ?? all.endIndex
            let details = all[d..<end].filter { $0.hasPrefix("  *") || $0.hasPrefix("   ") }
                .map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.contains("see the CLI, clustering and networking guides") && !$0.contains("TLS") }
            return ([first.replacingOccurrences(of: " Please see diagnostics information and suggestions below.", with: "")] + details)
                .joined(separator: "\n")
        }
        var lines: [String] = []
        for l in all {
            if l.contains("Usage") { break }
            if l.hasPrefix("Arguments given") || l.hasPrefix("\t-n ") { continue }
            lines.append(l)
        }
        let joined = lines.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        let capped = joined.split(separator: "\n", omittingEmptySubsequences: false).prefix(30).joined(separator: "\n")
        return capped.replacingOccurrences(of: "Error:\n", with: "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The JSON document of type T in a CLI's output. It may be preceded by log or error lines,
    /// and some commands print it on standard error when they fail: the whole text is tried, then
    /// from each line that opens a document.
    func decode<T: Decodable>(_ type: T.Type, _ r: ProcessResult) throws -> T {
        let decoder = JSONDecoder()
        for text in [r.stdout, r.stderr] {
            if let v = try? decoder.decode(T.self, from: Data(text.utf8)) { return v }
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                guard line.first == "{" || line.first == "[" else { continue }
                if let v = try? decoder.decode(T.self, from: Data(text[line.startIndex...].utf8)) { return v }
            }
        }
        throw ClusterError(.software, "could not parse the CLI's JSON output: \(redactor.redact(String(r.combined.prefix(300))))")
    }

    /// Runs a read on the first node whose VM answers; exit 69/78 (down, cookie) moves on to the next.
    func cliOnAnyNode(_ tool: String, _ args: [String], json: Bool = true, prefer: [String] = []) throws -> (node: String, result: ProcessResult) {
        var errors: [(ClusterError, ProcessResult)] = []
        if let missing = missingTool(tool) { throw cliError(tool, node: nil, args: args, missing) }
        let order = prefer + orderedNodes.map(\.name).filter { !prefer.contains($0) }
        probeHosts()
        for n in order {
            if !vmMayRun(n) {
                let why = unreachableReason(n) ?? "\(n) is not running (epmd on \(Self.host(of: n)) does not list it)"
                errors.append((ClusterError(.unavailable, why, node: n), ProcessResult(exitCode: 69, stdout: "", stderr: "", duration: 0, timedOut: false)))
                continue
            }
            let r = cli(tool, node: n, args, json: json, timeout: min(cliTimeout, 30))
            if r.exitCode == 0 { return (n, r) }
            var err = cliError(tool, node: n, args: args, r)
            if Self.appNotRunning(r.combined) {
                // The node's VM answers but its app does not run: another node may answer.
                err.code = .unavailable
            } else if ![69, 75, 78, -1].contains(r.exitCode) {
                throw err
            }
            errors.append((err, r))
        }
        // A cookie mismatch explains more than "node down"; else the first (a member's) error.
        guard let chosen = errors.first(where: { Self.isCookieMismatch($0.1.combined) }) ?? errors.first else {
            throw ClusterError(.unavailable, "the inventory of \(inventory.cluster) lists no node")
        }
        var e = chosen.0
        e.message = "no node of \(inventory.cluster) answered `\(tool) \(args.joined(separator: " "))`; \(chosen.0.node ?? "?"): " + e.message
        throw e
    }

    /// What epmd on the node's host answers now; remembered for ``unreachableReason(_:)``.
    func epmdAnswer(_ node: String) -> EpmdAnswer {
        let host = Self.host(of: node)
        let port = cliEnvironment(for: node)["ERL_EPMD_PORT"].flatMap(Int.init) ?? 4369
        let answer = epmd(host: host, port: port)
        reachability.note(host, answer)
        return answer
    }

    /// Whether epmd on the node's host lists the node (its VM is up: it registers as soon as its
    /// distribution listener runs, and is gone the moment the VM exits); nil when epmd cannot be
    /// asked. One TCP round trip, against 0.5-1 s for a CLI call.
    func epmdRegistered(_ node: String) -> Bool? {
        guard case .names(let names) = epmdAnswer(node) else { return nil }
        return names.contains(String(node.split(separator: "@").first ?? ""))
    }

    /// False when no VM can be running the node: epmd on its host answers without it, nothing
    /// listens there, the host does not answer within the time box, or its name does not resolve.
    /// Lets reads skip a down node without a CLI call.
    func vmMayRun(_ node: String) -> Bool {
        switch reachability.recentSilence(Self.host(of: node)) ?? epmdAnswer(node) {
        case .names(let names): return names.contains(String(node.split(separator: "@").first ?? ""))
        case .refused, .silent, .unresolved: return false
        }
    }

    /// Why a CLI call to the node cannot succeed, known without running it: its host does not
    /// resolve, or did not answer on the epmd port a moment ago. The CLI itself would take up to
    /// a minute to say so.
    func unreachableReason(_ node: String) -> String? {
        let host = Self.host(of: node)
        let answer = reachability.recent(host) ?? epmdAnswer(node)
        switch answer {
        case .unresolved: return "\(host) does not resolve (no answer from DNS within \(Int(Resolver.timeout)) s); nothing was sent to \(node)"
        case .silent: return "\(host) does not answer (no reply on the epmd port within 1 s: host down, or a firewall); nothing was sent to \(node)"
        case .names, .refused: return nil
        }
    }

    /// Probes every node's host side by side (DNS and epmd, at most a few seconds in all), so
    /// that a read over several down hosts pays the time box once, not once per host.
    func probeHosts() {
        let names = orderedNodes.map(\.name).filter { reachability.recent(Self.host(of: $0)) == nil }
        if names.count < 2 { return }
        inParallel(names.count) { [self] in _ = epmdAnswer(names[$0]) }
    }

    static func host(of node: String) -> String { String(node.split(separator: "@").last ?? "") }

    /// Whether the node's own management API answers (only a booted node serves it).
    func managementAnswers(_ node: String) -> Bool {
        guard let base = entry(node).management,
              let o = try? http.get(BrokerAnswer.Overview.self, base: base, path: "/api/overview") else { return false }
        return o.node == node
    }

    /// Whether the node's rabbit application runs (not only its VM): epmd first, so a node with no
    /// VM costs no CLI call, then its management API, then `rabbitmq-diagnostics check_running`.
    func appRuns(_ node: String) -> Bool {
        if !vmMayRun(node) { return false }
        if managementAnswers(node) { return true }
        return cli("rabbitmq-diagnostics", node: node, ["check_running"], timeout: 30).exitCode == 0
    }

    /// The first node other than `excluding` whose application runs, for commands that must run
    /// on a live member (the queue commands refuse a node whose app is stopped).
    func executor(excluding: String? = nil) throws -> String {
        for n in orderedNodes.map(\.name) where n != excluding {
            if appRuns(n) { return n }
        }
        throw ClusterError(.unavailable, "no node of \(inventory.cluster) runs the rabbit application" + (excluding.map { " (other than \($0))" } ?? ""))
    }

}

/// The text without ANSI escape sequences (the CLI colours some values, e.g. `maintenance_status`).
func stripANSI(_ text: String) -> String {
    var out = ""
    var inEscape = false
    for scalar in text.unicodeScalars {
        if inEscape {
            if (0x40...0x7e).contains(scalar.value) && scalar != "[" { inEscape = false }
            continue
        }
        if scalar == "\u{1B}" { inEscape = true; continue }
        out.unicodeScalars.append(scalar)
    }
    return out
}
