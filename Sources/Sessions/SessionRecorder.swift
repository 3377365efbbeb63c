import Cluster
import Foundation

/// Records what the terminal shows as an asciicast v2 file (`session.cast`).
///
/// The header line is written when the recorder opens; every event after it is one JSON line
/// written with a single `write(2)` as it happens, with no buffering in the process, so a crash or
/// `kill -9` keeps everything up to that moment (at worst the last line is torn, which
/// `CastReader` tolerates).
///
/// Everything passes through the redactor before it reaches the file. Output arrives in chunks, so
/// a secret may be split across two `output` calls: the recorder holds back the shortest tail that
/// could still become a secret (or an unfinished `Authorization` line), up to 4096 characters, and
/// writes it with the next chunk, before an input event, or on `close`.
///
/// Lone `\n` in output is recorded as `\r\n`, as a terminal would have shown it (`ONLCR`), so web
/// players and `asciinema play` render lines correctly.
public final class SessionRecorder: @unchecked Sendable {
    public let path: String
    /// Why recording stopped, if a write failed (disk full...). The run itself is not disturbed.
    public private(set) var writeError: String?

    private let lock = NSLock()
    private var fd: Int32
    private let clock: () -> Double
    private let start: Double
    /// Seconds added to every event time: the end of an earlier recording this one continues.
    private let offset: Double
    private var redactorValue: Redactor
    /// Redacted output not yet written (a possible secret's beginning).
    private var pending = ""
    private var lastOutputEndedWithCR = false
    /// The event line being built (its capacity is kept from one event to the next).
    private var buffer: [UInt8] = []
    private static let maxHold = 4096

    /// The secrets redactor; setting it (for example once an inventory's secrets are known) applies
    /// to everything recorded from then on, including text held back.
    public var redactor: Redactor {
        get { lock.withLock { redactorValue } }
        set { lock.withLock { redactorValue = newValue } }
    }

    /// Opens `path` and writes the asciicast v2 header.
    ///
    /// - Parameters:
    ///   - path: the `.cast` file; replaced unless `append` is true.
    ///   - title: the header's title (for example `rolling-restart on sim:3`).
    ///   - redactor: applied to every output and input text (and the title).
    ///   - clock: a monotonic clock in seconds; event times are relative to its value at `init`.
    ///   - timestamp: the header's unix time; defaults to now.
    ///   - environment: `TERM` and `SHELL` are copied from it into the header's `env`, when set.
    ///   - append: continue an existing recording (a resumed session): its header is kept, a torn
    ///     last line is cut off, and new events continue after its last event's time. A missing
    ///     file is created as if `append` were false.
    /// - Throws: `SessionsError.cannotWrite`, or `CastError` when appending to an unreadable cast.
    public init(path: String, width: Int, height: Int, title: String, redactor: Redactor,
                clock: @escaping () -> Double = SessionRecorder.monotonic,
                timestamp: Int = Int(Date().timeIntervalSince1970),
                environment: [String: String] = ProcessInfo.processInfo.environment,
                append: Bool = false) throws {
        self.path = path
        self.clock = clock
        self.redactorValue = redactor
        var offset = 0.0
        var writeHeader = true
        if append, FileManager.default.fileExists(atPath: path) {
            let cast = try CastReader.read(path)
            offset = cast.events.last?.time ?? 0
            writeHeader = false
            if cast.truncated { truncate(path, off_t(cast.validByteCount)) }
        }
        self.offset = offset
        let flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (writeHeader ? O_TRUNC : 0)
        fd = open(path, flags, 0o600)
        guard fd >= 0 else {
            throw SessionsError.cannotWrite(path: path, reason: String(cString: strerror(errno)))
        }
        start = clock()
        if writeHeader {
            var header: [UInt8] = []
            header.append(contentsOf: "{\"version\": 2, \"width\": \(max(1, width)), \"height\": \(max(1, height)), \"timestamp\": \(timestamp), \"title\": ".utf8)
            Self.appendJSONString(redactor.redact(title), to: &header)
            let env = ["SHELL", "TERM"].compactMap { k in environment[k].map { (k, $0) } }
            if !env.isEmpty {
                header.append(contentsOf: ", \"env\": {".utf8)
                for (i, (k, v)) in env.enumerated() {
                    if i > 0 { header.append(contentsOf: ", ".utf8) }
                    Self.appendJSONString(k, to: &header)
                    header.append(contentsOf: ": ".utf8)
                    Self.appendJSONString(v, to: &header)
                }
                header.append(UInt8(ascii: "}"))
            }
            header.append(contentsOf: "}\n".utf8)
            buffer = header
            guard writeBuffer() else {
                let reason = String(cString: strerror(errno))
                Foundation.close(fd)
                throw SessionsError.cannotWrite(path: path, reason: reason)
            }
        }
    }

    deinit { close() }

    /// A monotonic clock in seconds (`CLOCK_MONOTONIC`): event times never jump with the wall clock.
    public static func monotonic() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Records text the terminal showed (an `"o"` event).
    public func output(_ text: String) {
        lock.withLock {
            guard fd >= 0, !text.isEmpty else { return }
            if pending.isEmpty { pending = text } else { pending += text }
            flushPending(force: false)
        }
    }

    /// Records an operator's answer to a prompt (an `"i"` event). Only answers are recorded as
    /// input: never call this for ordinary keystrokes or shell lines.
    /// - Parameter echo: also record the answer as output, followed by a newline, as the terminal
    ///   showed it when it echoed the typing (the program's own output does not contain the echo).
    ///   Pass false when the caller already printed it through `output`, or for a hidden answer.
    public func input(_ text: String, echo: Bool = true) {
        lock.withLock {
            guard fd >= 0 else { return }
            flushPending(force: true)
            let redacted = redactorValue.redact(text)
            writeEvent("i", redacted)
            if echo, fd >= 0 {
                var shown = Substring(redacted)
                while let last = shown.unicodeScalars.last, last == "\n" || last == "\r" { shown = shown.dropLast() }
                writeEvent("o", String(shown) + "\n")
            }
        }
    }

    /// Writes what is held back and closes the file. Further calls record nothing.
    public func close() {
        lock.withLock {
            guard fd >= 0 else { return }
            flushPending(force: true)
            // No fsync: every event is already written (a crash of warren keeps it); the journal,
            // not the recording, is what must survive a power loss.
            Foundation.close(fd)
            fd = -1
        }
    }

    // MARK: - Writing

    private func flushPending(force: Bool) {
        let redacted = redactorValue.redact(pending)
        let hold = force ? 0 : holdLength(redacted)
        if hold == 0 {
            pending = ""
            if !redacted.isEmpty { writeEvent("o", redacted) }
            return
        }
        let scalars = redacted.unicodeScalars
        let cut = scalars.index(scalars.endIndex, offsetBy: -hold)
        let emit = String(scalars[..<cut])
        pending = String(scalars[cut...])
        guard !emit.isEmpty else { return }
        writeEvent("o", emit)
    }

    /// How many trailing scalars might still turn into something to redact.
    private func holdLength(_ text: String) -> Int {
        var hold = 0
        let secrets = redactorValue.secrets
        let scalars = secrets.isEmpty ? [] : Array(text.unicodeScalars)
        for secret in secrets {
            let s = Array(secret.unicodeScalars)
            var k = min(s.count - 1, scalars.count)
            while k > hold {
                if scalars[(scalars.count - k)...].elementsEqual(s[..<k]) { hold = k; break }
                k -= 1
            }
        }
        if text.utf8.count >= 13, Redactor.containsIgnoringASCIICase(text, "authorization"),
           let r = text.range(of: "authorization", options: [.caseInsensitive, .backwards]),
           !text[r.upperBound...].contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) {
            // An unfinished header line: its value may continue in the next chunk. Past the cap
            // it is written as it is (the redactor already masked what is there).
            let authHold = text.unicodeScalars.distance(from: r.lowerBound, to: text.unicodeScalars.endIndex)
            if authHold <= Self.maxHold { hold = max(hold, authHold) }
        }
        return hold
    }

    /// Writes one event line: `[time, "type", "data"]`. Output (`"o"`) gets terminal newlines.
    private func writeEvent(_ type: String, _ data: String) {
        let t = max(0, clock() - start) + offset
        var line: [UInt8] = []
        swap(&line, &buffer)  // build in a local: no exclusivity checks per byte
        line.removeAll(keepingCapacity: true)
        line.append(UInt8(ascii: "["))
        Self.appendSeconds(t, to: &line)
        line.append(contentsOf: ", ".utf8)
        _ = Self.appendJSONString(type, to: &line)
        line.append(contentsOf: ", ".utf8)
        if type == "o" {
            lastOutputEndedWithCR = Self.appendJSONString(data, to: &line, terminalAfterCR: lastOutputEndedWithCR)
        } else {
            _ = Self.appendJSONString(data, to: &line)
        }
        line.append(contentsOf: "]\n".utf8)
        swap(&line, &buffer)
        if !writeBuffer() {
            writeError = "\(path): recording stopped: \(String(cString: strerror(errno)))"
            Foundation.close(fd)
            fd = -1
        }
    }

    /// Seconds with six decimals (`12.345678`).
    static func appendSeconds(_ t: Double, to out: inout [UInt8]) {
        let micros = Int64((t * 1_000_000).rounded())
        appendDigits(micros / 1_000_000, width: 1, to: &out)
        out.append(UInt8(ascii: "."))
        appendDigits(micros % 1_000_000, width: 6, to: &out)
    }

    private static func appendDigits(_ value: Int64, width: Int, to out: inout [UInt8]) {
        var divisor: Int64 = 1
        var count = 1
        while divisor <= value / 10 { divisor *= 10; count += 1 }
        for _ in count..<max(width, count) { out.append(UInt8(ascii: "0")) }
        var v = value
        while divisor > 0 { out.append(UInt8(ascii: "0") + UInt8(v / divisor)); v %= divisor; divisor /= 10 }
    }

    /// Appends a JSON string literal, working on UTF-8 bytes. Control characters (ESC included)
    /// become `\u00XX` escapes, so terminal escape sequences survive and every event stays on one
    /// line. With `terminalAfterCR` (whether the text before this one ended with `\r`), a lone
    /// `\n` becomes `\r\n`, as a terminal shows it (`ONLCR`).
    /// - Returns: whether the text ended with `\r`.
    @discardableResult
    static func appendJSONString(_ text: String, to out: inout [UInt8], terminalAfterCR: Bool? = nil) -> Bool {
        var text = text
        let terminal = terminalAfterCR != nil
        var previousCR = terminalAfterCR ?? false
        let backslash = UInt8(ascii: "\\")
        out.append(UInt8(ascii: "\""))
        text.withUTF8 { bytes in
            var i = 0
            while i < bytes.count {
                let b = bytes[i]
                switch b {
                case UInt8(ascii: "\""), backslash:
                    out.append(backslash); out.append(b)
                case 0x0A:
                    if terminal && !previousCR { out.append(backslash); out.append(UInt8(ascii: "r")) }
                    out.append(backslash); out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(backslash); out.append(UInt8(ascii: "r"))
                case 0x09: out.append(backslash); out.append(UInt8(ascii: "t"))
                case 0..<0x20, 0x7F:
                    out.append(contentsOf: "\\u00".utf8)
                    out.append(hexDigit(b >> 4)); out.append(hexDigit(b & 15))
                case 0xE2 where i + 2 < bytes.count && bytes[i + 1] == 0x80 && (bytes[i + 2] == 0xA8 || bytes[i + 2] == 0xA9):
                    // U+2028 and U+2029 end a line in JavaScript: escape them.
                    out.append(contentsOf: "\\u202".utf8)
                    out.append(bytes[i + 2] == 0xA8 ? UInt8(ascii: "8") : UInt8(ascii: "9"))
                    i += 2
                default: out.append(b)
                }
                previousCR = b == 0x0D
                i += 1
            }
        }
        out.append(UInt8(ascii: "\""))
        return previousCR
    }

    private static func hexDigit(_ v: UInt8) -> UInt8 { v < 10 ? UInt8(ascii: "0") + v : UInt8(ascii: "a") + v - 10 }

    /// The buffer in one `write(2)` (looping only on a short write or `EINTR`).
    private func writeBuffer() -> Bool {
        buffer.withUnsafeBytes { buf -> Bool in
            var done = 0
            while done < buf.count {
                let n = write(fd, buf.baseAddress! + done, buf.count - done)
                if n < 0 { if errno == EINTR { continue }; return false }
                done += n
            }
            return true
        }
    }
}
