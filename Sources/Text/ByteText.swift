/// Bytes that are not UTF-8 kept inside a Swift `String`, so that a Lua string (a runbook's
/// literal, a line typed at the shell) keeps its exact bytes on its way through warren and back
/// into Lua. Each byte of an ill-formed sequence is carried as the private-use scalar
/// U+10FF00 + byte (plane 16, which text from a cluster does not use) and turned back into that
/// byte on the way into Lua; ``PrintableText`` shows it as `\xNN`.
public enum ByteText {
    static let carrierBase: UInt32 = 0x10FF00
    /// The first UTF-8 byte of every carrier (and of any scalar from U+100000 up).
    static let carrierLead: UInt8 = 0xF4

    /// The bytes as a string: valid UTF-8 as it is; each byte of an ill-formed sequence carried.
    public static func string<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        if let valid = String(validating: bytes, as: UTF8.self), !valid.utf8.contains(carrierLead) { return valid }
        let b = Array(bytes)
        var out = String.UnicodeScalarView()
        var i = 0
        while i < b.count {
            if let (scalar, length) = scalar(in: b, at: i), carried(scalar) == nil {
                out.append(scalar)
                i += length
            } else {
                out.append(Unicode.Scalar(carrierBase + UInt32(b[i]))!)
                i += 1
            }
        }
        return String(out)
    }

    /// The string's bytes, with each carried byte back as itself.
    public static func bytes(_ text: String) -> [UInt8] {
        guard text.utf8.contains(carrierLead) else { return Array(text.utf8) }
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            if let byte = carried(scalar) { out.append(byte) } else { out.append(contentsOf: String(scalar).utf8) }
        }
        return out
    }

    /// The byte a scalar carries, if it is a carrier.
    public static func carried(_ scalar: Unicode.Scalar) -> UInt8? {
        scalar.value >= carrierBase && scalar.value <= carrierBase + 0xFF ? UInt8(scalar.value - carrierBase) : nil
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
}
