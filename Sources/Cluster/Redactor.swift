import Foundation

/// Replaces secrets with `***` in any text before it is shown, journaled or recorded: the values
/// it is given (the Erlang cookie, passwords and their Basic-auth form, the inventory's listed
/// secrets), and by pattern `Authorization` headers, credentials inside URLs, `-setcookie` and
/// `RABBITMQ_ERLANG_COOKIE=` arguments.
public struct Redactor: Sendable {
    /// The literal values hidden, longest first (a secret containing another is hidden whole).
    public private(set) var secrets: [String] = []

    public init(secrets: [String] = []) {
        for s in secrets { add(s) }
    }

    /// Adds a secret value; values shorter than 4 characters are ignored (they would mask ordinary text).
    public mutating func add(_ secret: String) {
        let s = secret.trimmingCharacters(in: .whitespacesAndNewlines)
        guard s.count >= 4, !secrets.contains(s) else { return }
        secrets.append(s)
        // The same secret as it appears inside a JSON string (journals are JSON lines).
        let escaped = s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        if escaped != s, !secrets.contains(escaped) { secrets.append(escaped) }
        secrets.sort { $0.count > $1.count }
    }

    /// A copy that also hides `more`.
    public func adding(_ more: [String]) -> Redactor {
        var r = self
        for s in more { r.add(s) }
        return r
    }

    /// Each pattern runs only when its trigger occurs in the text (redaction runs on every line of
    /// output, so the common case must cost a few substring checks).
    private static let patterns: [(trigger: String, regex: NSRegularExpression, template: String)] = [
        ("uthorization", try! NSRegularExpression(pattern: "(?i)(authorization[\"']?\\s*[:=]\\s*[\"']?)(basic\\s+|bearer\\s+)?[^\\s\"',}]+"), "$1***"),
        ("://", try! NSRegularExpression(pattern: "(?i)(\\w+://[^/\\s:@]+:)[^@\\s/]+(@)"), "$1***$2"),
        ("setcookie", try! NSRegularExpression(pattern: "(?i)(-setcookie\\s+)\\S+"), "$1***"),
        ("ERLANG_COOKIE=", try! NSRegularExpression(pattern: "(?i)(RABBITMQ_ERLANG_COOKIE=)\\S+"), "$1***"),
    ]

    /// A byte scan without allocation: `range(of:options: .caseInsensitive)` costs microseconds
    /// per call, and redaction runs on every chunk of output. (Folding with `| 0x20` also matches
    /// a few control bytes to punctuation; a false match only runs the pattern for nothing.)
    public static func containsIgnoringASCIICase(_ text: String, _ needle: String) -> Bool {
        find(text, needle) { $0 | 0x20 == $1 | 0x20 }
    }

    /// Whether `text` contains `needle`, byte for byte.
    static func containsExactly(_ text: String, _ needle: String) -> Bool {
        find(text, needle) { $0 == $1 }
    }

    private static func find(_ text: String, _ needle: String, _ same: (UInt8, UInt8) -> Bool) -> Bool {
        var text = text, needle = needle
        return text.withUTF8 { t in
            needle.withUTF8 { n in
                guard !n.isEmpty else { return true }
                guard t.count >= n.count else { return false }
                for i in 0...(t.count - n.count) where same(t[i], n[0]) {
                    var j = 1
                    while j < n.count && same(t[i + j], n[j]) { j += 1 }
                    if j == n.count { return true }
                }
                return false
            }
        }
    }

    /// The text with every secret replaced by `***`.
    public func redact(_ text: String) -> String {
        var out = text
        for s in secrets where Redactor.containsExactly(out, s) {
            out = out.replacingOccurrences(of: s, with: "***")
        }
        for p in Redactor.patterns where Redactor.containsIgnoringASCIICase(out, p.trigger) {
            out = p.regex.stringByReplacingMatches(in: out, range: NSRange(out.startIndex..., in: out), withTemplate: p.template)
        }
        return out
    }
}
