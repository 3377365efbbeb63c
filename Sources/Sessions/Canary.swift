import Cluster
import Foundation

/// Canary traffic during a run (`--canary`): messages published to a quorum queue and consumed
/// again the whole time, so the report can say whether the procedure lost any and how long the
/// queue could not take messages.
///
/// On a simulated cluster it ticks after every primitive (virtual time). On a real cluster it
/// ticks on its own thread every half second through its own backend, publishing through the
/// management API (which answers once the message is routed to the queue) and consuming with
/// acknowledgement.
public final class Canary {
    public struct Report: Equatable, Sendable {
        public var published = 0
        public var confirmed = 0
        public var consumed = 0
        /// Confirmed messages that never came back.
        public var lost: Int { max(0, confirmed - consumed) }
        /// The longest time (seconds) during which publishing failed.
        public var longestGap = 0.0
        public var failedPublishes = 0

        public var line: String {
            String(format: "canary: published %d, confirmed %d, consumed %d, lost %d, longest gap %.1f s",
                   published, confirmed, consumed, lost, longestGap)
        }
    }

    public static let queue = "warren.canary"
    let backend: Backend
    private let lock = NSLock()
    private var report = Report()
    private var gapStart: Double?
    private var thread: Thread?
    private var stopping = false

    public init(backend: Backend) {
        self.backend = backend
    }

    /// Declares the canary queue (a quorum queue, replicated on 3 nodes) and empties it.
    public func prepare() throws {
        do {
            try backend.declareQueue(QueueSpec(name: Canary.queue, type: .quorum, durable: true))
        } catch let e as ClusterError where e.message.contains("exists") {}
        _ = try? backend.consume(queue: Canary.queue, max: 100_000)
    }

    /// Publishes a few messages and consumes what is there.
    public func tick(messages: Int = 5) {
        let now = backend.now()
        var ok = 0
        do {
            ok = try backend.publish(queue: Canary.queue, count: messages)
        } catch {}
        var got = 0
        if let n = try? backend.consume(queue: Canary.queue, max: 1000) { got = n }
        lock.lock()
        defer { lock.unlock() }
        report.published += messages
        report.confirmed += ok
        report.consumed += got
        if ok < messages {
            report.failedPublishes += messages - ok
            if gapStart == nil { gapStart = now }
        } else if let start = gapStart {
            report.longestGap = max(report.longestGap, now - start)
            gapStart = nil
        }
    }

    /// Ticks every `interval` seconds on a thread of its own until `finish`.
    public func startTicking(every interval: Double = 0.5) {
        let t = Thread { [weak self] in
            while let self, !self.isStopping {
                self.tick()
                Thread.sleep(forTimeInterval: interval)
            }
        }
        thread = t
        t.start()
    }

    private var isStopping: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopping
    }

    /// Stops ticking, drains the queue (waiting up to `timeout` for messages still in flight) and
    /// returns the figures.
    public func finish(timeout: Double = 30) -> Report {
        lock.lock()
        stopping = true
        lock.unlock()
        while let t = thread, t.isExecuting { Thread.sleep(forTimeInterval: 0.05) }
        let deadline = backend.now() + timeout
        while true {
            let got = (try? backend.consume(queue: Canary.queue, max: 10_000)) ?? 0
            lock.lock()
            report.consumed += got
            let done = report.consumed >= report.confirmed
            lock.unlock()
            if done || backend.now() >= deadline { break }
            backend.sleep(1)
        }
        lock.lock()
        defer { lock.unlock() }
        if let start = gapStart { report.longestGap = max(report.longestGap, backend.now() - start) }
        return report
    }
}
