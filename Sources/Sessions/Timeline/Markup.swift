import Cluster

/// Text from the journal (names from the cluster, runbook titles, answers) made safe to put in
/// HTML and SVG: secrets hidden, markup characters escaped, control characters shown as `\xHH`
/// (they are not allowed in XML, and a terminal escape sequence in a queue name must not act).
struct Markup {
    let redactor: Redactor

    func callAsFunction(_ s: String) -> String {
        Markup.escape(redactor.redact(s))
    }

    static func escape(_ s: String) -> String {
        // Most text needs nothing: check before building a copy.
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f || $0 == 0x26 || $0 == 0x3c || $0 == 0x3e || $0 == 0x22 || $0 == 0x27 || $0 == 0xc2 }) {
            return s
        }
        var out = ""
        out.reserveCapacity(s.utf8.count + 16)
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                if u.value < 0x20 || (0x7f...0x9f).contains(u.value) {
                    out += "\\x" + hex(u.value)
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out
    }

    private static func hex(_ v: UInt32) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(v >> 4)], digits[Int(v & 0xf)]])
    }

    /// A coordinate with one decimal, without `String(format:)` (a timeline draws thousands).
    static func number(_ x: Double) -> String {
        let tenths = Int((x * 10).rounded())
        let sign = tenths < 0 ? "-" : ""
        let a = abs(tenths)
        return a % 10 == 0 ? sign + String(a / 10) : sign + String(a / 10) + "." + String(a % 10)
    }
}
