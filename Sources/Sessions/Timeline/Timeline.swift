import Cluster
import Runbook

/// What a session's timeline shows, reconstructed from its journal: each node's state over time,
/// the windows in which a node was quorum-critical, the steps and questions, and the canary's
/// rates and gaps.
///
/// Times are seconds since the first entry, on the target's clock: a simulated cluster's virtual
/// clock (a simulated run takes milliseconds of wall time but minutes of cluster time), else the
/// wall clock (a real cluster's own clock restarts with each warren process, so a resumed session
/// could not be placed on it).
public struct Timeline: Sendable {
    /// Which clock the times are on.
    public enum Clock: Sendable {
        /// The simulator's virtual clock.
        case simulated
        /// The wall clock; `origin` is the first entry's time, seconds since 1970.
        case wall(origin: Double)
    }

    public enum NodeState: String, Sendable, CaseIterable {
        /// Nothing in the journal tells (before the first primitive on the node, after one failed).
        case unknown
        case running
        /// Started, not yet seen running.
        case booting
        case stopped
        /// Under maintenance: drained, until revived or restarted.
        case drained
    }

    /// A stretch of one node's lane.
    public struct Segment: Equatable, Sendable {
        public var state: NodeState
        public var from: Double
        public var to: Double
        /// What put the node in this state ("stop ok", "before the first start").
        public var cause: String
    }

    public struct Lane: Sendable {
        public var node: String
        public var segments: [Segment]
    }

    /// A time during which a node was seen quorum-critical: stopping it would have cost some
    /// queue its majority.
    public struct CriticalWindow: Equatable, Sendable {
        /// The node (nil: an unsafe confirmation whose call never came).
        public var node: String?
        public var from: Double
        public var to: Double
        /// How it was seen: the refusal's or the confirmation's words.
        public var evidence: String
        /// Still open when the journal ends.
        public var open: Bool
    }

    public struct StepMark: Sendable {
        public var at: Double
        public var step: String
        public var title: String?
        /// `done`, `failed`, `interrupted`, `skipped`, or nil (no end recorded).
        public var outcome: String?
        public var until: Double?
    }

    public struct QuestionMark: Sendable {
        public var at: Double
        public var step: String?
        public var text: String
        public var choices: [String]?
        public var unsafe: Bool
        /// The answer and who gave it; nil when none was recorded.
        public var answer: String?
        public var source: String?
    }

    /// The canary between two samples: messages per second, and whether publishes failed.
    public struct CanaryInterval: Equatable, Sendable {
        public var from: Double
        public var to: Double
        public var publish: Double
        public var confirm: Double
        public var consume: Double
        /// Publishes that were not confirmed in the interval (a gap in the traffic).
        public var failed: Int
    }

    public var clock: Clock
    /// The end of the timeline (the last entry), in seconds from the first.
    public var end: Double
    public var lanes: [Lane]
    public var critical: [CriticalWindow]
    public var steps: [StepMark]
    public var questions: [QuestionMark]
    public var resumes: [Double]
    public var canary: [CanaryInterval]
    /// The canary's final figures (its `canary` note), when it ran.
    public var canaryFigures: String?
    /// Quorum queues and streams that lost their majority, from the simulator's invariants: it
    /// counts for how long, not when, so they are listed rather than placed on the time axis.
    public var majorityLosses: [InvariantReport.MajorityLoss]

    /// The timeline of a journal.
    /// - Parameters:
    ///   - entries: the session's journal, in order.
    ///   - nodes: the target's nodes, in the order to draw their lanes (nodes the journal names
    ///     and this list does not follow them); empty: the nodes the journal names.
    ///   - invariants: the simulator's invariant checks at the end, when known.
    public init(entries: [JournalEntry], nodes: [String] = [], invariants: InvariantReport? = nil) {
        let simulated: Bool
        if case .sessionStart(let s)? = entries.first?.event, s.clusterID != nil { simulated = true } else { simulated = false }
        let origin = entries.first.map { simulated ? ($0.clock ?? 0) : $0.time } ?? 0
        clock = simulated ? .simulated : .wall(origin: origin)
        // Each entry's time on the chosen clock; an entry without a target clock (a real backend's
        // command log) takes the one before it, so times never go backwards.
        var times: [Double] = []
        times.reserveCapacity(entries.count)
        var last = 0.0
        for e in entries {
            let t = simulated ? e.clock.map { $0 - origin } : e.time - origin
            last = max(last, t ?? last)
            times.append(last)
        }
        end = max(times.last ?? 0, 1)
        lanes = NodeStates.lanes(entries, times: times, nodes: nodes, end: end)
        critical = QuorumWindows.windows(entries, times: times, end: end)
        canary = CanaryRates.intervals(entries, times: times)
        (steps, questions, resumes) = Timeline.marks(entries, times: times)
        canaryFigures = ReportWriter.notes(entries).last { $0.key == "canary" }?.value
        majorityLosses = invariants?.majorityLosses ?? []
    }

    /// Steps (where each started and how it ended), questions with their answers, and resumes.
    private static func marks(_ entries: [JournalEntry], times: [Double]) -> ([StepMark], [QuestionMark], [Double]) {
        var steps: [StepMark] = []
        var questions: [QuestionMark] = []
        var resumes: [Double] = []
        var open: Int?
        var unanswered: Int?
        func close(_ outcome: String, at t: Double, step: String) {
            guard let i = open, steps[i].step == step else { return }
            steps[i].outcome = outcome
            steps[i].until = t
            open = nil
        }
        for (e, t) in zip(entries, times) {
            switch e.event {
            case .stepStart(let s):
                steps.append(StepMark(at: t, step: s.step, title: s.title))
                open = steps.count - 1
            case .stepDone(let d): close(d.outcome == "done_if" ? "done (already)" : "done", at: t, step: d.step)
            case .stepFailed(let f): close(f.outcome, at: t, step: f.step ?? "")
            case .interrupted(let i): close(i.outcome, at: t, step: i.step ?? "")
            case .stepSkipped(let s):
                if open.map({ steps[$0].step }) == s.step {
                    close("skipped", at: t, step: s.step)
                } else {
                    steps.append(StepMark(at: t, step: s.step, title: s.title, outcome: "skipped", until: t))
                }
            case .question(let q):
                questions.append(QuestionMark(at: t, step: q.step, text: q.text, choices: q.choices, unsafe: q.unsafe))
                unanswered = questions.count - 1
            case .answer(let a):
                if let i = unanswered {
                    questions[i].answer = a.answer
                    questions[i].source = a.source
                    unanswered = nil
                }
            case .resumed: resumes.append(t)
            default: break
            }
        }
        return (steps, questions, resumes)
    }
}
