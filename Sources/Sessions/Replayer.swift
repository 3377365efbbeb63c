import Foundation

/// Plays a recording back: the output events, with their timing.
public enum Replayer {
    /// Pauses longer than this are shortened to it (seconds, before the speed applies).
    public static let defaultMaxIdle = 2.0

    /// How long to wait before each output event.
    /// - Parameters:
    ///   - speed: 2 plays twice as fast; 0 (or less) plays instantly.
    ///   - maxIdle: the longest pause kept, in recorded seconds.
    public static func delays(_ cast: Cast, speed: Double, maxIdle: Double = defaultMaxIdle) -> [Double] {
        var previous = 0.0
        return cast.events.filter { $0.type == "o" }.map { e in
            let gap = max(0, e.time - previous)
            previous = e.time
            guard speed > 0 else { return 0 }
            return min(gap, maxIdle) / speed
        }
    }

    /// Writes the recorded output, waiting between events.
    /// - Parameters:
    ///   - toTerminal: whether `write` goes to a terminal. When false, nothing waits and `\r\n`
    ///     becomes `\n` (a file or pipe wants plain lines).
    ///   - write: receives each event's text.
    ///   - sleep: waits the given seconds (injected so tests never sleep).
    public static func play(_ cast: Cast, speed: Double, maxIdle: Double = defaultMaxIdle, toTerminal: Bool,
                            write: (String) -> Void, sleep: (Double) -> Void = { Thread.sleep(forTimeInterval: $0) }) {
        let waits = delays(cast, speed: toTerminal ? speed : 0, maxIdle: maxIdle)
        for (e, wait) in zip(cast.events.filter { $0.type == "o" }, waits) {
            if wait > 0 { sleep(wait) }
            write(toTerminal ? e.data : e.data.replacingOccurrences(of: "\r\n", with: "\n"))
        }
    }

    /// Whether a file descriptor is a terminal worth animating (not when `TERM=dumb`).
    public static func isTerminal(_ fd: Int32, environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        environment["TERM"] != "dumb" && isatty(fd) == 1
    }
}
