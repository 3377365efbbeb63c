/// Text from a cluster or a runbook made safe to show: names may hold any character (a queue named
/// with an escape sequence could rewrite the operator's screen), so every output path escapes C0
/// and C1 control characters and DEL as `\xNN`, keeping newlines and tabs.
public enum PrintableText {
    /// `text` with its control characters escaped; the same string when it has none.
    public static func escapingControls(_ text: String) -> String {
        guard needsEscaping(text) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if isControl(scalar) {
                out.append(contentsOf: escape(UInt8(scalar.value)).unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// Bytes as text: valid UTF-8 as it is, each byte of an invalid sequence as `\xNN` (never
    /// U+FFFD, so the operator sees which bytes a runbook or a name holds).
    public static func decoding<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        if let valid = String(validating: bytes, as: UTF8.self) { return valid }
        let b = Array(bytes)
        var out = String.UnicodeScalarView()
        var i = 0
        while i < b.count {
            if let (scalar, length) = scalar(in: b, at: i) {
                out.append(scalar)
                i += length
            } else {
                out.append(contentsOf: escape(b[i]).unicodeScalars)
                i += 1
            }
        }
        return String(out)
    }

    /// The well-formed UTF-8 sequence at `i` (no overlong forms, surrogates or values past U+10FFFF).
    static func scalar(in b: [UInt8], at i: Int) -> (Unicode.Scalar, Int)? {
        let lead = b[i]
        let (length, minimum, initial): (Int, UInt32, UInt32)
        switch lead {
        case 0x00...0x7F: return (Unicode.Scalar(lead), 1)
        case 0xC2...0xDF: (length, minimum, initial) = (2, 0x80, UInt32(lead & 0x1F))
        case 0xE0...0xEF: (length, minimum, initial) = (3, 0x800, UInt32(lead & 0x0F))
        case 0xF0...0xF4: (length, minimum, initial) = (4, 0x10000, UInt32(lead & 0x07))
        default: return nil
        }
        guard i + length <= b.count else { return nil }
        var value = initial
        for k in 1..<length {
            let c = b[i + k]
            guard c & 0xC0 == 0x80 else { return nil }
            value = value << 6 | UInt32(c & 0x3F)
        }
        guard value >= minimum, let scalar = Unicode.Scalar(value) else { return nil }
        return (scalar, length)
    }

    static func escape(_ byte: UInt8) -> String {
        let hex = Array("0123456789ABCDEF")
        return "\\x" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 0xF)])
    }

    static func isControl(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        return (v < 0x20 && v != 0x0A && v != 0x09) || (0x7F...0x9F).contains(v)
    }

    static func needsEscaping(_ text: String) -> Bool {
        var previous: UInt8 = 0
        for byte in text.utf8 {
            if byte < 0x20 && byte != 0x0A && byte != 0x09 { return true }
            if byte == 0x7F { return true }
            // C1 controls U+0080-U+009F are C2 80 ... C2 9F in UTF-8.
            if previous == 0xC2 && (0x80...0x9F).contains(byte) { return true }
            previous = byte
        }
        return false
    }
}
