import Cluster
import Foundation

/// Canary traffic during a run (`--canary`): numbered messages published with confirms to a
/// quorum queue and consumed again the whole time, so the report can say whether the procedure
/// lost any confirmed message and how long the queue could not take messages.
///
/// On a simulated cluster it ticks after every primitive (virtual time), through the simulator's
/// message counts. On a real cluster it ticks on its own thread every half second through an AMQP
/// client (`AMQPCanaryClient`).
public final class Canary: @unchecked Sendable {
    public struct Report: Equatable, Sendable {
        public var published = 0
        public var confirmed = 0
        /// Distinct messages consumed.
        public var consumed = 0
        /// Confirmed messages that never came back.
        public var lost = 0
        /// The longest time (seconds) during which publishing failed.
        public var longestGap = 0.0
        public var failedPublishes = 0
        /// Ctrl-C ended the drain: confirmed messages still queued are counted as lost.
        public var drainInterrupted = false

        public var line: String {
            String(format: "canary: published %d, confirmed %d, consumed %d, lost %d, longest gap %.1f s",
                   published, confirmed, consumed, lost, longestGap)
                + (drainInterrupted ? " (drain stopped by Ctrl-C: messages still in the queue count as lost)" : "")
        }
    }

    /// The running totals at one moment of the clock.
    public struct Sample: Equatable, Sendable {
        public var clock: Double
        public var published: Int
        public var confirmed: Int
        public var consumed: Int
    }

    public static let queue = "warren.canary"
    let transport: CanaryTransport
    let clock: () -> Double
    /// Receives the running totals at most once per `sampleInterval` seconds of the clock, and
    /// once more when the canary finishes: the session journals them, and its timeline draws
    /// the rates and gaps from them. Called on the thread that ticks.
    public var onSample: ((Sample) -> Void)?
    public var sampleInterval = 1.0
    private var lastSample: Double?
    private let lock = NSLock()
    private var report = Report()
    private var nextID = 1
    private var confirmedIDs = Set<Int>()
    private var consumedIDs = Set<Int>()
    private var gapStart: Double?
    private var thread: Thread?
    private var stopping = false

    /// - Parameter clock: seconds, for the gaps (the backend's `now`: virtual on the simulator).
    public init(transport: CanaryTransport, clock: @escaping () -> Double) {
        self.transport = transport
        self.clock = clock
    }

    public var summary: String { transport.summary }

    /// Declares the canary queue (a durable quorum queue) and empties it.
    public func prepare() throws {
        try transport.prepare(queue: Canary.queue)
    }

    /// Publishes a few messages and consumes what is there.
    public func tick(messages: Int = 5) {
        let ids = lock.withLock { () -> [Int] in
            defer { nextID += messages }
            return Array(nextID..<(nextID + messages))
        }
        let now = clock()
        let confirmed = transport.publish(ids, queue: Canary.queue)
        let got = transport.consume(queue: Canary.queue, max: 1000)
        let sample = lock.withLock { () -> Sample? in
            report.published += ids.count
            confirmedIDs.formUnion(confirmed)
            consumedIDs.formUnion(got)
            if confirmed.count < ids.count {
                report.failedPublishes += ids.count - confirmed.count
                if gapStart == nil { gapStart = now }
            } else if let start = gapStart {
                report.longestGap = max(report.longestGap, now - start)
                gapStart = nil
            }
            if let last = lastSample, now - last < sampleInterval { return nil }
            lastSample = now
            return totals(at: now)
        }
        if let sample { onSample?(sample) }
    }

    /// The totals now (called with the lock held).
    private func totals(at now: Double) -> Sample {
        Sample(clock: now, published: report.published, confirmed: confirmedIDs.count, consumed: consumedIDs.count)
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

    private var isStopping: Bool { lock.withLock { stopping } }

    /// Stops ticking, drains the queue (waiting up to `timeout` for confirmed messages still
    /// missing, or until `interrupted` says so) and returns the figures.
    public func finish(timeout: Double = 30, interrupted: () -> Bool = { false }) -> Report {
        lock.withLock { stopping = true }
        while let t = thread, t.isExecuting { Thread.sleep(forTimeInterval: 0.05) }
        let deadline = clock() + timeout
        while true {
            let got = transport.consume(queue: Canary.queue, max: 100_000)
            let missing = lock.withLock { () -> Int in
                consumedIDs.formUnion(got)
                return confirmedIDs.subtracting(consumedIDs).count
            }
            if missing == 0 || clock() >= deadline { break }
            if interrupted() {
                lock.withLock { report.drainInterrupted = true }
                break
            }
            Thread.sleep(forTimeInterval: 0.5)
        }
        let now = clock()
        let (figures, last) = lock.withLock {
            if let start = gapStart { report.longestGap = max(report.longestGap, now - start) }
            report.confirmed = confirmedIDs.count
            report.consumed = consumedIDs.count
            report.lost = confirmedIDs.subtracting(consumedIDs).count
            return (report, totals(at: now))
        }
        onSample?(last)
        return figures
    }
}
