import Cluster
import Foundation
import Runbook
import Simulator

/// The operator's terminal (or a pipe).
public protocol Terminal: AnyObject {
    /// Whether a person can answer questions (stdin is a terminal).
    var isInteractive: Bool { get }
    var size: (width: Int, height: Int) { get }
    func write(_ text: String)
    /// Shows `prompt` and reads one answer.
    func ask(_ prompt: String) -> ConsoleAnswer
}

/// The engine's console: redacts, shows on the terminal, and records into the session's cast.
public final class RecordingConsole: Console {
    let terminal: Terminal
    let recorder: SessionRecorder?
    let redactor: Redactor

    public init(terminal: Terminal, recorder: SessionRecorder?, redactor: Redactor) {
        self.terminal = terminal
        self.recorder = recorder
        self.redactor = redactor
    }

    public func write(_ text: String) {
        let clean = redactor.redact(text)
        terminal.write(clean)
        recorder?.output(clean)
    }

    public func ask(_ prompt: String) -> ConsoleAnswer {
        let clean = redactor.redact(prompt)
        guard terminal.isInteractive else {
            write(prompt)
            return .unavailable
        }
        recorder?.output(clean)
        let answer = terminal.ask(clean)
        switch answer {
        case .line(let l): recorder?.input(redactor.redact(l) + "\n")
        case .interrupted: recorder?.output("^C\n")
        case .unavailable: recorder?.output("\n")
        }
        return answer
    }
}

/// Runs and resumes recorded sessions: session directory, lock, journal, recording, saved
/// simulator state, report.
public struct RecordedRuns {
    public var paths: StatePaths
    public var library: RunbookLibrary
    public var terminal: Terminal
    public var breakLock = false
    /// `--canary`: publish and consume canary messages for the whole run and report losses.
    public var canary = false

    public init(paths: StatePaths, library: RunbookLibrary, terminal: Terminal) {
        self.paths = paths
        self.library = library
        self.terminal = terminal
    }

    var store: SessionStore { SessionStore(directory: paths.sessions) }

    private func fail(_ message: String, code: Int32) -> Int32 {
        terminal.write("warren: \(message)\n")
        return code
    }

    /// The cluster's run lock for session `id` (a dead holder's lock is taken over with a notice).
    private func takeLock(_ id: String, _ target: Target) throws -> ClusterLock {
        try ClusterLock(cluster: target.lockKey(session: id), session: id, paths: paths, breakLock: breakLock,
                        notice: { terminal.write($0) })
    }

    /// `warren run`: a new session. Returns the exit code.
    public func run(_ source: RunbookSource, target: Target, options: RunOptions) -> Int32 {
        if options.mode != .run { return plan(source, target: target, options: options) }
        if !terminal.isInteractive && !options.assumeYes && options.answers == nil && source.asksQuestions(library: library) {
            return fail("runbook '\(source.fileName)' asks for confirmations and stdin is not a terminal: pass --yes or --answers FILE. Nothing was changed.", code: 1)
        }
        let id = SessionStore.makeID()
        let lock: ClusterLock
        do { lock = try takeLock(id, target) } catch { return fail("\(error)", code: 1) }
        defer { lock.release() }
        let dir = paths.session(id)
        do {
            try StatePaths.ensureDirectory(dir)
            try writeAtomically(try JSONEncoder().encode(target.spec), to: dir + "/target.json")
            if target.simulator != nil { try target.saveSimulator(to: simStatePath(id, target)) }
        } catch {
            return fail("cannot create the session in \(dir): \(error)", code: 1)
        }
        return execute(id: id, source: source, target: target, options: options, resume: nil)
    }

    /// `warren resume [SESSION]`.
    public func resume(_ idOrPrefix: String?, options: RunOptions, force: Bool,
                       makeTarget: (TargetSpec) throws -> Target) -> Int32 {
        let id: String
        do {
            if let idOrPrefix {
                id = try store.resolve(idOrPrefix)
            } else {
                guard let latest = store.latestUnfinished() else {
                    terminal.write("No unfinished session to resume (`warren sessions` lists them).\n")
                    return 0
                }
                id = latest.id
            }
        } catch {
            return fail("\(error)", code: 2)
        }
        let dir = paths.session(id)
        let summary: SessionSummary
        let spec: TargetSpec
        do {
            summary = SessionSummary(entries: try JournalReader.read(dir + "/journal.jsonl"))
            guard let data = FileManager.default.contents(atPath: dir + "/target.json") else {
                throw RunbookError.usage("\(dir)/target.json is missing: cannot tell which cluster the session ran on")
            }
            spec = try JSONDecoder().decode(TargetSpec.self, from: data)
        } catch {
            return fail("\(error)", code: 2)
        }
        guard summary.resumable else {
            terminal.write("Session \(id) completed; there is nothing to resume.\n")
            return 0
        }
        guard let path = summary.start.path else { return fail("\(id): the journal names no runbook file", code: 2) }
        let source: RunbookSource
        do {
            source = try RunbookSource(path: path)
        } catch {
            return fail("cannot read the session's runbook \(path): \(error)", code: 2)
        }
        if source.hash != summary.start.hash && !force {
            return fail("the runbook \(path) changed since session \(id) started (content hash differs); nothing was done. Resume with --force to run the new version from the step where it stopped.", code: 2)
        }
        let target: Target
        do {
            if spec.kind == .sim {
                let statePath = spec.simState ?? store.simStatePath(id)
                target = Target(spec: spec, backend: try Target.loadSimulator(statePath))
            } else {
                target = try makeTarget(spec)
            }
        } catch {
            return fail("\(error)", code: 2)
        }
        if let expected = summary.start.cluster, spec.kind == .inventory {
            // With every node down (a full shutdown stopped there) nothing answers: the inventory's
            // name stands in, and the backend checks the live name again before its first change.
            let actual = (try? target.backend.status().clusterName) ?? target.declaredClusterName ?? "?"
            guard actual == expected else {
                return fail("session \(id) ran on cluster '\(expected)' but the target is '\(actual)'; nothing was done", code: 2)
            }
        }
        let lock: ClusterLock
        do { lock = try takeLock(id, target) } catch { return fail("\(error)", code: 1) }
        defer { lock.release() }
        var options = options
        options.params = summary.start.params ?? [:]
        return execute(id: id, source: source, target: target, options: options, resume: summary)
    }

    private func simStatePath(_ id: String, _ target: Target) -> String {
        target.spec.simState ?? store.simStatePath(id)
    }

    private func execute(id: String, source: RunbookSource, target: Target, options: RunOptions, resume: SessionSummary?) -> Int32 {
        let dir = paths.session(id)
        let size = terminal.size
        let recorder = try? SessionRecorder(path: dir + "/session.cast", width: size.width, height: size.height,
                                            title: "warren \(resume == nil ? "run" : "resume") \(source.fileName) on \(target.backend.targetDescription)",
                                            redactor: target.redactor, append: resume != nil)
        defer { recorder?.close() }
        let console = RecordingConsole(terminal: terminal, recorder: recorder, redactor: target.redactor)
        let journal: JournalWriter
        let memory: MemoryStore
        do {
            journal = try JournalWriter(path: dir + "/journal.jsonl", redact: { [redactor = target.redactor] in redactor.redact($0) })
            memory = try MemoryStore(path: target.memoryPath(paths: paths) ?? dir + "/memory.json")
        } catch {
            return fail("\(error)", code: 2)
        }
        console.write("session \(id)\n")
        target.attachCommandLog?({ entry in try? journal.append(entry, durable: false) })
        defer { target.attachCommandLog?({ _ in }) }
        let engine = RunbookEngine(source: source, backend: target.backend, console: console, options: options,
                                   library: library, journal: journal, memory: memory, resume: resume)
        let statePath = simStatePath(id, target)
        let canary = startCanary(target, console: console)
        if target.simulator != nil {
            engine.afterPrimitive = { _ in
                canary?.tick()
                try target.saveSimulator(to: statePath)
            }
        }
        let result = engine.run()
        if let canary {
            let figures = canary.finish(timeout: target.simulator == nil ? 60 : 0, interrupted: target.interruptRequested)
            console.write(figures.line + "\n")
            try? journal.append(JournalEntry(kind: .note, clock: target.backend.now(), key: "canary", value: figures.line))
            if target.simulator != nil { try? target.saveSimulator(to: statePath) }
        }
        if case .usage? = result.error {
            // Refused before anything changed: a new session leaves nothing behind.
            if resume == nil { try? FileManager.default.removeItem(atPath: dir) }
            return result.exitCode
        }
        writeReport(id: id, target: target)
        console.write("report: \(dir)/report.md  (warren sessions show \(id))\n")
        return result.exitCode
    }

    /// Declares the canary queue and starts its traffic (a thread of its own on a real cluster).
    private func startCanary(_ target: Target, console: Console) -> Canary? {
        guard canary else { return nil }
        let transport: CanaryTransport
        do {
            if target.simulator != nil {
                transport = SimulatedCanaryTransport(backend: target.backend)
            } else if let make = target.makeCanaryTransport {
                transport = try make()
            } else {
                console.write("--canary: this target has no canary client; running without canary traffic\n")
                return nil
            }
        } catch {
            console.write("--canary: \(error); running without canary traffic\n")
            return nil
        }
        let backend = target.backend
        // Declaring the queue is a change: only on the cluster the inventory names.
        if let expected = target.declaredClusterName, let actual = try? backend.status().clusterName, actual != expected {
            console.write("--canary: the cluster answering is named '\(actual)', not '\(expected)'; no canary queue was declared\n")
            return nil
        }
        let c = Canary(transport: transport, clock: { backend.now() })
        do {
            try c.prepare()
        } catch {
            console.write("--canary: cannot declare the queue \(Canary.queue): \(error); running without canary traffic\n")
            return nil
        }
        console.write("canary traffic on quorum queue \(Canary.queue) through \(c.summary)\n")
        if target.simulator == nil { c.startTicking() } else { c.tick() }
        return c
    }

    /// Writes `report.md` from the journal and the cluster's final state.
    public func writeReport(id: String, target: Target) {
        let dir = paths.session(id)
        guard let entries = try? JournalReader.read(dir + "/journal.jsonl") else { return }
        // Replicas and leaders counted from the queues (a real cluster's status has no counts).
        let queues = try? target.backend.queues(type: nil)
        var status = try? target.backend.status()
        if let queues, let counted = status?.nodesCounting(queues) { status?.nodes = counted }
        try? ReportWriter.write(to: dir + "/report.md", entries: entries, finalStatus: status,
                                queues: queues, invariants: target.simulator?.invariants(),
                                sessionID: id, redactor: target.redactor)
    }

    /// `--plan`: on a simulator, the whole run against a copy; on a real cluster, reads only.
    func plan(_ source: RunbookSource, target: Target, options: RunOptions) -> Int32 {
        var options = options
        let backend: Backend
        if let sim = target.simulator {
            do {
                backend = try Target.loadSimulatorBytes(sim.snapshot())
            } catch {
                return fail("cannot copy the simulated cluster for the plan: \(error)", code: 1)
            }
            options.mode = .plan
        } else {
            backend = target.backend
            options.mode = .dryPlan
        }
        let console = RecordingConsole(terminal: terminal, recorder: nil, redactor: target.redactor)
        let engine = RunbookEngine(source: source, backend: backend, console: console, options: options, library: library,
                                   journal: nil, memory: (try? MemoryStore(path: nil))!, resume: nil)
        let result = engine.run()
        if result.error == nil {
            console.write(options.mode == .plan ? "(plan: ran against a copy of the simulated cluster; nothing was changed)\n"
                                                : "(plan: reads only; nothing was changed)\n")
        }
        return result.exitCode
    }
}

extension Target {
    static func loadSimulatorBytes(_ bytes: [UInt8]) throws -> Backend {
        try Simulator.restore(bytes)
    }
}
