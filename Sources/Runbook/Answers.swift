import Foundation

/// Scripted answers (`--answers FILE`): one answer per line, in order, or keyed to a step id.
///
/// ```
/// # comments and blank lines are ignored
/// yes                       # the next question, whatever step asks it
/// restart-rabbit-n2: no     # the next question of step restart-rabbit-n2
/// restart-rabbit-n3#unsafe: yes   # the separate confirmation of an {unsafe = true} call
/// ```
public struct AnswerScript: Sendable {
    public struct Entry: Sendable, Equatable {
        public var step: String?
        public var answer: String
        public var line: Int
    }

    public let path: String
    public private(set) var entries: [Entry]
    private var used: Set<Int> = []

    public init(path: String) throws {
        // Read through a handle: a pipe (`--answers <(...)`) has no size to read up to.
        guard let data = FileHandle(forReadingAtPath: path).flatMap({ try? $0.readToEnd() ?? Data() }) else {
            throw RunbookError.usage("cannot read the answers file '\(path)'")
        }
        try self.init(text: String(decoding: data, as: UTF8.self), path: path)
    }

    public init(text: String, path: String) throws {
        self.path = path
        var entries: [Entry] = []
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            // A comment starts with '#' at the beginning of a line or after a blank ("step#unsafe" is a key).
            var line = String(raw)
            if line.trimmingCharacters(in: .whitespaces).hasPrefix("#") { continue }
            if let r = line.range(of: " #") ?? line.range(of: "\t#") { line = String(line[..<r.lowerBound]) }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            if let colon = trimmed.firstIndex(of: ":") {
                let step = trimmed[..<colon].trimmingCharacters(in: .whitespaces)
                let answer = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                guard !step.isEmpty, !answer.isEmpty else {
                    throw RunbookError.usage("\(path):\(i + 1): expected 'ANSWER' or 'STEP-ID: ANSWER', got '\(trimmed)'")
                }
                entries.append(Entry(step: step, answer: answer, line: i + 1))
            } else {
                entries.append(Entry(step: nil, answer: trimmed, line: i + 1))
            }
        }
        self.entries = entries
    }

    /// The next unused answer for a question of this step (`#unsafe` for unsafe confirmations):
    /// an entry keyed to it first, else the next unkeyed entry.
    public mutating func next(step: String, unsafe: Bool = false) -> Entry? {
        let key = unsafe ? step + "#unsafe" : step
        if let i = entries.indices.first(where: { !used.contains($0) && entries[$0].step == key }) {
            used.insert(i)
            return entries[i]
        }
        if unsafe { return nil }
        if let i = entries.indices.first(where: { !used.contains($0) && entries[$0].step == nil }) {
            used.insert(i)
            return entries[i]
        }
        return nil
    }

    /// Keyed entries that name a step the runbook does not have.
    public func unknownSteps(known: Set<String>) -> [Entry] {
        entries.filter { e in
            guard let s = e.step else { return false }
            let base = s.hasSuffix("#unsafe") ? String(s.dropLast(7)) : s
            return !known.contains(base)
        }
    }
}
