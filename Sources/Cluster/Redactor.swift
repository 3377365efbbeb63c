/// Replaces secrets (the Erlang cookie, passwords, values the inventory lists) with `***` in any
/// text before it is shown, journaled or recorded.
public struct Redactor: Sendable {
    public private(set) var secrets: [String]

    public init(secrets: [String] = []) {
        self.secrets = []
        for s in secrets { add(s) }
    }

    /// Adds a secret value; values shorter than 4 characters are ignored (they would mask ordinary text).
    public mutating func add(_ secret: String) {
        let s = secret.trimmingWhitespace()
        guard s.count >= 4, !secrets.contains(s) else { return }
        secrets.append(s)
        // The same secret as it appears inside a JSON string (journals are JSON lines).
        let escaped = s.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"")
        if escaped != s, !secrets.contains(escaped) { secrets.append(escaped) }
        secrets.sort { $0.count > $1.count }  // longest first, so a secret inside another is still masked
    }

    public func redact(_ text: String) -> String {
        var out = text
        for s in secrets where out.contains(s) {
            out = out.replacing(s, with: "***")
        }
        if out.contains("uthorization") {
            out = out.replacing(Redactor.authorization) { m in "\(m.output.1)***" }
        }
        return out
    }

    nonisolated(unsafe) static let authorization = try! Regex<(Substring, Substring)>("((?i:authorization)[\"']?\\s*[:=]\\s*[\"']?)[^\"'\\r\\n,}]*")
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
