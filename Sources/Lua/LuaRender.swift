#if canImport(Glibc)
import Glibc
#endif

/// Renders Lua values as Lua literals, the way the shell prints results.
enum LuaRender {
    static let identifier = try! Regex("^[A-Za-z_][A-Za-z0-9_]*$")
    static let keywords: Set<String> = ["and", "break", "do", "else", "elseif", "end", "false", "for",
        "function", "goto", "if", "in", "local", "nil", "not", "or", "repeat", "return", "then", "true",
        "until", "while"]

    /// A float as Lua prints it: `%.14g`, with `.0` kept on integral values.
    static func number(_ d: Double) -> String {
        if d.isNaN { return d.sign == .minus ? "-nan" : "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        var s = String(format14g(d))
        if !s.contains(where: { $0 == "." || $0 == "e" || $0 == "n" || $0 == "i" }) { s += ".0" }
        return s
    }

    private static func format14g(_ d: Double) -> String {
        var buf = [CChar](repeating: 0, count: 64)
        _ = withVaList([d]) { vsnprintf(&buf, 64, "%.14g", $0) }
        return String(cString: buf)
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20 || u.value == 0x7f: out += "\\\(u.value)"
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    /// Keys in a stable order: numbers first (ascending), then strings, then the rest.
    static func keyOrder(_ a: LuaValue, _ b: LuaValue) -> Bool {
        func rank(_ v: LuaValue) -> Int {
            switch v { case .int, .double: return 0; case .string: return 1; default: return 2 }
        }
        let ra = rank(a), rb = rank(b)
        if ra != rb { return ra < rb }
        switch (a, b) {
        case (.string(let x), .string(let y)): return x < y
        default:
            if let x = a.doubleValue, let y = b.doubleValue { return x < y }
            return false
        }
    }

    static func render(_ v: LuaValue, describe: (AnyObject, String) -> String) -> String {
        render(v, indent: 0, describe: describe)
    }

    private static func render(_ v: LuaValue, indent: Int, describe: (AnyObject, String) -> String) -> String {
        switch v {
        case .nil: return "nil"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return number(d)
        case .string(let s): return quote(s)
        case .function: return "<function>"
        case .object(let o, let type): return describe(o, type)
        case .opaque(let d): return "<\(d)>"
        case .table(let t):
            if t.isEmpty { return "{}" }
            var items: [String] = t.array.map { render($0, indent: indent + 1, describe: describe) }
            for (k, value) in t.fields {
                let key: String
                if case .string(let s) = k, s.wholeMatch(of: identifier) != nil, !keywords.contains(s) {
                    key = s
                } else {
                    key = "[" + render(k, indent: indent + 1, describe: describe) + "]"
                }
                items.append(key + " = " + render(value, indent: indent + 1, describe: describe))
            }
            let flat = "{ " + items.joined(separator: ", ") + " }"
            if flat.count + indent * 2 <= 80 && !flat.contains("\n") { return flat }
            let pad = String(repeating: "  ", count: indent + 1)
            return "{\n" + items.map { pad + $0 }.joined(separator: ",\n") + ",\n" + String(repeating: "  ", count: indent) + "}"
        }
    }
}
