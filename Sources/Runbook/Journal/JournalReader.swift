import Foundation

/// Reads a journal. A torn last line (a crash mid-write) is ignored; any other bad line is an
/// error naming the line.
public enum JournalReader {
    public static func read(_ path: String) throws -> [JournalEntry] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw JournalError(path: path, line: nil, reason: "cannot read the journal (missing or unreadable)")
        }
        let text = String(decoding: data, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let endsWithNewline = text.hasSuffix("\n")
        if lines.last == "" { lines.removeLast() }
        let decoder = JSONDecoder()
        var entries: [JournalEntry] = []
        for (i, line) in lines.enumerated() {
            let isLast = i == lines.count - 1
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            do {
                entries.append(try decoder.decode(JournalEntry.self, from: Data(line.utf8)))
            } catch {
                if isLast && !endsWithNewline { break }  // torn last line
                throw JournalError(path: path, line: i + 1, reason: "not a journal entry (\(describe(error)))")
            }
        }
        guard let first = entries.first else {
            throw JournalError(path: path, line: nil, reason: "the journal is empty: the session was stopped before it began")
        }
        guard first.kind == .sessionStart else {
            throw JournalError(path: path, line: 1, reason: "the journal does not begin with a session_start entry")
        }
        return entries
    }

    private static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let ctx):
            if let e = ctx.underlyingError as? JournalEntry.Incomplete { return e.description }
            return "invalid JSON"
        case DecodingError.keyNotFound(let key, _): return "missing key '\(key.stringValue)'"
        case DecodingError.typeMismatch(_, let ctx): return "wrong type at '\(ctx.codingPath.map(\.stringValue).joined(separator: "."))'"
        case let e as JournalEntry.Incomplete: return e.description
        default: return "invalid entry"
        }
    }
}
