/// Text from a cluster or a runbook made safe to show: names may hold any character (a queue named
/// with an escape sequence could rewrite the operator's screen), so every output path escapes C0
/// and C1 control characters and DEL as `\xNN`, keeping newlines and tabs; bytes that are not
/// UTF-8 (carried by ``ByteText``) are shown as `\xNN` too, never as U+FFFD.
public enum PrintableText {
    /// `text` with its control characters escaped; the same string when it has none.
    public static func escapingControls(_ text: String) -> String {
        guard needsEscaping(text) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if let byte = ByteText.carried(scalar) {
                out.append(contentsOf: escape(byte).unicodeScalars)
            } else if isControl(scalar) {
                out.append(contentsOf: escape(UInt8(scalar.value)).unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
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
            if byte == 0x7F || byte == ByteText.carrierLead { return true }
            // C1 controls U+0080-U+009F are C2 80 ... C2 9F in UTF-8.
            if previous == 0xC2 && (0x80...0x9F).contains(byte) { return true }
            previous = byte
        }
        return false
    }
}
