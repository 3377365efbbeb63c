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
    /// The run was stopped by a simulated crash (sweeps): nothing more was journaled.
    public var crashed = false
    public var exitCode: Int32 { crashed ? 3 : (error?.exitCode ?? 0) }
}

/// Stops a run as a crash of warren would (sweeps, drills): nothing more is written.
public struct SimulatedCrash: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "simulated crash of warren" }
}

/// Runs a runbook step by step: announces, confirms, journals, enforces interlocks, resumes.
public final class RunbookEngine: PrimitiveObserver {
    public let source: RunbookSource
    public let backend: Backend
    public let console: Console
    public private(set) var options: RunOptions
    public let library: RunbookLibrary
    public let journal: JournalWriter?
    public let memory: MemoryStore
    /// The journal of the session being resumed.
    public let resume: SessionSummary?
    /// Called after every primitive that reached the cluster (the CLI saves the simulator's state).
    /// Throwing `SimulatedCrash` stops the run as a crash would.
    public var afterPrimitive: ((PrimitiveCall) throws -> Void)?
    /// Called before a step runs (drills inject faults). Throwing `SimulatedCrash` stops the run.
    public var beforeStep: ((String) throws -> Void)?

    // Run state
    private var lua: LuaState?
    private var discovering = false
    private var metadata: RunbookMetadata?
    private var declaredSteps: [(id: String, title: String)] = []
    private var seenSteps: [String: String] = [:]
    private var stepIndex = 0
    private var totalSteps = 0
    private var currentStep: String?
    private var currentTitle = ""
    private var confirmedInStep = false
    private var abort: RunbookError?
    private var crashed = false
    private var result = RunResult()
    private var openPrimitiveLine = false
    /// "step|primitive|node" of every primitive that succeeded, from the resumed journal and this run.
    private var completedCalls = Set<String>()

    public init(source: RunbookSource, backend: Backend, console: Console, options: RunOptions,
                library: RunbookLibrary, journal: JournalWriter?, memory: MemoryStore, resume: SessionSummary? = nil) {
        self.source = source
        self.backend = backend
        self.console = console
        self.options = options
        self.library = library
        self.journal = journal
        self.memory = memory
        self.resume = resume
        for e in resume?.entries ?? [] where e.kind == .primitive && e.phase == "result" && e.outcome == "ok" {
            completedCalls.insert("\(e.step ?? "")|\(e.primitive ?? "")|\(e.node ?? "")")
        }
    }

    // MARK: Discovery

    /// Runs the top level without running steps: checks metadata, parameters, step ids and the
    /// answers file, and lists the steps. Changes nothing.
    public func discover() throws -> Discovery {
        discovering = true
        defer { discovering = false }
        let state = makeState()
        do {
            try state.execute(source.content, chunkName: chunkName)
        } catch let error as LuaError {
            if let abort { throw abort }
            switch error {
            case .syntax(_, _, let message, _):
                throw RunbookError.usage("the runbook does not compile: \(message); nothing was changed")
            default:
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

    private var chunkName: String { (source.path as NSString).lastPathComponent }

    // MARK: Running

    /// Runs the runbook (or its remaining steps when resuming). Never throws: the result says how it ended.
    public func run() -> RunResult {
        let discovery: Discovery
        do {
            discovery = try discover()
        } catch let e as RunbookError {
            result.error = e
            console.write("error: \(e.description)\n")
            return result
        } catch {
            result.error = .usage("\(error)")
            return result
        }
        totalSteps = discovery.steps.count
        result.metadata = discovery.metadata
        result.stepsTotal = totalSteps
        seenSteps = [:]
        declaredSteps = []
        stepIndex = 0
        metadata = nil

        if options.mode == .run {
            if let resume {
                append(JournalEntry(kind: .resumed, clock: backend.now(), step: resume.inProgress ?? resume.failed))
            } else {
                append(JournalEntry(kind: .sessionStart, clock: backend.now(), runbook: discovery.metadata.name,
                                    path: source.path, hash: source.hash, params: effectiveParams(discovery.metadata),
                                    target: backend.targetDescription, cluster: (try? backend.status().clusterName)))
            }
        }
        let header = options.mode == .run ? (resume == nil ? "runbook" : "resuming") : "plan"
        console.write("\(header) \(discovery.metadata.name) on \(backend.targetDescription): \(totalSteps) step\(totalSteps == 1 ? "" : "s")\n")

        let state = makeState()
        lua = state
        do {
            try state.execute(source.content, chunkName: chunkName)
        } catch {
            if abort == nil {
                switch error {
                case LuaError.interrupted: abort = .interrupted
                case let e as LuaError: abort = .failed(e.description)
                default: abort = .failed("\(error)")
                }
            }
        }
        lua = nil
        closePrimitiveLine()
        if crashed {
            result.crashed = true
            return result
        }
        result.error = abort
        if options.mode == .run {
            append(JournalEntry(kind: .sessionEnd, clock: backend.now(), outcome: abort?.outcome ?? "done", message: abort?.description))
        }
        summarize()
        return result
    }

    private func effectiveParams(_ m: RunbookMetadata) -> [String: String] {
        var p: [String: String] = [:]
        for spec in m.params { if let v = options.params[spec.name] ?? spec.defaultValue { p[spec.name] = v } }
        return p
    }

    private func summarize() {
        let name = result.metadata?.name ?? chunkName
        var parts = ["\(result.stepsDone) done"]
        if result.stepsSkipped > 0 { parts.append("\(result.stepsSkipped) already done") }
        let counts = parts.joined(separator: ", ")
        switch result.error {
        case nil:
            console.write("\n✔ \(name) completed on \(backend.targetDescription): \(counts)\n")
        case .interrupted?:
            console.write("\n■ \(name) interrupted: \(counts); resumable with `warren resume`\n")
        case .refused(let m)?:
            console.write("\n■ \(name) stopped: \(m)\n  \(counts); nothing further was changed; resumable with `warren resume`\n")
        case .failed(let m)?:
            console.write("\n✘ \(name) stopped: \(m)\n  \(counts); nothing further was changed; resumable with `warren resume` once the cause is fixed\n")
        case .usage(let m)?:
            console.write("\nerror: \(m)\n")
        }
    }

    // MARK: Journal

    /// Journals an entry. Entries that announce an action or an answer are fsync'd (with all
    /// before them) before the action; step bookkeeping rides along with the next such entry.
    private func append(_ entry: JournalEntry) {
        guard !crashed, options.mode == .run, let journal else { return }
        let bookkeeping: Set<JournalEntry.Kind> = [.stepStart, .stepDone, .stepSkipped, .say, .note]
        do {
            try journal.append(entry, durable: !bookkeeping.contains(entry.kind))
        } catch {
            if abort == nil { abort = .failed("cannot write the journal (\(error)); stopping before anything else changes") }
        }
    }

    // MARK: The Lua API

    private func makeState() -> LuaState {
        let state = LuaState(memoryLimit: 64 << 20, instructionBudget: 200_000_000)
        state.output = { [unowned self] text in
            closePrimitiveLine()
            console.write(text)
        }
        state.installRequire(roots: library.requireRoots)
        let bindings = ClusterBindings(backend: backend)
        bindings.observer = self
        bindings.install(into: state)
        state.register("runbook") { [unowned self] args in try declare(args.table(0)); return [] }
        state.register("param") { [unowned self] args in
            let name = try args.string(0)
            guard let m = metadata else { throw RunbookError.failed("param('\(name)') before runbook{...}") }
            guard let spec = m.params.first(where: { $0.name == name }) else {
                throw LuaArgumentError("param('\(name)'): runbook '\(m.name)' declares no such parameter (it has: \(m.params.map(\.name).joined(separator: ", ")))")
            }
            return [(options.params[name] ?? spec.defaultValue).map { .string($0) } ?? .nil]
        }
        state.register("step") { [unowned self] args in try step(args) }
        // previously("stop", node): whether this step already completed that primitive, in an
        // earlier attempt (before a crash or interruption) or in this one. Lets a re-run step skip
        // what is done instead of doing it twice.
        state.register("previously") { [unowned self] args in
            let name = try args.string(0)
            let node = args[1].isNil ? "" : try bindings.node(args, 1)
            return [.bool(completedCalls.contains("\(currentStep ?? "")|\(name)|\(node)"))]
        }
        state.register("confirm") { [unowned self] args in [.bool(try confirm(args.string(0)))] }
        state.register("ask") { [unowned self] args in
            let choices = try args.table(1).array.compactMap { $0.stringValue }
            return [.string(try ask(args.string(0), choices: choices))]
        }
        state.register("say") { [unowned self] args in
            let text = args.values.map { state.plainString($0) }.joined(separator: " ")
            guard !discovering else { return [] }
            closePrimitiveLine()
            console.write("  » \(text)\n")
            append(JournalEntry(kind: .say, clock: backend.now(), step: currentStep, message: text))
            return []
        }
        state.register("note") { [unowned self] args in
            let key = try args.string(0), value = state.plainString(args[1])
            guard !discovering else { return [] }
            closePrimitiveLine()
            console.write("  note: \(key) = \(value)\n")
            append(JournalEntry(kind: .note, clock: backend.now(), step: currentStep, key: key, value: value))
            return []
        }
        state.register(table: "memory", [
            "get": { [unowned self] args in [memory.get(try args.string(0))] },
            "set": { [unowned self] args in
                guard !discovering, options.mode == .run else { return [] }
                try memory.set(args.string(0), args[1])
                return []
            },
        ])
        state.register("wait_until") { [unowned self] args in
            let fn = try args.function(0)
            let opts = try args.optionalTable(1)
            try waitUntil(what: opts["what"].stringValue ?? "the condition", timeout: opts["timeout"].doubleValue ?? 300,
                          every: opts["every"].doubleValue ?? 5) {
                let r = try fn.call([])
                guard let first = r.first else { return false }
                if case .bool(false) = first { return false }
                return !first.isNil
            }
            return [true]
        }
        state.register(table: "gate", [
            "quorum_safe": { [unowned self] args in
                let node = try bindings.node(args, 0)
                try gateQuorumSafe(node)
                return []
            },
            "cluster_healthy": { [unowned self] args in
                let options = try args.optionalTable(0)
                let except = options["except"].isNil ? nil
                    : try bindings.node(from: options["except"], "bad option 'except' to 'cluster_healthy'")
                try gateClusterHealthy(timeout: options["timeout"].doubleValue ?? 300, except: except)
                return []
            },
            "node_running": { [unowned self] args in
                let node = try bindings.node(args, 0)
                try gateNodeRunning(node, timeout: try args.optionalTable(1)["timeout"].doubleValue ?? 300)
                return []
            },
        ])
        return state
    }

    private func declare(_ t: LuaTable) throws {
        guard metadata == nil else { throw RunbookError.usage("runbook{...} is called twice") }
        let name = t["name"].stringValue ?? source.fileName
        var params: [ParamSpec] = []
        if case .table(let list) = t["params"] {
            for (i, p) in list.array.enumerated() {
                guard case .table(let pt) = p, let pname = pt["name"].stringValue else {
                    throw RunbookError.usage("runbook '\(name)': params[\(i + 1)] needs a name")
                }
                let def: String? = pt["default"].isNil ? nil : (pt["default"].stringValue ?? lua?.plainString(pt["default"]) ?? "\(pt["default"])")
                params.append(ParamSpec(name: pname, defaultValue: def, help: pt["help"].stringValue ?? "",
                                        required: pt["required"].boolValue ?? false))
            }
        }
        metadata = RunbookMetadata(name: name, summary: t["summary"].stringValue ?? "", params: params)
        for given in options.params.keys.sorted() where !params.contains(where: { $0.name == given }) {
            let takes = params.isEmpty ? "it takes no parameters" : "it takes: \(params.map(\.name).joined(separator: ", "))"
            throw abortWith(.usage("unknown parameter '\(given)' for runbook '\(name)'; \(takes); nothing was changed"))
        }
        for p in params where p.required && p.defaultValue == nil && options.params[p.name] == nil {
            throw abortWith(.usage("runbook '\(name)' needs the parameter '\(p.name)' (\(p.help)): add --param \(p.name)=VALUE; nothing was changed"))
        }
    }

    private func abortWith(_ e: RunbookError) -> RunbookError {
        if abort == nil { abort = e }
        return abort!
    }

    static func slug(_ title: String) -> String {
        var out = ""
        for ch in title.lowercased() {
            if ch.isLetter || ch.isNumber { out.append(ch) } else if !out.hasSuffix("-") && !out.isEmpty { out.append("-") }
        }
        while out.hasSuffix("-") { out.removeLast() }
        return out.isEmpty ? "step" : out
    }

    private func step(_ args: LuaArguments) throws -> [LuaValue] {
        if let abort { throw abort }
        guard metadata != nil else { throw abortWith(.usage("step() before runbook{...}: declare the runbook first")) }
        var id: String, title: String
        var run: LuaFunction, doneIf: LuaFunction?
        switch args[0] {
        case .string(let t):
            title = t
            id = RunbookEngine.slug(t)
            run = try args.function(1)
        case .table(let t):
            guard case .function(let r) = t["run"] else { throw LuaArgumentError("step{...}: 'run' must be a function") }
            run = r
            title = t["title"].stringValue ?? t["id"].stringValue ?? "step"
            id = t["id"].stringValue ?? RunbookEngine.slug(title)
            if case .function(let d) = t["done_if"] { doneIf = d }
        default:
            throw LuaArgumentError("step(title, function) or step{ id =, title =, run =, done_if = } expected")
        }
        guard currentStep == nil else {
            throw abortWith(.failed("step '\(id)' is declared inside step '\(currentStep!)'; steps cannot nest"))
        }
        if let other = seenSteps[id] {
            throw abortWith(.usage("the step id '\(id)' is used twice (\"\(other)\" and \"\(title)\"); give each step a unique id; nothing was changed"))
        }
        seenSteps[id] = title
        declaredSteps.append((id, title))
        stepIndex += 1
        if discovering { return [] }
        let label = "[\(stepIndex)/\(max(totalSteps, stepIndex))] \(title)"

        if let resume, resume.stepsDone.contains(id) {
            console.write("↷ \(label): done in an earlier run\n")
            append(JournalEntry(kind: .stepSkipped, clock: backend.now(), step: id, title: title))
            result.stepsSkipped += 1
            return []
        }
        do {
            try beforeStep?(id)
        } catch is SimulatedCrash {
            crashed = true
            throw abortWith(.interrupted)
        }
        if options.mode == .run, let doneIf, resume?.inProgress == id || resume?.failed == id {
            let r = try doneIf.call([])
            if let first = r.first, first.boolValue ?? !first.isNil {
                console.write("↷ \(label): already done (its done_if says so)\n")
                append(JournalEntry(kind: .stepDone, clock: backend.now(), step: id, title: title, outcome: "done_if"))
                result.stepsDone += 1
                return []
            }
        }
        console.write("\n▶ \(label)\n")
        append(JournalEntry(kind: .stepStart, clock: backend.now(), step: id, title: title))
        currentStep = id
        currentTitle = title
        confirmedInStep = false
        let started = backend.now()
        do {
            _ = try run.call([])
        } catch {
            closePrimitiveLine()
            currentStep = nil
            if crashed { throw error }
            let e: RunbookError
            if let abort {
                e = abort
            } else if case LuaError.interrupted = error {
                e = .interrupted
            } else if lua?.interruptRequested ?? false {
                // Ctrl-C also reached the tool the primitive was running, which failed because of it.
                e = .interrupted
            } else if let le = error as? LuaError {
                e = .failed("step '\(id)' failed: \(le.description)")
            } else {
                e = .failed("step '\(id)' failed: \(error)")
            }
            abort = e
            switch e {
            case .interrupted, .refused:
                append(JournalEntry(kind: .interrupted, clock: backend.now(), step: id, title: title, outcome: e.outcome, message: e.description))
                console.write("■ \(label): \(e.outcome)\n")
            default:
                append(JournalEntry(kind: .stepFailed, clock: backend.now(), step: id, title: title, outcome: e.outcome, message: e.description))
                console.write("✘ \(label): \(e.description)\n")
            }
            throw e
        }
        closePrimitiveLine()
        currentStep = nil
        if let abort { throw abort }  // a refusal swallowed by pcall inside the step still stops the run
        let duration = backend.now() - started
        append(JournalEntry(kind: .stepDone, clock: backend.now(), step: id, title: title, outcome: "done", duration: duration))
        console.write("✔ \(label) (\(RunbookEngine.duration(duration)))\n")
        result.stepsDone += 1
        return []
    }

    public static func duration(_ s: Double) -> String {
        if s < 10 { return String(format: "%.1fs", s) }
        if s < 120 { return String(format: "%.0fs", s) }
        return String(format: "%dm%02ds", Int(s) / 60, Int(s) % 60)
    }

    // MARK: Questions

    /// Gets an answer: plan mode, then the answers file, then --yes (not for unsafe), then the terminal.
    private func answer(_ prompt: String, unsafe: Bool, yesAnswer: String) throws -> (String, String) {
        let step = currentStep ?? ""
        if options.mode != .run {
            console.write("\(prompt)\(yesAnswer) (plan)\n")
            return (yesAnswer, "plan")
        }
        if var script = options.answers, let a = script.next(step: step, unsafe: unsafe) {
            options.answers = script
            console.write("\(prompt)\(a) (from \((script.path as NSString).lastPathComponent))\n")
            return (a, "answers")
        }
        if options.assumeYes && !unsafe {
            console.write("\(prompt)\(yesAnswer) (--yes)\n")
            return (yesAnswer, "yes-flag")
        }
        switch console.ask(prompt) {
        case .line(let l): return (l.trimmingCharacters(in: .whitespaces), "operator")
        case .interrupted: throw abortWith(.interrupted)
        case .unavailable:
            let why = unsafe ? "an unsafe confirmation needs an operator at a terminal or an answer keyed '\(step)#unsafe' in --answers (--yes does not cover it)"
                : "stdin is not a terminal and neither --yes nor an answer in --answers was given"
            console.write("\n")
            let question = prompt.trimmingCharacters(in: .whitespaces).replacing("? ", with: "", maxReplacements: 1)
                .replacing(" [y/N]", with: "")
            throw abortWith(.refused("no answer to \"\(question)\" in step '\(step)': \(why); the step stopped before changing anything after this question"))
        }
    }

    private func confirm(_ text: String, unsafe: Bool = false) throws -> Bool {
        if let abort { throw abort }
        guard let step = currentStep else {
            throw abortWith(.failed("confirm(\"\(text)\") is outside any step; confirmations belong to the step whose changes they approve"))
        }
        append(JournalEntry(kind: .confirmAsked, clock: backend.now(), step: step, message: text, key: unsafe ? "unsafe" : nil))
        closePrimitiveLine()
        let (raw, source) = try answer("? \(text) [y/N] ", unsafe: unsafe, yesAnswer: "yes")
        let yes = ["y", "yes"].contains(raw.lowercased())
        append(JournalEntry(kind: .confirmAnswered, clock: backend.now(), step: step, outcome: yes ? "yes" : "no", message: source))
        guard yes else {
            throw abortWith(.refused("confirmation refused at step '\(step)': \"\(text)\""))
        }
        if !unsafe { confirmedInStep = true }
        return true
    }

    private func ask(_ text: String, choices: [String]) throws -> String {
        if let abort { throw abort }
        guard let step = currentStep else { throw abortWith(.failed("ask(\"\(text)\") is outside any step")) }
        guard !choices.isEmpty else { throw LuaArgumentError("ask: give at least one choice") }
        append(JournalEntry(kind: .confirmAsked, clock: backend.now(), step: step, message: text, value: choices.joined(separator: "|")))
        closePrimitiveLine()
        let menu = choices.enumerated().map { "\($0.offset + 1)) \($0.element)" }.joined(separator: "  ")
        for _ in 0..<3 {
            let (raw, source) = try answer("? \(text) \(menu): ", unsafe: false, yesAnswer: choices[0])
            let pick = choices.first { $0.lowercased() == raw.lowercased() } ?? Int(raw).flatMap { $0 >= 1 && $0 <= choices.count ? choices[$0 - 1] : nil }
            if let pick {
                append(JournalEntry(kind: .confirmAnswered, clock: backend.now(), step: step, outcome: pick, message: source))
                return pick
            }
            console.write("  '\(raw)' is not one of: \(choices.joined(separator: ", "))\n")
            if source != "operator" { break }
        }
        throw abortWith(.refused("no valid answer to \"\(text)\" in step '\(step)'"))
    }

    // MARK: Waiting and gates

    private func waitUntil(what: String, timeout: Double, every: Double, _ condition: () throws -> Bool) throws {
        let start = backend.now()
        while true {
            if try condition() { return }
            if lua?.interruptRequested ?? false { throw abortWith(.interrupted) }
            // Millisecond resolution: a remainder below 1 ms counts as the deadline (a clock that
            // cannot advance by less would otherwise spin).
            let remaining = timeout - (backend.now() - start)
            if remaining < 0.001 {
                throw RunbookError.failed("timed out after \(RunbookEngine.duration(timeout)) waiting for \(what)")
            }
            backend.sleep(min(max(every, 0.1), max(remaining, 0.001)))
        }
    }

    private func journalGate(_ name: String, node: String?, args: [String: String]? = nil, outcome: String, message: String? = nil) {
        append(JournalEntry(kind: .primitive, clock: backend.now(), step: currentStep, primitive: name, phase: "result",
                            node: node, args: args, outcome: outcome, message: message))
    }

    private func gateQuorumSafe(_ node: String) throws {
        if let abort { throw abort }
        closePrimitiveLine()
        let critical = try backend.quorumCritical(node)
        if critical.isEmpty {
            console.write("  · gate quorum_safe \(node): ok\n")
            journalGate("gate.quorum_safe", node: node, outcome: "ok")
            return
        }
        let list = RunbookEngine.list(critical)
        let message = "gate quorum_safe: \(node) is quorum-critical for \(critical.count) queue\(critical.count == 1 ? "" : "s") (\(list)): stopping it would leave them without a majority. \(node) was not touched. Wait until their other replicas are online (check `queues`), then `warren resume`"
        console.write("  · gate quorum_safe \(node): REFUSED\n")
        journalGate("gate.quorum_safe", node: node, outcome: "refused", message: message)
        throw abortWith(.failed(message))
    }

    public static func list(_ items: [String], max: Int = 5) -> String {
        items.count <= max ? items.joined(separator: ", ") : items.prefix(max).joined(separator: ", ") + " and \(items.count - max) more"
    }

    /// What keeps the cluster from being healthy now (empty when healthy). The `except` member
    /// may be down (a failed node being replaced): neither its absence nor its alarms count, but
    /// queues still need a leader and a majority without it.
    public static func healthProblems(_ backend: Backend, except: String? = nil) throws -> [String] {
        let s = try backend.status()
        var problems = membershipProblems(s, except: except)
        let unavailable = withoutMajority(try backend.queues(type: nil))
        if !unavailable.isEmpty { problems.append("queues without a leader or majority: \(list(unavailable))") }
        return problems
    }

    /// Members not running, partitions and alarms (the `except` member's absence and alarms aside).
    public static func membershipProblems(_ s: ClusterStatus, except: String? = nil) -> [String] {
        var problems: [String] = []
        let notRunning = s.members.filter { !s.running.contains($0) && $0 != except }
        if !notRunning.isEmpty { problems.append("not running: \(notRunning.joined(separator: ", "))") }
        if !s.partitions.isEmpty { problems.append("partitions: \(s.partitions.keys.sorted().joined(separator: ", "))") }
        for (n, a) in s.alarms.sorted(by: { $0.key < $1.key }) where n != except {
            problems.append("alarm on \(n): \(a.joined(separator: ", "))")
        }
        return problems
    }

    /// Quorum queues and streams without a leader or a majority of online replicas.
    public static func withoutMajority(_ queues: [QueueInfo]) -> [String] {
        queues.filter { $0.type != .classic && (!$0.available || $0.leader == nil) }.map(\.name)
    }

    private func gateClusterHealthy(timeout: Double, except: String?) throws {
        if let abort { throw abort }
        closePrimitiveLine()
        let label = "gate cluster_healthy" + (except.map { " (all but \($0))" } ?? "")
        var last: [String] = []
        do {
            try waitUntil(what: "a healthy cluster", timeout: timeout, every: 0.5) {
                last = try RunbookEngine.healthProblems(backend, except: except)
                return last.isEmpty
            }
        } catch let e as RunbookError where e != .interrupted {
            let message = "\(label): the cluster is not healthy after \(RunbookEngine.duration(timeout)): \(last.joined(separator: "; ")). No further node was touched"
            console.write("  · \(label): FAILED\n")
            journalGate("gate.cluster_healthy", node: nil, args: except.map { ["except": $0] }, outcome: "failed", message: message)
            throw abortWith(.failed(message))
        }
        console.write("  · \(label): ok\n")
        journalGate("gate.cluster_healthy", node: nil, args: except.map { ["except": $0] }, outcome: "ok")
    }

    private func gateNodeRunning(_ node: String, timeout: Double) throws {
        if let abort { throw abort }
        closePrimitiveLine()
        do {
            try waitUntil(what: "\(node) to run", timeout: timeout, every: 0.5) {
                try backend.status().running.contains(node)
            }
        } catch let e as RunbookError where e != .interrupted {
            let message = "gate node_running: \(node) is not running after \(RunbookEngine.duration(timeout))"
            console.write("  · gate node_running \(node): FAILED\n")
            journalGate("gate.node_running", node: node, outcome: "failed", message: message)
            throw abortWith(.failed(message))
        }
        console.write("  · gate node_running \(node): ok\n")
        journalGate("gate.node_running", node: node, outcome: "ok")
    }

    // MARK: PrimitiveObserver

    public func willCall(_ call: PrimitiveCall) throws -> Bool {
        if let abort { throw abort }
        if call.kind == .read { return true }
        let what = call.node.map { "\(call.name) on \($0)" } ?? call.name
        guard let step = currentStep else {
            if discovering || call.kind == .wait { return !discovering }
            throw abortWith(.failed("refused: \(what) is called outside any step; changes belong in a step. Nothing was sent to the cluster"))
        }
        if call.kind == .destructive && !confirmedInStep {
            throw abortWith(.failed("refused: step '\(step)' calls the destructive primitive \(what) without a confirm() before it in the same step. Nothing was sent to the cluster"))
        }
        if call.interlocked, let node = call.node, !RunbookEngine.drained(node, backend) {
            let critical: [String]
            do {
                critical = try backend.quorumCritical(node)
            } catch {
                // A node whose app is not running holds no running replica: nothing more to lose.
                // Otherwise an unanswered check is no permission.
                guard (try? backend.status())?.running.contains(node) == false else {
                    throw abortWith(.failed("refused: cannot tell whether \(node) is quorum-critical before \(call.name) (\(error)). Nothing was sent to the cluster. Check `queues`, then `warren resume`"))
                }
                critical = []
            }
            if !critical.isEmpty {
                let why = "\(node) is quorum-critical for \(critical.count) queue\(critical.count == 1 ? "" : "s") (\(RunbookEngine.list(critical))): \(call.name) would leave them without a majority"
                guard call.unsafe else {
                    throw abortWith(.failed("refused: \(why). Nothing was sent to the cluster. Wait for their replicas, or pass {unsafe = true} (asks a separate confirmation)"))
                }
                _ = try confirm("UNSAFE: \(why). Proceed anyway?", unsafe: true)
            }
        }
        if options.mode == .dryPlan {
            console.write("  · would call \(what)\(call.args.isEmpty ? "" : " " + RunbookEngine.describe(call.args))\n")
            return false
        }
        append(JournalEntry(kind: .primitive, clock: backend.now(), step: step, primitive: call.name, phase: "call",
                            node: call.node, args: call.args.isEmpty ? nil : call.args))
        closePrimitiveLine()
        console.write("  · \(call.node.map { "\($0) " } ?? "")\(call.name)\(call.args.isEmpty ? "" : " " + RunbookEngine.describe(call.args)) …")
        openPrimitiveLine = true
        return true
    }

    public func didCall(_ call: PrimitiveCall, error: Error?, duration: Double) {
        if call.kind == .read { return }
        let outcome = error == nil ? "ok" : "failed"
        if error == nil { completedCalls.insert("\(currentStep ?? "")|\(call.name)|\(call.node ?? "")") }
        append(JournalEntry(kind: .primitive, clock: backend.now(), step: currentStep, primitive: call.name, phase: "result",
                            node: call.node, outcome: outcome, message: error.map { "\($0)" }, duration: duration))
        if openPrimitiveLine {
            console.write(error == nil ? " ok (\(RunbookEngine.duration(duration)))\n" : " FAILED\n    \(error!)\n")
            openPrimitiveLine = false
        }
        do {
            try afterPrimitive?(call)
        } catch is SimulatedCrash {
            crashed = true
            _ = abortWith(.interrupted)
        } catch {
            _ = abortWith(.failed("cannot save the state after \(call.name): \(error)"))
        }
    }

    private func closePrimitiveLine() {
        if openPrimitiveLine {
            console.write("\n")
            openPrimitiveLine = false
        }
    }

    /// A drained node passes the quorum interlock (rabbitmq.md section 3): its followers are
    /// already stopped and its leaders moved, so stopping it takes nothing more away. (Real
    /// 3.10.8 reports a drained node as quorum-critical through the management API.)
    public static func drained(_ node: String, _ backend: Backend) -> Bool {
        (try? backend.nodes())?.first { $0.name == node }?.underMaintenance ?? false
    }

    public static func describe(_ args: [String: String]) -> String {
        args.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }
}
