import Testing
@testable import Text

@Suite("Text shown to operators: control characters escaped, bytes kept")
struct TextTests {
    @Test("C0 and C1 control characters and DEL are escaped as \\xNN; newlines, tabs and other text stay")
    func escapesControls() {
        #expect(PrintableText.escapingControls("q\u{1B}[2J\r\u{07}\u{00}\u{7F}\u{9B}x") == #"q\x1B[2J\x0D\x07\x00\x7F\x9Bx"#)
        #expect(PrintableText.escapingControls("line\n\tnext é ü 🐇 ☃") == "line\n\tnext é ü 🐇 ☃")
    }

    @Test("bytes that are not UTF-8 survive the trip through a String and back, and show as \\xNN")
    func keepsBytes() {
        let bytes: [UInt8] = Array("caf".utf8) + [0xE9] + Array(" ok ".utf8) + [0xC3] + [0xFF, 0x80] + Array("é".utf8)
        let text = ByteText.string(bytes)
        #expect(ByteText.bytes(text) == bytes)
        #expect(PrintableText.escapingControls(text) == #"caf\xE9 ok \xC3\xFF\x80é"#)
        #expect(!text.unicodeScalars.contains("\u{FFFD}"))
    }

    @Test("valid UTF-8 is taken as it is, even a scalar of the carriers' own range")
    func validText() {
        #expect(ByteText.string(Array("naïve 🐇".utf8)) == "naïve 🐇")
        let own = Array("\u{10FF41}".utf8)
        #expect(ByteText.bytes(ByteText.string(own)) == own)
        // Overlong forms and surrogates are not UTF-8: each byte is kept.
        for bad: [UInt8] in [[0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80]] {
            #expect(ByteText.bytes(ByteText.string(bad)) == bad)
        }
    }
}
