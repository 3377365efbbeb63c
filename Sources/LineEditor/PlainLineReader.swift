import Text
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads lines from a non-terminal input one byte at a time, so nothing past the line is consumed
/// (a runbook's `confirm` may read the next line from the same pipe).
struct PlainLineReader {
    let fd: Int32
    private var atEnd = false

    init(fd: Int32) { self.fd = fd }

    mutating func readLine() -> LineEditor.ReadResult {
        if atEnd { return .endOfInput }
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let count = read(fd, &byte, 1)
            if count == 1 {
                if byte == UInt8(ascii: "\n") { break }
                bytes.append(byte)
            } else if count == 0 {
                atEnd = true
                if bytes.isEmpty { return .endOfInput }
                break
            } else if errno == EINTR {
                if bytes.isEmpty { return .interrupted }
            } else {
                atEnd = true
                if bytes.isEmpty { return .endOfInput }
                break
            }
        }
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        return .line(ByteText.string(bytes))
    }
}
