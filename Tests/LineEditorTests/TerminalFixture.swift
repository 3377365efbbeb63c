import Foundation
import WarrenTestSupport
#if canImport(Glibc)
import Glibc
#endif
import LineEditor

struct FixtureError: Error, CustomStringConvertible {
    let description: String
}

/// A pseudo-terminal inside the test process: the editor reads and writes the slave side, the
/// test types into and reads the screen from the master side.
final class TerminalFixture {
    let master: Int32
    let slave: Int32
    let slavePath: String
    private var seen: [UInt8] = []

    init(columns: UInt16 = 80, rows: UInt16 = 24) throws {
        // posix_openpt/grantpt/unlockpt/ptsname_r need _GNU_SOURCE, which the Glibc module is
        // built without: look them up in the C library instead.
        master = LibC.posix_openpt(O_RDWR | O_NOCTTY)
        guard master >= 0, LibC.grantpt(master) == 0, LibC.unlockpt(master) == 0 else {
            throw FixtureError(description: "posix_openpt failed: errno \(errno)")
        }
        var name = [CChar](repeating: 0, count: 256)
        guard LibC.ptsname_r(master, &name, name.count) == 0 else {
            throw FixtureError(description: "ptsname_r failed: errno \(errno)")
        }
        slavePath = String(cString: name)
        slave = open(slavePath, O_RDWR | O_NOCTTY)
        guard slave >= 0 else { throw FixtureError(description: "open slave failed: errno \(errno)") }
        var size = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(master, UInt(TIOCSWINSZ), &size)
        let flags = fcntl(master, F_GETFL)
        _ = fcntl(master, F_SETFL, flags | O_NONBLOCK)
    }

    deinit {
        close(master)
        close(slave)
    }

    func makeEditor(historyFile: String? = nil) -> LineEditor {
        LineEditor(historyFile: historyFile, input: slave, output: slave, terminal: "xterm")
    }

    /// Types `text` into the terminal.
    func send(_ text: String) {
        let bytes = Array(text.utf8)
        sendBytes(bytes)
    }

    /// Types raw bytes, once the editor has the terminal in its editing mode: bytes typed while
    /// the line discipline is still canonical would be cooked by the kernel (^D as end-of-file).
    func sendBytes(_ bytes: [UInt8]) {
        let deadline = Date().addingTimeInterval(5)
        var mode = termios()
        while tcgetattr(slave, &mode) == 0 && mode.c_lflag & tcflag_t(ICANON) != 0 && Date() < deadline {
            var pollNothing = pollfd(fd: -1, events: 0, revents: 0)
            _ = poll(&pollNothing, 0, 1)  // yield 1 ms between checks of the terminal mode
        }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
            if written > 0 { offset += written } else if errno != EAGAIN && errno != EINTR { return }
        }
    }

    /// Waits until `text` shows up on the screen and returns everything up to it (consumed).
    @discardableResult
    func expect(_ text: String, timeout: Double = 5) throws -> String {
        let needle = Array(text.utf8)
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let range = find(needle) {
                let consumed = Array(seen[..<range])
                seen.removeSubrange(..<range)
                return String(decoding: consumed, as: UTF8.self)
            }
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 {
                throw FixtureError(description:
                    "did not see \(text.debugDescription) within \(timeout)s; saw: "
                    + String(decoding: seen, as: UTF8.self).debugDescription)
            }
            readAvailable(waitingAtMost: remaining)
        }
    }

    /// Everything seen and not yet consumed, after draining what is readable now.
    func pendingOutput() -> String {
        readAvailable(waitingAtMost: 0.05)
        return String(decoding: seen, as: UTF8.self)
    }

    private func find(_ needle: [UInt8]) -> Int? {
        guard !needle.isEmpty, seen.count >= needle.count else { return needle.isEmpty ? 0 : nil }
        for start in 0...(seen.count - needle.count) where seen[start..<start + needle.count].elementsEqual(needle) {
            return start + needle.count
        }
        return nil
    }

    private func readAvailable(waitingAtMost seconds: Double) {
        var descriptor = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, Int32(max(1, min(seconds, 0.2) * 1000))) > 0 else { return }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = read(master, &buffer, buffer.count)
        if count > 0 { seen.append(contentsOf: buffer[..<count]) }
    }

    /// The interrupt character the terminal has now.
    var interruptCharacter: UInt8 {
        var settings = termios()
        _ = tcgetattr(slave, &settings)
        return withUnsafeBytes(of: &settings.c_cc) { $0[Int(VINTR)] }
    }
}

/// C library functions the Glibc module hides behind _GNU_SOURCE, resolved with dlsym.
enum LibC {
    private static let handle = dlopen(nil, RTLD_NOW)
    private static func function<T>(_ name: String, as type: T.Type) -> T {
        guard let symbol = dlsym(handle, name) else { fatalError("\(name) is not in the C library") }
        return unsafeBitCast(symbol, to: type)
    }
    static let posix_openpt = function("posix_openpt", as: (@convention(c) (Int32) -> Int32).self)
    static let grantpt = function("grantpt", as: (@convention(c) (Int32) -> Int32).self)
    static let unlockpt = function("unlockpt", as: (@convention(c) (Int32) -> Int32).self)
    static let ptsname_r = function("ptsname_r",
        as: (@convention(c) (Int32, UnsafeMutablePointer<CChar>?, Int) -> Int32).self)
}

/// A `readLine` running on its own thread, because it blocks until the test types Enter.
final class PendingRead: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: LineEditor.ReadResult?

    init(_ editor: LineEditor, prompt: String) {
        let thread = Thread { [self] in
            result = editor.readLine(prompt: prompt)
            done.signal()
        }
        thread.start()
    }

    func result(timeout: Double = 5) throws -> LineEditor.ReadResult {
        guard done.wait(timeout: .now() + timeout) == .success, let result else {
            throw FixtureError(description: "readLine did not return within \(timeout)s")
        }
        return result
    }
}

func temporaryDirectory() -> String {
    TestDirectory.make("lineeditor-tests")
}
