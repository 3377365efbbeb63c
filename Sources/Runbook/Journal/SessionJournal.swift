import Foundation

/// How a run stops: the first refusal, failure or interruption wins and sticks (a `pcall` in the
/// runbook cannot swallow it: every later call of the engine throws it again). A simulated crash
/// of warren (drills, sweeps) also sticks: after it nothing more is written.
public final class RunLatch {
    public private(set) var abort: RunbookError?
    public var crashed = false
    public init() {}

    /// Records `e` unless the run already stopped for another reason; returns the reason that stands.
    @discardableResult
    public func stop(_ e: RunbookError) -> RunbookError {
        if abort == nil { abort = e }
        return abort!
    }

    /// Forgets the stop (the shell, after each line it runs).
    public func reset() {
        abort = nil
    }
}

/// The journal as a session writes it: the target's clock on every entry; durable entries for
/// everything that announces an action or an answer; nothing once the run crashed or in a plan;
/// and a write that fails stops the run before anything else changes.
public final class SessionJournal {
    public let writer: JournalWriter?
    let clock: () -> Double
    let latch: RunLatch

    /// - Parameter writer: nil for a plan (nothing is journaled).
    public init(writer: JournalWriter?, clock: @escaping () -> Double, latch: RunLatch) {
        self.writer = writer
        self.clock = clock
        self.latch = latch
    }

    /// Step bookkeeping, notes, canary samples and what the runbook says ride along with the next durable entry.
    static func isBookkeeping(_ kind: JournalEvent.Kind) -> Bool {
        [.stepStart, .stepDone, .stepSkipped, .say, .note, .command, .canarySample].contains(kind)
    }

    public func append(_ event: JournalEvent) {
        guard !latch.crashed, let writer else { return }
        do {
            try writer.append(JournalEntry(event, clock: clock()), durable: !SessionJournal.isBookkeeping(event.kind))
        } catch {
            latch.stop(.failed("cannot write the journal (\(error)); stopping before anything else changes"))
        }
    }
}
