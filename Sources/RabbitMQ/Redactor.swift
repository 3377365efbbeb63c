import Foundation

/// Replaces every secret value with `***`: the Erlang cookie's contents, the management password,
/// the inventory's `secrets` (environment variable names whose values are redacted, or literal
/// values), `Authorization` headers, and credentials embedded in URLs. Use it on anything written
/// (journal, recording, report).
public struct Redactor: Sendable {
    /// The literal values to hide, longest first (so that a secret containing another is hidden whole).
    public private(set) var values: [String]

    public init(values: [String]) {
        // Very short values would mangle ordinary text; a cookie or password is never that short.
        self.values = Array(Set(values.filter { $0.count >= 4 })).sorted { $0.count > $1.count }
    }

    /// The secrets of an inventory, read from the environment and the cookie file.
    public init(inventory: Inventory, environment: [String: String] = ProcessInfo.processInfo.environment) {
        var v: [String] = []
        if let cookie = try? String(contentsOfFile: inventory.effectiveCookieFile, encoding: .utf8) {
            v.append(cookie.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        for env in [inventory.cliEnv] + inventory.nodes.map(\.env) {
            if let c = env["RABBITMQ_ERLANG_COOKIE"] { v.append(c) }
        }
        if let p = inventory.passwordEnv, let value = environment[p] {
            v.append(value)
            // Basic auth carries it base64-encoded.
            if let u = inventory.userEnv, let user = environment[u] {
                v.append(Data("\(user):\(value)".utf8).base64EncodedString())
            }
        }
        for s in inventory.secrets {
            if isUpperEnvName(s) {
                if let value = environment[s] { v.append(value) }
            } else {
                v.append(s)
            }
        }
        self.init(values: v)
    }

    public func adding(_ more: [String]) -> Redactor { Redactor(values: values + more) }

    private static let patterns: [NSRegularExpression] = [
        try! NSRegularExpression(pattern: "(?i)(authorization:\\s*)(basic|bearer)?\\s*[^\\s\"',}]+"),
        try! NSRegularExpression(pattern: "(?i)(\\w+://[^/\\s:@]+:)[^@\\s/]+(@)"),
        try! NSRegularExpression(pattern: "(?i)(-setcookie\\s+)\\S+"),
        try! NSRegularExpression(pattern: "(?i)(RABBITMQ_ERLANG_COOKIE=)\\S+"),
    ]

    /// The text with every secret replaced by `***`.
    public func redact(_ text: String) -> String {
        var out = text
        for v in values where out.contains(v) {
            out = out.replacingOccurrences(of: v, with: "***")
        }
        for (i, re) in Redactor.patterns.enumerated() {
            let template = i == 0 ? "$1***" : i == 1 ? "$1***$2" : "$1***"
            out = re.stringByReplacingMatches(in: out, range: NSRange(out.startIndex..., in: out), withTemplate: template)
        }
        return out
    }
}
