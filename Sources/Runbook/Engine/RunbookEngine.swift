import Cluster
import Foundation
import Lua

/// How to run a runbook.
public struct RunOptions: Sendable {
    public enum Mode: Sendable {
        /// Change the cluster.
        case run
        /// Run against a copy of a simulated cluster: confirmations answer themselves, nothing is journaled.
        case plan
        /// Real cluster: reads are real, changes and waits are shown and skipped.
        case dryPlan
    }
    public var params: [String: String] = [:]
    public var assumeYes = false
    public var answers: AnswerScript?
    public var mode: Mode = .run
    /// `--start-at-step ID`: the steps before it are skipped (journaled as skipped).
    public var startAtStep: String?
    /// `--step`: each step asks first (yes, skip, continue without asking, stop).
    public var confirmEachStep = false
    public init() {}
}

/// A runbook's declared metadata and the steps its top level declares.
public struct Discovery: Sendable {
    public var metadata: RunbookMetadata
    public var steps: [(id: String, title: String)]
}

/// How a run ended.
public struct RunResult {
    /// nil: every step done.
    public var error: RunbookError?
    public var stepsDone = 0
    public var stepsSkipped = 0
    public var stepsTotal = 0
    public var metadata: RunbookMetadata?
    /// The run was stopped by a simulated crash (drills, sweeps): nothing more was journaled.
    public var crashed = false
    /// What the steps that did not finish changed (primitives that completed), for the summary.
    public var changedInStoppedStep: [String] = []
    public var exitCode: Int32 { crashed ? 3 : (error?.exitCode ?? 0) }
    public init() {}
}

/// Stops a run as a crash of warren would (sweeps, drills): nothing more is written.
public struct SimulatedCrash: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "simulated crash of warren" }
}

/// Runs a runbook step by step: announces, confirms, journals, guards primitives, resumes.
///
/// The engine is one part of a session; the session runner gives it the journal, the memory,
/// the bindings of the target and, on resume, what the journal said.
public final class RunbookEngine {
    public let source: RunbookSource
    public let backend: Backend
    public let console: Console
    public let options: RunOptions
    public let library: RunbookLibrary
    public let memory: MemoryStore
    /// The journal of the session being resumed.
    public let resume: SessionSummary?
    /// The one guard the runbook's primitives pass through.
    public let primitiveGuard: PrimitiveGuard
    /// Called before a step runs (drills inject faults). Throwing `SimulatedCrash` stops the run.
    public var beforeStep: ((String) throws -> Void)?
    /// What the session's start entry says besides the runbook and its parameters (the runner
    /// fills in target, cluster, module hashes).
    public var sessionStart = JournalEvent.SessionStart()
    /// Where gates, `wait_until` and primitives say what they wait for (see ``Waits``).
    public var waits: Waits? {
        didSet { primitiveGuard.waits = waits }
    }

    let journal: SessionJournal
    let questions: Questions
    let latch: RunLatch
    let bindings: ClusterBindings

    // Run state
    var lua: LuaState?
    var discovering = false
    var metadata: RunbookMetadata?
    var declaredSteps: [(id: String, title: String)] = []
    var seenSteps: [String: String] = [:]
    var stepIndex = 0
    var totalSteps = 0
    /// `--start-at-step`: whether the run has reached its first step.
    var reachedStart = false
    /// `--step` answered "continue": the remaining steps run without asking.
    var stepByStepEnded = false
    var result = RunResult()

    /// - Parameters:
    ///   - journal: nil for a plan (nothing is journaled).
    ///   - session: the session's id (primitive checkpoints name it).
    ///   - bindings: the target's cluster and fault bindings (default: the backend alone).
    public init(source: RunbookSource, backend: Backend, console: Console, options: RunOptions,
                library: RunbookLibrary, journal: JournalWriter?, memory: MemoryStore, resume: SessionSummary? = nil,
                session: String = "", bindings: ClusterBindings? = nil) {
        self.source = source
        self.backend = backend
        self.console = console
        self.options = options
        self.library = library
        self.memory = memory
        self.resume = resume
        latch = RunLatch()
        self.journal = SessionJournal(writer: options.mode == .run ? journal : nil, clock: { backend.now() }, latch: latch)
        questions = Questions(console: console, journal: self.journal, latch: latch,
                              mode: options.mode == .run ? .run : .plan, assumeYes: options.assumeYes, answers: options.answers)
        primitiveGuard = PrimitiveGuard(backend: backend, console: console, journal: self.journal, questions: questions,
                                        latch: latch, caller: .runbook, session: session, resumed: resume)
        primitiveGuard.dryRun = options.mode == .dryPlan
        self.bindings = bindings ?? ClusterBindings(backend: backend)
    }

    // MARK: Discovery

    /// Runs the top level without running steps: checks metadata, parameters, step ids and the
    /// answers file, and lists the steps. Changes nothing.
    public func discover() throws -> Discovery {
        discovering = true
        primitiveGuard.discovering = true
        defer {
            discovering = false
            primitiveGuard.discovering = false
        }
        let state = makeState()
        do {
            try state.execute(source.content, chunkName: chunkName)
        } catch let error as LuaError {
            if let abort = latch.abort { throw abort }
            switch error {
            case .interrupted:
                throw RunbookError.interrupted
            case .syntax(_, _, let message, _):
                throw RunbookError.usage("the runbook does not compile: \(message); nothing was changed")
            default:
                if state.interruptRequested { throw RunbookError.interrupted }
                throw RunbookError.usage("the runbook failed before its first step: \(error.description); nothing was changed")
            }
        }
        guard let metadata else {
            throw RunbookError.usage("\(source.path): the runbook does not declare itself: call runbook{ name = ..., summary = ... } first")
        }
        if let answers = options.answers {
            let unknown = answers.unknownSteps(known: Set(declaredSteps.map(\.id)))
            if let first = unknown.first {
                throw RunbookError.usage("\(answers.path):\(first.line): the answers file names the step '\(first.step ?? "")', which runbook '\(metadata.name)' does not have; its steps are: \(declaredSteps.map(\.id).joined(separator: ", "))")
            }
        }
        return Discovery(metadata: metadata, steps: declaredSteps)
    }

    var chunkName: String { (source.path as NSString).lastPathComponent }

    // MARK: Running

    /// Runs the runbook (or its remaining steps when resuming). Never throws: the result says how it ended.
    public func run() -> RunResult {
        let discovery: Discovery
        do {
            discovery = try discover()
        } catch let e as RunbookError {
            result.error = e
            if e == .interrupted {
                // Stopped while the runbook was read: nothing changed; the session can start again.
                if resume == nil { journalStart(name: source.fileName, params: options.params) }
                journal.append(.interrupted(.init(step: nil, title: nil, outcome: e.outcome, message: "interrupted before the first step")))
                journal.append(.sessionEnd(.init(outcome: e.outcome, message: "interrupted before the first step")))
                summarize()
            } else {
                console.write("error: \(e.description)\n")
            }
            return result
        } catch {
            result.error = .usage("\(error)")
            return result
        }
        if let start = options.startAtStep, resume == nil, !discovery.steps.contains(where: { $0.id == start }) {
            result.error = .usage("--start-at-step \(start): runbook '\(discovery.metadata.name)' has no such step; its steps: "
                + discovery.steps.map(\.id).joined(separator: ", ") + ". Nothing was changed")
            console.write("error: \(result.error!.description)\n")
            return result
        }
        totalSteps = discovery.steps.count
        result.metadata = discovery.metadata
        result.stepsTotal = totalSteps
        seenSteps = [:]
        declaredSteps = []
        stepIndex = 0
        metadata = nil

        if let resume {
            journal.append(.resumed(.init(step: resume.stoppedAt)))
        } else {
            journalStart(name: discovery.metadata.name, params: effectiveParams(discovery.metadata))
        }
        let header = options.mode == .run ? (resume == nil ? "runbook" : "resuming") : "plan"
        console.write("\(header) \(discovery.metadata.name) on \(backend.targetDescription): \(totalSteps) step\(totalSteps == 1 ? "" : "s")\n")

        let state = makeState()
        lua = state
        do {
            try state.execute(source.content, chunkName: chunkName)
        } catch {
            if latch.abort == nil {
                switch error {
                case LuaError.interrupted: latch.stop(.interrupted)
                case let e as LuaError: latch.stop(.failed(e.description))
                default: latch.stop(.failed("\(error)"))
                }
            }
        }
        lua = nil
        primitiveGuard.closeLine()
        if latch.crashed {
            result.crashed = true
            return result
        }
        result.error = latch.abort
        journal.append(.sessionEnd(.init(outcome: latch.abort?.outcome ?? "done", message: latch.abort?.description)))
        summarize()
        return result
    }

    private func journalStart(name: String, params: [String: String]) {
        var start = sessionStart
        start.mode = .run
        start.runbook = name
        start.path = source.path
        start.hash = source.hash
        start.params = params
        if start.target == nil { start.target = backend.targetDescription }
        journal.append(.sessionStart(start))
    }

    private func effectiveParams(_ m: RunbookMetadata) -> [String: String] {
        var p: [String: String] = [:]
        for spec in m.params { if let v = options.params[spec.name] ?? spec.defaultValue { p[spec.name] = v } }
        return p
    }

    private func summarize() {
        let name = result.metadata?.name ?? source.fileName
        var parts = ["\(result.stepsDone) done"]
        if result.stepsSkipped > 0 { parts.append("\(result.stepsSkipped) already done") }
        let counts = parts.joined(separator: ", ")
        let changed = result.changedInStoppedStep.isEmpty ? "nothing further was changed"
            : "the stopped step had changed: \(RunbookEngine.list(result.changedInStoppedStep, max: 8)); nothing further was changed"
        switch result.error {
        case nil:
            console.write("\n✔ \(name) completed on \(backend.targetDescription): \(counts)\n")
        case .interrupted?:
            console.write("\n■ \(name) interrupted: \(counts); \(changed); resumable with `warren resume`\n")
        case .refused(let m)?:
            console.write("\n■ \(name) stopped: \(m)\n  \(counts); \(changed); resumable with `warren resume`\n")
        case .failed(let m)?:
            console.write("\n✘ \(name) stopped: \(m)\n  \(counts); \(changed); resumable with `warren resume` once the cause is fixed\n")
        case .usage(let m)?:
            console.write("\nerror: \(m)\n")
        }
    }

    // MARK: Helpers

    public static func list(_ items: [String], max: Int = 5) -> String {
        items.count <= max ? items.joined(separator: ", ") : items.prefix(max).joined(separator: ", ") + " and \(items.count - max) more"
    }

    public static func describe(_ args: [String: String]) -> String {
        args.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }

    public static func duration(_ s: Double) -> String {
        if s < 10 { return String(format: "%.1fs", s) }
        if s < 120 { return String(format: "%.0fs", s) }
        return String(format: "%dm%02ds", Int(s) / 60, Int(s) % 60)
    }
}
