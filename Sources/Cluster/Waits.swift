import Foundation

/// What warren waits for right now: a start command, a CLI call, an HTTP request, a poll, a
/// gate. Whoever waits says so here (``during(_:limit:_:)``, ``observe(_:)``); the session shows
/// the innermost wait live on a terminal and journals when what blocks changes. Waits nest: a
/// gate polls the cluster, whose read runs a CLI call.
///
/// Times are the machine's (monotonic), not a simulated cluster's: what is shown is how long the
/// operator has been waiting.
public final class Waits: @unchecked Sendable {
    public struct Wait: Sendable, Equatable {
        public let id: Int
        public let what: String
        /// Seconds the wait may last (nil: no limit known).
        public let limit: Double?
        public let started: Double
        /// The last state observed ("critical for 2 queues: q1, q2"), empty until one is.
        public var state: String

        public func elapsed(now: Double = monotonicNow()) -> Double { now - started }
    }

    public enum Change: Sendable, Equatable {
        case began
        case state
        case ended(ok: Bool)
    }

    private let lock = NSLock()
    private var stack: [Wait] = []
    private var nextID = 0
    /// Told of every change, on the waiting thread, outside the lock.
    public var onChange: (@Sendable (Wait, Change) -> Void)?

    public init() {}

    /// Runs `body` as a wait for `what`.
    public func during<T>(_ what: String, limit: Double? = nil, _ body: () throws -> T) rethrows -> T {
        let id = begin(what, limit: limit)
        var ok = false
        defer { end(id, ok: ok) }
        let value = try body()
        ok = true
        return value
    }

    public func begin(_ what: String, limit: Double? = nil) -> Int {
        let wait: Wait = lock.withLock {
            nextID += 1
            let w = Wait(id: nextID, what: what, limit: limit, started: monotonicNow(), state: "")
            stack.append(w)
            return w
        }
        onChange?(wait, .began)
        return wait.id
    }

    /// The innermost wait's state now; told only when it changed.
    public func observe(_ state: String) {
        let changed: Wait? = lock.withLock {
            guard let last = stack.indices.last, stack[last].state != state else { return nil }
            stack[last].state = state
            return stack[last]
        }
        if let changed { onChange?(changed, .state) }
    }

    public func end(_ id: Int, ok: Bool) {
        let ended: Wait? = lock.withLock {
            guard let i = stack.lastIndex(where: { $0.id == id }) else { return nil }
            let w = stack[i]
            stack.removeSubrange(i...)
            return w
        }
        if let ended { onChange?(ended, .ended(ok: ok)) }
    }

    /// The waits under way, outermost first.
    public var current: [Wait] { lock.withLock { stack } }
}

/// Seconds on the machine's monotonic clock.
public func monotonicNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
