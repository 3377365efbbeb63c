/// What a journal says about a session.
public struct SessionSummary: Sendable {
    public var entries: [JournalEntry]
    public var start: JournalEvent.SessionStart
    public var startTime: Double
    public var stepsDone: Set<String>
    /// The step that started and neither finished nor failed last (re-run on resume).
    public var inProgress: String?
    /// The step that failed last, if the run stopped on a failure.
    public var failed: String?
    /// `done`, `failed`, `refused`, `interrupted`, or nil when the session never ended (a crash).
    public var outcome: String?
    public var lastTime: Double
    /// The primitive announced last whose result was never journaled (warren stopped between
    /// the two): a resume works out whether it took effect before going on.
    public var pendingCall: JournalEvent.PrimitiveCallRecord?
    /// The highest call number journaled so far.
    public var lastCallNumber: Int
    /// Primitives that completed: "step|primitive|node".
    public var completedCalls: Set<String>

    public init(entries: [JournalEntry]) {
        self.entries = entries
        if case .sessionStart(let s)? = entries.first?.event { start = s } else { start = .init() }
        startTime = entries.first?.time ?? 0
        var done = Set<String>()
        var open: String?
        var failed: String?
        var outcome: String?
        var pending: JournalEvent.PrimitiveCallRecord?
        var calls = 0
        var completed = Set<String>()
        for e in entries {
            switch e.event {
            case .stepStart(let s): open = s.step; failed = nil
            case .stepDone(let s):
                done.insert(s.step)
                if open == s.step { open = nil }
            case .stepSkipped(let s):
                done.insert(s.step)
                if open == s.step { open = nil }
            case .stepFailed(let s):
                failed = s.step
                if open == s.step { open = nil }
            case .sessionEnd(let end): outcome = end.outcome
            case .resumed: outcome = nil
            case .primitiveCall(let c):
                pending = c
                calls = max(calls, c.call ?? calls + 1)
            case .primitiveResult(let r) where !r.isGate:
                if let p = pending, p.primitive == r.primitive, p.node == r.node, p.call == r.call { pending = nil }
                if let c = r.call { calls = max(calls, c) }
                if r.outcome == "ok" { completed.insert("\(r.step ?? "")|\(r.primitive)|\(r.node ?? "")") }
            default: break
            }
        }
        stepsDone = done
        inProgress = open
        self.failed = failed
        self.outcome = outcome
        pendingCall = pending
        lastCallNumber = calls
        completedCalls = completed
        lastTime = entries.last?.time ?? startTime
    }

    /// A shell session: recorded, never resumed.
    public var isShell: Bool { start.mode == .shell }

    /// Whether `warren resume` can continue it.
    public var resumable: Bool { !isShell && outcome != "done" }

    /// The step a resume starts from.
    public var stoppedAt: String? { inProgress ?? failed }
}
