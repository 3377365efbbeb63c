import Foundation

/// One line of a session's `journal.jsonl`: when it was written, the target's clock then, and what
/// happened.
///
/// On disk each entry is one flat JSON object with a `kind` and the fields of its event (the
/// format of every earlier warren, so older journals stay readable).
public struct JournalEntry: Equatable, Sendable {
    /// Wall-clock time, seconds since 1970.
    public var time: Double
    /// Target time (virtual on the simulator), seconds.
    public var clock: Double?
    public var event: JournalEvent

    public init(_ event: JournalEvent, time: Double = Date().timeIntervalSince1970, clock: Double? = nil) {
        self.event = event
        self.time = time
        self.clock = clock
    }

    /// The entry's kind, as written in its `kind` field.
    public var kind: JournalEvent.Kind { event.kind }

    /// The step the entry belongs to, if any.
    public var step: String? {
        switch event {
        case .sessionStart, .sessionEnd, .command: return nil
        case .resumed(let r): return r.step
        case .stepStart(let s), .stepSkipped(let s): return s.step
        case .stepDone(let s): return s.step
        case .stepFailed(let s), .interrupted(let s): return s.step
        case .primitiveCall(let c): return c.step
        case .primitiveResult(let r): return r.step
        case .question(let q): return q.step
        case .answer(let a): return a.step
        case .say(let s): return s.step
        case .note(let n): return n.step
        case .wait(let w): return w.step
        case .canarySample: return nil
        }
    }
}

/// What a journal entry records.
public enum JournalEvent: Equatable, Sendable {
    /// A session began: what runs, on what, with which parameters.
    case sessionStart(SessionStart)
    /// A new process continues the session.
    case resumed(Resumed)
    case stepStart(StepRef)
    /// A step done in an earlier run, not run again.
    case stepSkipped(StepRef)
    case stepDone(StepDone)
    case stepFailed(StepStop)
    /// Ctrl-C, a signal, a refused confirmation or a failed gate stopped the run; it can resume.
    case interrupted(StepStop)
    /// A primitive is about to be sent to the cluster (written and synced before it is).
    case primitiveCall(PrimitiveCallRecord)
    /// How a primitive (or a gate) ended.
    case primitiveResult(PrimitiveResultRecord)
    /// A process or HTTP call a real backend made.
    case command(CommandEntry)
    /// A confirmation or a choice put to the operator.
    case question(Question)
    case answer(Answer)
    case say(Said)
    case note(Note)
    /// A wait that has lasted a second (a gate, a start, a CLI call): what it waits for, what
    /// blocks it, whenever that changes, and how it ended.
    case wait(WaitRecord)
    /// The canary's running totals (`--canary`), at most once a second of target time: the
    /// timeline draws its rates and gaps from them.
    case canarySample(CanarySample)
    case sessionEnd(SessionEnd)

    /// The `kind` field.
    public enum Kind: String, Codable, Sendable {
        case sessionStart = "session_start"
        case resumed
        case stepStart = "step_start"
        case stepSkipped = "step_skipped"
        case stepDone = "step_done"
        case stepFailed = "step_failed"
        case primitive
        case command
        case confirmAsked = "confirm_asked"
        case confirmAnswered = "confirm_answered"
        case say
        case note
        case interrupted
        case canarySample = "canary_sample"
        case wait
        case sessionEnd = "session_end"
    }

    public var kind: Kind {
        switch self {
        case .sessionStart: return .sessionStart
        case .resumed: return .resumed
        case .stepStart: return .stepStart
        case .stepSkipped: return .stepSkipped
        case .stepDone: return .stepDone
        case .stepFailed: return .stepFailed
        case .interrupted: return .interrupted
        case .primitiveCall, .primitiveResult: return .primitive
        case .command: return .command
        case .question: return .confirmAsked
        case .answer: return .confirmAnswered
        case .say: return .say
        case .note: return .note
        case .canarySample: return .canarySample
        case .wait: return .wait
        case .sessionEnd: return .sessionEnd
        }
    }

    // MARK: Payloads

    public struct SessionStart: Equatable, Sendable {
        /// `run` (a runbook) or `shell`. Journals written before this field: a shell's runbook is "shell".
        public enum Mode: String, Sendable { case run, shell }
        public var mode: Mode
        /// The runbook's declared name (or file name).
        public var runbook: String?
        public var path: String?
        /// SHA-256 of the runbook's content.
        public var hash: String?
        /// SHA-256 of each module the runbook requires (`lib.common` -> hash).
        public var modules: [String: String]?
        public var params: [String: String]?
        /// The target's description (`sim:3`, the inventory's cluster).
        public var target: String?
        /// The cluster's name.
        public var cluster: String?
        /// A simulated cluster's unique id.
        public var clusterID: String?

        public init(mode: Mode = .run, runbook: String? = nil, path: String? = nil, hash: String? = nil,
                    modules: [String: String]? = nil, params: [String: String]? = nil, target: String? = nil,
                    cluster: String? = nil, clusterID: String? = nil) {
            self.mode = mode
            self.runbook = runbook
            self.path = path
            self.hash = hash
            self.modules = modules
            self.params = params
            self.target = target
            self.cluster = cluster
            self.clusterID = clusterID
        }
    }

    public struct Resumed: Equatable, Sendable {
        /// The step the resume starts from (in progress or failed).
        public var step: String?
        public init(step: String?) { self.step = step }
    }

    public struct StepRef: Equatable, Sendable {
        public var step: String
        public var title: String?
        public var message: String?
        public init(step: String, title: String? = nil, message: String? = nil) {
            self.step = step
            self.title = title
            self.message = message
        }
    }

    public struct StepDone: Equatable, Sendable {
        public var step: String
        public var title: String?
        /// `done`, or `done_if` when the step's own check said it was already done.
        public var outcome: String
        public var duration: Double?
        public init(step: String, title: String?, outcome: String = "done", duration: Double? = nil) {
            self.step = step
            self.title = title
            self.outcome = outcome
            self.duration = duration
        }
    }

    public struct StepStop: Equatable, Sendable {
        public var step: String?
        public var title: String?
        /// `failed`, `refused` or `interrupted`.
        public var outcome: String
        public var message: String?
        public init(step: String?, title: String?, outcome: String, message: String?) {
            self.step = step
            self.title = title
            self.outcome = outcome
            self.message = message
        }
    }

    public struct PrimitiveCallRecord: Equatable, Sendable {
        public var step: String?
        public var primitive: String
        public var node: String?
        public var args: [String: String]?
        /// The call's number in the session (1, 2, ...); its result carries the same.
        public var call: Int?
        public init(step: String?, primitive: String, node: String?, args: [String: String]?, call: Int?) {
            self.step = step
            self.primitive = primitive
            self.node = node
            self.args = args
            self.call = call
        }
    }

    public struct PrimitiveResultRecord: Equatable, Sendable {
        public var step: String?
        /// The primitive, or a gate (`gate.quorum_safe`...).
        public var primitive: String
        public var node: String?
        public var args: [String: String]?
        /// `ok` or `failed`; `refused` when the quorum interlock refused it (nothing was sent, no call
        /// entry precedes it); gates: `ok`, `refused`, `failed`; recovered on resume: also
        /// `not_applied`, `unknown`.
        public var outcome: String
        public var message: String?
        public var duration: Double?
        public var call: Int?
        /// The exit code the real CLI gives for this failure.
        public var code: Int?
        /// Written by a resume: the result was missing and was worked out afterwards.
        public var recovered: Bool?
        public init(step: String?, primitive: String, node: String?, args: [String: String]? = nil, outcome: String,
                    message: String? = nil, duration: Double? = nil, call: Int? = nil, code: Int? = nil, recovered: Bool? = nil) {
            self.step = step
            self.primitive = primitive
            self.node = node
            self.args = args
            self.outcome = outcome
            self.message = message
            self.duration = duration
            self.call = call
            self.code = code
            self.recovered = recovered
        }
        public var isGate: Bool { primitive.hasPrefix("gate.") }
    }

    public struct CommandEntry: Equatable, Sendable {
        /// `cli`, `shell`, `http` or `wait`.
        public var tool: String
        /// The command line (HTTP: method and URL; a wait: what was waited for), redacted.
        public var commandLine: String
        public var exitCode: String
        public var output: String?
        public var duration: Double?
        public init(tool: String, commandLine: String, exitCode: String, output: String?, duration: Double?) {
            self.tool = tool
            self.commandLine = commandLine
            self.exitCode = exitCode
            self.output = output
            self.duration = duration
        }
    }

    public struct Question: Equatable, Sendable {
        public var step: String?
        public var text: String
        /// The separate confirmation of an `{unsafe = true}` call.
        public var unsafe: Bool
        /// `ask()`'s choices; nil for a yes/no confirmation.
        public var choices: [String]?
        public init(step: String?, text: String, unsafe: Bool = false, choices: [String]? = nil) {
            self.step = step
            self.text = text
            self.unsafe = unsafe
            self.choices = choices
        }
    }

    public struct Answer: Equatable, Sendable {
        public var step: String?
        /// `yes`, `no`, or the choice made.
        public var answer: String
        /// `operator`, `answers`, `yes-flag` or `plan`.
        public var source: String?
        public init(step: String?, answer: String, source: String?) {
            self.step = step
            self.answer = answer
            self.source = source
        }
    }

    public struct Said: Equatable, Sendable {
        public var step: String?
        public var text: String
        public init(step: String?, text: String) {
            self.step = step
            self.text = text
        }
    }

    public struct Note: Equatable, Sendable {
        public var step: String?
        public var key: String
        public var value: String
        public init(step: String?, key: String, value: String) {
            self.step = step
            self.key = key
            self.value = value
        }
    }

    /// Running totals since the canary started; rates are the differences between two samples.
    public struct CanarySample: Equatable, Sendable {
        public var published: Int
        /// Confirmed by the broker (a publish that was not confirmed failed: a gap).
        public var confirmed: Int
        /// Distinct messages consumed back.
        public var consumed: Int
        public init(published: Int, confirmed: Int, consumed: Int) {
            self.published = published
            self.confirmed = confirmed
            self.consumed = consumed
        }
    }

    public struct WaitRecord: Equatable, Sendable {
        public var step: String?
        public var what: String
        /// What blocked it when this was written (empty: nothing observed).
        public var state: String
        /// Seconds waited so far (machine time).
        public var elapsed: Double
        public var limit: Double?
        /// `waiting` (still), `ok` or `failed`.
        public var outcome: String
        public init(step: String?, what: String, state: String, elapsed: Double, limit: Double?, outcome: String) {
            self.step = step
            self.what = what
            self.state = state
            self.elapsed = elapsed
            self.limit = limit
            self.outcome = outcome
        }
    }

    public struct SessionEnd: Equatable, Sendable {
        /// `done`, `failed`, `refused`, `interrupted`.
        public var outcome: String
        public var message: String?
        public init(outcome: String, message: String? = nil) {
            self.outcome = outcome
            self.message = message
        }
    }
}

// MARK: The line format

extension JournalEntry: Codable {
    /// The flat object every warren has written: every field optional but `kind` and `time`.
    struct Line: Codable {
        var kind: JournalEvent.Kind
        var time: Double
        var clock: Double?
        var step: String?
        var title: String?
        var primitive: String?
        var phase: String?
        var node: String?
        var args: [String: String]?
        var outcome: String?
        var message: String?
        var duration: Double?
        var runbook: String?
        var path: String?
        var hash: String?
        var params: [String: String]?
        var target: String?
        var cluster: String?
        var key: String?
        var value: String?
        var call: Int?
        var code: Int?
        var recovered: Bool?
        var modules: [String: String]?
        var clusterID: String?
        var mode: String?
        var published: Int?
        var confirmed: Int?
        var consumed: Int?
        var limit: Double?

        init(kind: JournalEvent.Kind, time: Double, clock: Double?) {
            self.kind = kind
            self.time = time
            self.clock = clock
        }
    }

    /// A line whose fields do not make the entry its kind needs.
    struct Incomplete: Error, CustomStringConvertible {
        var description: String
    }

    public init(from decoder: Decoder) throws {
        try self.init(line: try Line(from: decoder))
    }

    public func encode(to encoder: Encoder) throws {
        try line.encode(to: encoder)
    }

    init(line l: Line) throws {
        func need<T>(_ v: T?, _ field: String) throws -> T {
            guard let v else { throw Incomplete(description: "a \(l.kind.rawValue) entry without '\(field)'") }
            return v
        }
        let event: JournalEvent
        switch l.kind {
        case .sessionStart:
            let shell = l.mode == "shell" || (l.mode == nil && l.runbook == "shell" && l.path == nil)
            event = .sessionStart(.init(mode: shell ? .shell : .run, runbook: l.runbook, path: l.path, hash: l.hash,
                                        modules: l.modules, params: l.params, target: l.target, cluster: l.cluster,
                                        clusterID: l.clusterID))
        case .resumed: event = .resumed(.init(step: l.step))
        case .stepStart: event = .stepStart(.init(step: try need(l.step, "step"), title: l.title, message: l.message))
        case .stepSkipped: event = .stepSkipped(.init(step: try need(l.step, "step"), title: l.title, message: l.message))
        case .stepDone:
            event = .stepDone(.init(step: try need(l.step, "step"), title: l.title, outcome: l.outcome ?? "done", duration: l.duration))
        case .stepFailed:
            event = .stepFailed(.init(step: l.step, title: l.title, outcome: l.outcome ?? "failed", message: l.message))
        case .interrupted:
            event = .interrupted(.init(step: l.step, title: l.title, outcome: l.outcome ?? "interrupted", message: l.message))
        case .primitive:
            let name = try need(l.primitive, "primitive")
            if l.phase == "call" {
                event = .primitiveCall(.init(step: l.step, primitive: name, node: l.node, args: l.args, call: l.call))
            } else {
                event = .primitiveResult(.init(step: l.step, primitive: name, node: l.node, args: l.args,
                                               outcome: l.outcome ?? "ok", message: l.message, duration: l.duration,
                                               call: l.call, code: l.code, recovered: l.recovered))
            }
        case .command:
            event = .command(.init(tool: l.primitive ?? "cli", commandLine: l.value ?? "", exitCode: l.outcome ?? "",
                                   output: l.message, duration: l.duration))
        case .confirmAsked:
            event = .question(.init(step: l.step, text: l.message ?? "", unsafe: l.key == "unsafe",
                                    choices: l.value.map { $0.split(separator: "|").map(String.init) }))
        case .confirmAnswered: event = .answer(.init(step: l.step, answer: l.outcome ?? "", source: l.message))
        case .say: event = .say(.init(step: l.step, text: l.message ?? ""))
        case .note: event = .note(.init(step: l.step, key: try need(l.key, "key"), value: l.value ?? ""))
        case .canarySample:
            event = .canarySample(.init(published: try need(l.published, "published"), confirmed: try need(l.confirmed, "confirmed"),
                                        consumed: try need(l.consumed, "consumed")))
        case .wait:
            event = .wait(.init(step: l.step, what: l.message ?? "", state: l.value ?? "", elapsed: l.duration ?? 0, limit: l.limit,
                                outcome: l.outcome ?? "waiting"))
        case .sessionEnd: event = .sessionEnd(.init(outcome: l.outcome ?? "done", message: l.message))
        }
        self.init(event, time: l.time, clock: l.clock)
    }

    var line: Line {
        var l = Line(kind: kind, time: time, clock: clock)
        switch event {
        case .sessionStart(let s):
            l.runbook = s.runbook; l.path = s.path; l.hash = s.hash; l.modules = s.modules; l.params = s.params
            l.target = s.target; l.cluster = s.cluster; l.clusterID = s.clusterID
            l.mode = s.mode.rawValue
        case .resumed(let r): l.step = r.step
        case .stepStart(let s), .stepSkipped(let s): l.step = s.step; l.title = s.title; l.message = s.message
        case .stepDone(let s): l.step = s.step; l.title = s.title; l.outcome = s.outcome; l.duration = s.duration
        case .stepFailed(let s), .interrupted(let s): l.step = s.step; l.title = s.title; l.outcome = s.outcome; l.message = s.message
        case .primitiveCall(let c):
            l.step = c.step; l.primitive = c.primitive; l.phase = "call"; l.node = c.node; l.args = c.args; l.call = c.call
        case .primitiveResult(let r):
            l.step = r.step; l.primitive = r.primitive; l.phase = "result"; l.node = r.node; l.args = r.args
            l.outcome = r.outcome; l.message = r.message; l.duration = r.duration; l.call = r.call; l.code = r.code
            l.recovered = r.recovered
        case .command(let c):
            l.primitive = c.tool; l.value = c.commandLine; l.outcome = c.exitCode; l.message = c.output; l.duration = c.duration
        case .question(let q):
            l.step = q.step; l.message = q.text; l.key = q.unsafe ? "unsafe" : nil
            l.value = q.choices?.joined(separator: "|")
        case .answer(let a): l.step = a.step; l.outcome = a.answer; l.message = a.source
        case .say(let s): l.step = s.step; l.message = s.text
        case .note(let n): l.step = n.step; l.key = n.key; l.value = n.value
        case .canarySample(let c): l.published = c.published; l.confirmed = c.confirmed; l.consumed = c.consumed
        case .wait(let w):
            l.step = w.step; l.message = w.what; l.value = w.state; l.duration = w.elapsed; l.limit = w.limit; l.outcome = w.outcome
        case .sessionEnd(let e): l.outcome = e.outcome; l.message = e.message
        }
        return l
    }
}
