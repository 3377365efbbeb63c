/// The text side of Tab completion: which word is completed, what is inserted, how a list looks.
public enum Completion {
    /// Whitespace, quotes, brackets and operators; `.`, `:`, `_` and `-` stay in the word.
    public static let defaultWordBreakCharacters: Set<Character> =
        Set(" \t\n\"'`()[]{},;=+*/%^#<>~&|")

    /// The word being completed: the trailing run of `line` without break characters.
    public static func word(before line: String, breaks: Set<Character>) -> String {
        var start = line.endIndex
        while start > line.startIndex {
            let previous = line.index(before: start)
            if breaks.contains(line[previous]) { break }
            start = previous
        }
        return String(line[start...])
    }

    /// Drops empty and repeated candidates, keeping the caller's order.
    static func unique(_ candidates: [String]) -> [String] {
        var seen = Set<String>()
        return candidates.filter { !$0.isEmpty && seen.insert($0).inserted }
    }

    /// The longest prefix, in Unicode scalars, shared by every candidate.
    static func longestCommonPrefix(_ candidates: [String]) -> String {
        guard var prefix = candidates.first.map({ Array($0.unicodeScalars) }) else { return "" }
        for candidate in candidates.dropFirst() {
            let scalars = Array(candidate.unicodeScalars)
            var shared = 0
            while shared < min(prefix.count, scalars.count), prefix[shared] == scalars[shared] { shared += 1 }
            prefix.removeSubrange(shared...)
        }
        return String(String.UnicodeScalarView(prefix))
    }

    /// Candidates in columns that fit `width`, sorted down then across like ls; each row ends
    /// with a newline.
    static func columns(_ candidates: [String], width: Int) -> String {
        guard !candidates.isEmpty else { return "" }
        let cellWidth = (candidates.map(\.count).max() ?? 0) + 2
        let columnCount = max(1, width / cellWidth)
        let rowCount = (candidates.count + columnCount - 1) / columnCount
        var out = ""
        for row in 0..<rowCount {
            var line = ""
            for column in 0..<columnCount {
                let index = column * rowCount + row
                guard index < candidates.count else { break }
                let cell = candidates[index]
                let isLast = (column + 1) * rowCount + row >= candidates.count
                line += isLast ? cell : cell + String(repeating: " ", count: cellWidth - cell.count)
            }
            out += line + "\n"
        }
        return out
    }
}
