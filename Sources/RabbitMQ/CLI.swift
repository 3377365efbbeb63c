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

    /// Runs a CLI tool; never throws (see ``cliChecked``).
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
        let result = ProcessRunner.run(exe, argv, environment: cliEnvironment(for: node), timeout: timeout ?? cliTimeout,
                                       interrupted: interruptRequested)
        record(CommandRecord(kind: .cli, argv: [exe] + argv, exitCode: result.exitCode, duration: result.duration,
                             output: recordOutput ? result.combined : "", timedOut: result.timedOut))
        return result
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
        let order = prefer + orderedNodes.map(\.name).filter { !prefer.contains($0) }
        for n in order {
            if !vmMayRun(n) {
                let host = n.split(separator: "@").last.map(String.init) ?? "?"
                errors.append((ClusterError(.unavailable, "\(n) is not running (epmd on \(host) does not list it)", node: n), ProcessResult(exitCode: 69, stdout: "", stderr: "", duration: 0, timedOut: false)))
                continue
            }
            let r = cli(tool, node: n, args, json: json, timeout: min(cliTimeout, 30))
            if r.exitCode == 0 { return (n, r) }
            let err = cliError(tool, node: n, args: args, r)
            if ![69, 75, 78, -1].contains(r.exitCode) { throw err }
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

    /// Whether epmd on the node's host lists the node (its VM is up: it registers as soon as its
    /// distribution listener runs, and is gone the moment the VM exits); nil when epmd cannot be
    /// asked. One TCP round trip, against 0.5-1 s for a CLI call.
    func epmdRegistered(_ node: String) -> Bool? {
        let parts = node.split(separator: "@").map(String.init)
        guard parts.count == 2, let names = epmdNames(host: parts[1]) else { return nil }
        return names.contains(parts[0])
    }

    /// False only when epmd on the node's host answers and does not list the node (no VM there):
    /// lets reads skip a down node without a CLI call.
    func vmMayRun(_ node: String) -> Bool { epmdRegistered(node) ?? true }

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
