import Cluster
import Foundation
import Runbook

/// The one way a session runs: `warren run`, `resume`, the shell, drills, sweeps, devcluster's
/// cluster forming and the tests all go through it.
///
/// It owns the session directory (`target.json`, the journal, the recording, the report, the
/// owner marker), the cluster lock, the console, the cluster memory, the engine and its guard,
/// the target's persistence and resume. A drill that crashes and resumes exercises exactly the
/// code an operator's `warren resume` runs.
public final class SessionRunner {
    public let paths: StatePaths
    public let library: RunbookLibrary
    public let terminal: Terminal
    /// Rebuilds a session's target from its `target.json` (and its directory) on resume.
    public let restoreTarget: (TargetSpec, String) throws -> ClusterTarget
    /// `--break-lock`.
    public var breakLock = false
    /// `--canary`: canary traffic for the whole run, and its figures in the report.
    public var canary = false
    /// Whether sessions get their recording (`session.cast`) and report. Sweeps, which run a
    /// runbook hundreds of times and read only the journal and the cluster, turn them off.
    public var recordsSessions = true
    /// Ctrl-C (or SIGTERM, SIGHUP): asked by waits outside the runbook (the canary's drain).
    public var interruptRequested: () -> Bool = { false }
    /// Runs before each step (drills and sweeps inject faults). Throwing ``SimulatedCrash``
    /// stops the run as a crash of warren would.
    public var beforeStep: ((String, ClusterTarget) throws -> Void)?
    /// Runs after each primitive's result is journaled. Throwing ``SimulatedCrash`` stops the run
    /// as a crash would.
    public var afterPrimitive: ((PrimitiveCall, ClusterTarget) throws -> Void)?

    public init(paths: StatePaths, library: RunbookLibrary, terminal: Terminal,
                restoreTarget: @escaping (TargetSpec, String) throws -> ClusterTarget) {
        self.paths = paths
        self.library = library
        self.terminal = terminal
        self.restoreTarget = restoreTarget
    }

    public var store: SessionStore { SessionStore(directory: paths.sessions) }

    /// How a session run ended.
    public struct Outcome {
        public var session: String
        public var result: RunResult
        /// The target the session ran on (on resume: the one rebuilt from the session).
        public var target: ClusterTarget
        public var exitCode: Int32 { result.exitCode }
    }

    // MARK: A new session

    /// `warren run`: runs the runbook in a new session.
    /// - Throws: a refusal before anything was changed: the lock is held or unreadable, the
    ///   session cannot be created, questions with nobody to answer them (usage).
    public func run(_ source: RunbookSource, on target: ClusterTarget, options: RunOptions) throws -> Outcome {
        if options.confirmEachStep && !terminal.isInteractive && options.answers == nil {
            throw RunbookError.usage("--step asks before each step and stdin is not a terminal: pass --answers FILE (STEP-ID: yes|skip|continue|stop), or run without --step. Nothing was changed.")
        }
        if !terminal.isInteractive && !options.assumeYes && options.answers == nil && source.asksQuestions(library: library) {
            throw RunbookError.usage("runbook '\(source.fileName)' asks for confirmations and stdin is not a terminal: pass --yes or --answers FILE. Nothing was changed.")
        }
        let id = SessionStore.makeID()
        let lock = try ClusterLock(cluster: target.lockKey(session: id), session: id, paths: paths, breakLock: breakLock,
                                   notice: { [terminal] in terminal.write($0) })
        defer { lock.release() }
        let dir = paths.session(id)
        do {
            try StatePaths.ensureDirectory(dir)
            try writeAtomically(try JSONEncoder().encode(target.spec), to: dir + "/target.json")
        } catch {
            throw SessionsError.cannotWrite(path: dir, reason: "\(error)")
        }
        return execute(id: id, source: source, target: target, options: options, resume: nil, lock: lock)
    }

    /// `--plan`: the whole run against a copy of the cluster where the target has one (nothing
    /// is journaled), else reads only, every change shown and skipped.
    public func plan(_ source: RunbookSource, on target: ClusterTarget, options: RunOptions) throws -> RunResult {
        var options = options
        let rehearsal = try target.rehearsalCopy()
        options.mode = rehearsal == nil ? .dryPlan : .plan
        let planned = rehearsal ?? target
        let console = RecordingConsole(terminal: terminal, recorder: nil, redactor: target.redactor)
        let engine = RunbookEngine(source: source, backend: planned.backend, console: console, options: options, library: library,
                                   journal: nil, memory: try MemoryStore(path: nil), bindings: ClusterBindings(target: planned))
        console.write("PLAN (nothing is changed): \(rehearsal == nil ? "reads only; every change is shown and skipped" : "the whole runbook against a copy of the simulated cluster")\n")
        let result = engine.run()
        console.write("END OF PLAN: nothing was changed\(result.error == nil ? "" : "; the plan stopped where the run would")\n")
        return result
    }

    // MARK: Resume

    /// What `warren resume` found to do.
    public enum ResumeOutcome {
        case resumed(Outcome)
        /// Nothing to resume (no unfinished session, or it completed): the message says so.
        case nothingToDo(String)
    }

    /// A resume that cannot go ahead: exit 2, nothing changed.
    public struct ResumeRefused: Error, CustomStringConvertible {
        public var description: String
    }

    /// `warren resume [SESSION]`: continues the session where it stopped, on the cluster it ran on.
    /// - Throws: ``ResumeRefused``, ``JournalError``, ``SessionsError``, a target that cannot be
    ///   restored, a lock held: all before anything changes.
    public func resume(_ idOrPrefix: String?, options: RunOptions, force: Bool) throws -> ResumeOutcome {
        let id: String
        if let idOrPrefix {
            id = try store.resolve(idOrPrefix)
        } else {
            guard let latest = store.latestUnfinished() else {
                return .nothingToDo("No unfinished session to resume (`warren sessions` lists them).")
            }
            id = latest.id
        }
        let dir = paths.session(id)
        let summary = SessionSummary(entries: try JournalReader.read(dir + "/journal.jsonl"))
        if summary.isShell {
            throw ResumeRefused(description: "session \(id) is a shell session: shell sessions are recorded, not resumed. Nothing was done.")
        }
        if let owner = SessionOwner.live(dir) {
            throw ResumeRefused(description: "session \(id) is running now (pid \(owner.pid)); nothing was done. Wait for it to end, or stop it (Ctrl-C in its terminal, or `kill \(owner.pid)`), then resume.")
        }
        guard summary.resumable else { return .nothingToDo("Session \(id) completed; there is nothing to resume.") }
        guard let data = FileManager.default.contents(atPath: dir + "/target.json") else {
            throw ResumeRefused(description: "\(dir)/target.json is missing: cannot tell which cluster the session ran on. Nothing was done.")
        }
        let spec: TargetSpec
        do {
            spec = try JSONDecoder().decode(TargetSpec.self, from: data)
        } catch {
            throw ResumeRefused(description: "\(dir)/target.json does not describe a target (\(error)). Nothing was done.")
        }
        guard let path = summary.start.path else {
            throw ResumeRefused(description: "session \(id): the journal names no runbook file. Nothing was done.")
        }
        let source: RunbookSource
        do {
            source = try RunbookSource(path: path)
        } catch {
            throw ResumeRefused(description: "cannot read the session's runbook \(path) (\(error)). Nothing was done.")
        }
        if !force, let changed = changes(since: summary.start, source: source) {
            throw ResumeRefused(description: "\(changed) since session \(id) started; nothing was done. Resume with --force to run the new version from the step where it stopped.")
        }
        let target = try restoreTarget(spec, dir)
        for notice in target.notices { terminal.write("warren: \(notice)\n") }
        try checkIdentity(summary.start, target: target, session: id)
        let lock = try ClusterLock(cluster: target.lockKey(session: id), session: id, paths: paths, breakLock: breakLock,
                                   notice: { [terminal] in terminal.write($0) })
        defer { lock.release() }
        var options = options
        options.params = summary.start.params ?? [:]
        return .resumed(execute(id: id, source: source, target: target, options: options, resume: summary, lock: lock))
    }

    /// What changed in the runbook or a module it requires since the session started, if anything.
    private func changes(since start: JournalEvent.SessionStart, source: RunbookSource) -> String? {
        if source.hash != start.hash { return "the runbook \(source.path) changed (content hash differs)" }
        guard let before = start.modules else { return nil }
        let now = source.moduleHashes(library: library)
        let changed = Set(before.keys).union(now.keys).filter { before[$0] != now[$0] }.sorted()
        guard !changed.isEmpty else { return nil }
        let paths = source.requiredModules(library: library).filter { changed.contains($0.name) }.map(\.path)
        return "the module\(changed.count == 1 ? "" : "s") \(changed.joined(separator: ", ")) that the runbook requires changed"
            + (paths.isEmpty ? "" : " (\(paths.joined(separator: ", ")))")
    }

    /// The session's cluster must be the target's: a simulated cluster by its unique id, a real
    /// one by its name (with every node down, the inventory's name stands in; the backend checks
    /// the live name again before its first change).
    private func checkIdentity(_ start: JournalEvent.SessionStart, target: ClusterTarget, session: String) throws {
        let now = target.identity()
        if let id = start.clusterID, now.id != id {
            throw ResumeRefused(description: "session \(session) ran on simulated cluster id \(id), but its state \(target.spec.simState.map { "file \($0)" } ?? "") holds cluster id \(now.id ?? "none"): a different cluster. Nothing was done.")
        }
        if start.clusterID == nil, let expected = start.cluster, now.name != expected {
            throw ResumeRefused(description: "session \(session) ran on cluster '\(expected)' but the target is '\(now.name)'; nothing was done")
        }
    }

    // MARK: Running a session

    private func execute(id: String, source: RunbookSource, target: ClusterTarget, options: RunOptions,
                         resume: SessionSummary?, lock: ClusterLock) -> Outcome {
        let dir = paths.session(id)
        let owner = SessionOwner.claim(dir)
        defer { owner.release(dir) }
        target.attach(sessionDirectory: dir)
        let size = terminal.size
        let recorder = !recordsSessions ? nil : try? SessionRecorder(path: dir + "/session.cast", width: size.width, height: size.height,
                                            title: "warren \(resume == nil ? "run" : "resume") \(source.fileName) on \(target.backend.targetDescription)",
                                            redactor: target.redactor, append: resume != nil)
        defer { recorder?.close() }
        let console = RecordingConsole(terminal: terminal, recorder: recorder, redactor: target.redactor)
        var result = RunResult()
        let journal: JournalWriter
        let memory: MemoryStore
        do {
            journal = try JournalWriter(path: dir + "/journal.jsonl", redact: { [redactor = target.redactor] in redactor.redact($0) })
            memory = try MemoryStore(path: target.memoryKey.map { paths.memory + "/\($0).json" } ?? dir + "/memory.json")
        } catch {
            console.write("warren: \(error)\n")
            result.error = .usage("\(error)")
            return Outcome(session: id, result: result, target: target)
        }
        journal.beforeWrite = { try target.persist() }
        console.write("session \(id)\n")
        if let copy = journal.repairedTornLine {
            console.write("note: the journal's last line was torn (warren stopped while writing it); it was cut off, and the journal as it was is kept in \(copy)\n")
        }
        target.commandLog = { record in
            try? journal.append(JournalEntry(.command(.init(tool: record.kind.rawValue, commandLine: record.argv.joined(separator: " "),
                                                            exitCode: String(record.exitCode),
                                                            output: record.output.isEmpty ? nil : String(record.output.suffix(2000)),
                                                            duration: record.duration))), durable: false)
        }
        defer { target.commandLog = nil }

        var resumed = resume
        if let summary = resume, let pending = summary.pendingCall {
            resumed = recover(pending, session: id, summary: summary, target: target, journal: journal, console: console)
        }

        let bindings = ClusterBindings(target: target)
        bindings.afterFault = { try target.persist() }
        let engine = RunbookEngine(source: source, backend: target.backend, console: console, options: options, library: library,
                                   journal: journal, memory: memory, resume: resumed, session: id, bindings: bindings)
        // What the session waits for, live on a terminal, in the recording and the journal.
        let display = !recordsSessions ? nil : console.makeWaitDisplay(
            journal: { [target] event in try? journal.append(JournalEntry(event, clock: target.backend.now()), durable: false) },
            step: { [weak engine] in engine?.primitiveGuard.step })
        defer {
            display?.stop()
            target.waits = nil
        }
        target.waits = display?.waits
        engine.waits = display?.waits
        let identity = target.identity()
        engine.sessionStart = JournalEvent.SessionStart(modules: source.moduleHashes(library: library),
                                                        target: target.backend.targetDescription,
                                                        cluster: identity.name, clusterID: identity.id)
        let canary = startCanary(target, console: console, journal: journal)
        engine.primitiveGuard.lockLost = { lock.verify() }
        engine.primitiveGuard.checkpoint = { try target.persist(checkpoint: $0) }
        engine.primitiveGuard.afterPrimitive = { [afterPrimitive] call in
            if target.canaryTicksAfterPrimitives { canary?.tick() }
            try afterPrimitive?(call, target)
        }
        engine.beforeStep = { [beforeStep] step in try beforeStep?(step, target) }

        result = engine.run()
        if result.crashed { return Outcome(session: id, result: result, target: target) }
        if let canary {
            let figures = canary.finish(timeout: target.canaryTicksAfterPrimitives ? 0 : 60, interrupted: interruptRequested)
            console.write(figures.line + "\n")
            try? journal.append(JournalEntry(.note(.init(step: nil, key: "canary", value: figures.line)), clock: target.backend.now()))
        }
        if case .usage? = result.error, resume == nil {
            // Refused before anything changed: a new session leaves nothing behind.
            try? FileManager.default.removeItem(atPath: dir)
            return Outcome(session: id, result: result, target: target)
        }
        try? target.persist()
        if recordsSessions {
            writeReport(id: id, target: target, entries: (resume?.entries ?? []) + journal.written)
            console.write("report: \(dir)/report.md  (warren sessions show \(id)); timeline: report.html beside it\n")
        }
        return Outcome(session: id, result: result, target: target)
    }

    /// A primitive whose result was not journaled before warren stopped: whether it took effect,
    /// from the target's saved state where it keeps one, else from the cluster. The result is
    /// journaled now, so the step that re-runs knows (`previously`).
    private func recover(_ pending: JournalEvent.PrimitiveCallRecord, session: String, summary: SessionSummary,
                         target: ClusterTarget, journal: JournalWriter, console: Console) -> SessionSummary {
        let what = ([pending.primitive] + (pending.node.map { [$0] } ?? [])).joined(separator: " ")
        let verdict: PendingCall.Verdict
        var outcome: String
        var message: String?
        switch target.recordedOutcome(session: session, call: pending.call ?? summary.lastCallNumber) {
        case .applied(let o, let m)?:
            verdict = o == "ok" ? .applied("the saved cluster state has its outcome") : .notApplied("it failed: \(m ?? "")")
            outcome = o
            message = m
        case .notApplied?:
            verdict = .notApplied("the saved cluster state does not have it")
            outcome = verdict.outcome
        case nil:
            verdict = PendingCall.verify(pending, backend: target.backend)
            outcome = verdict.outcome
        }
        message = [verdict.detail, message].compactMap { $0 }.joined(separator: ": ")
        console.write("↻ \(what): its result was not journaled before warren stopped; \(verdict.detail) (\(outcome))\n")
        let entry = JournalEntry(.primitiveResult(.init(step: pending.step, primitive: pending.primitive, node: pending.node,
                                                        args: pending.args, outcome: outcome, message: message,
                                                        call: pending.call, recovered: true)),
                                 clock: target.backend.now())
        try? journal.append(entry)
        return SessionSummary(entries: summary.entries + [entry])
    }

    /// Declares the canary queue and starts its traffic (a thread of its own where it does not
    /// tick after every primitive); its samples go to the journal, for the timeline.
    private func startCanary(_ target: ClusterTarget, console: Console, journal: JournalWriter) -> Canary? {
        guard canary else { return nil }
        let transport: CanaryTransport
        do {
            transport = try target.makeCanaryTransport()
        } catch {
            console.write("--canary: \(error); running without canary traffic\n")
            return nil
        }
        let backend = target.backend
        let c = Canary(transport: transport, clock: { backend.now() })
        c.onSample = { s in
            let sample = JournalEvent.CanarySample(published: s.published, confirmed: s.confirmed, consumed: s.consumed)
            try? journal.append(JournalEntry(.canarySample(sample), clock: s.clock), durable: false)
        }
        do {
            try c.prepare()
        } catch {
            console.write("--canary: cannot declare the queue \(Canary.queue): \(error); running without canary traffic\n")
            return nil
        }
        console.write("canary traffic on quorum queue \(Canary.queue) through \(c.summary)\n")
        if target.canaryTicksAfterPrimitives { c.tick() } else { c.startTicking() }
        return c
    }

    /// Writes `report.md` from the journal and the cluster's final state, and `report.html`, the
    /// session's timeline, beside it.
    /// - Parameter entries: the journal's entries, when the caller has them all (what it read on
    ///   resume and what it wrote); nil: read from the journal file.
    public func writeReport(id: String, target: ClusterTarget, entries known: [JournalEntry]? = nil) {
        let dir = paths.session(id)
        guard let entries = known ?? (try? JournalReader.read(dir + "/" + SessionStore.journalFile)) else { return }
        // Replicas and leaders counted from the queues (a real cluster's status has no counts).
        let queues = try? target.backend.queues(type: nil)
        var status = try? target.backend.status()
        if let queues, let counted = status?.nodesCounting(queues) { status?.nodes = counted }
        let invariants = target.invariants()
        try? ReportWriter.write(to: dir + "/" + SessionStore.reportFile, entries: entries, finalStatus: status,
                                queues: queues, invariants: invariants, sessionID: id, redactor: target.redactor)
        try? HTMLReport.write(to: dir + "/" + SessionStore.htmlReportFile, entries: entries, nodes: target.backend.nodeNames,
                              invariants: invariants, sessionID: id, redactor: target.redactor)
    }
}
