import Cluster
import Foundation
import Runbook
import Simulator

/// One session of a runbook against a simulator, kept on disk as `warren run` keeps it: a session
/// directory with its journal and the simulator's state saved after every primitive, a memory file
/// for the cluster. A simulated crash of warren followed by `resume()` continues from the journal on
/// the saved state (a new simulator restored from the file), exactly as `warren resume` does.
/// Used by drills and sweeps.
final class SimSession {
    let paths: StatePaths
    let id: String
    let library: RunbookLibrary
    let memoryPath: String
    private(set) var sim: Simulator

    var dir: String { paths.session(id) }
    var journalPath: String { dir + "/journal.jsonl" }
    var statePath: String { dir + "/" + SessionStore.simStateFile }

    /// Called before each step (after the state is saved, a fault may be injected); return true to crash.
    var beforeStep: ((String) throws -> Bool)?
    /// Called after each primitive, before the state is saved; return true to crash after saving.
    var afterPrimitive: ((PrimitiveCall) throws -> Bool)?

    init(paths: StatePaths, id: String, sim: Simulator, library: RunbookLibrary, memoryPath: String) throws {
        self.paths = paths
        self.id = id
        self.sim = sim
        self.library = library
        self.memoryPath = memoryPath
        try StatePaths.ensureDirectory(paths.session(id))
        try StatePaths.ensureDirectory((memoryPath as NSString).deletingLastPathComponent)
        try save()
    }

    func save() throws {
        try writeAtomically(Data(try sim.snapshot()), to: statePath)
    }

    var journal: [JournalEntry] { (try? JournalReader.read(journalPath)) ?? [] }

    /// Makes an engine for a new run (resume: nil) or for a resume of this session's journal.
    func engine(source: RunbookSource, options: RunOptions, console: Console, resume: Bool) throws -> RunbookEngine {
        var options = options
        var summary: SessionSummary?
        if resume {
            let entries = try JournalReader.read(journalPath)
            guard !entries.isEmpty else { throw RunbookError.usage("\(journalPath): empty journal, nothing to resume") }
            summary = SessionSummary(entries: entries)
            options.params = summary!.start.params ?? options.params
        }
        let engine = RunbookEngine(source: source, backend: sim, console: console, options: options, library: library,
                                   journal: try JournalWriter(path: journalPath), memory: try MemoryStore(path: memoryPath),
                                   resume: summary)
        engine.beforeStep = { [unowned self] id in
            let crash = try beforeStep?(id) ?? false
            try save()
            if crash { throw SimulatedCrash() }
        }
        engine.afterPrimitive = { [unowned self] call in
            let crash = try afterPrimitive?(call) ?? false
            try save()
            if crash { throw SimulatedCrash() }
        }
        return engine
    }

    func run(source: RunbookSource, options: RunOptions, console: Console) throws -> RunResult {
        try engine(source: source, options: options, console: console, resume: false).run()
    }

    /// What `warren resume` does after a crash: the simulator restored from the saved state, the
    /// journal re-read, the remaining steps run.
    func resume(source: RunbookSource, options: RunOptions, console: Console) throws -> RunResult {
        guard let data = FileManager.default.contents(atPath: statePath) else {
            throw RunbookError.usage("\(statePath): no saved simulator state to resume on")
        }
        sim = try Simulator.restore(Array(data))
        return try engine(source: source, options: options, console: console, resume: true).run()
    }

    /// The step the run stopped at (failed, or in progress when refused or interrupted).
    var stoppedAt: String? {
        let entries = journal
        guard !entries.isEmpty else { return nil }
        let s = SessionSummary(entries: entries)
        return s.failed ?? s.inProgress
    }

    /// Steps journaled done more than once (a resume must never redo a finished step).
    var stepsDoneTwice: [String] {
        var count: [String: Int] = [:]
        for e in journal where e.kind == .stepDone { count[e.step ?? "", default: 0] += 1 }
        return count.filter { $0.value > 1 }.map(\.key).sorted()
    }
}

/// A console that shows nothing, keeps the text, and answers from a closure (nil: no answer).
final class CapturingConsole: Console {
    var text = ""
    var keep: Bool
    var answer: (String) -> String?
    init(keep: Bool = true, answer: @escaping (String) -> String? = { _ in nil }) {
        self.keep = keep
        self.answer = answer
    }
    func write(_ t: String) { if keep { text += t } }
    func ask(_ prompt: String) -> ConsoleAnswer {
        write(prompt)
        guard let a = answer(prompt) else { return .unavailable }
        write(a + "\n")
        return .line(a)
    }
    /// The last lines shown, for a failure message.
    func tail(_ n: Int = 12) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: true).suffix(n).joined(separator: "\n")
    }
}

/// Quorum queues and streams that are not available now.
func unavailableReplicatedQueues(_ sim: Simulator) -> Set<String> {
    Set(((try? sim.queues(type: nil)) ?? []).filter { $0.type != .classic && !$0.available }.map(\.name))
}

/// A fresh temporary directory (under /dev/shm when there is one: journals are fsync'd).
func makeScratchDirectory(_ prefix: String) throws -> String {
    var base = NSTemporaryDirectory()
    var isDir: ObjCBool = false
    if FileManager.default.fileExists(atPath: "/dev/shm", isDirectory: &isDir), isDir.boolValue,
       FileManager.default.isWritableFile(atPath: "/dev/shm") {
        base = "/dev/shm/"
    }
    if !base.hasSuffix("/") { base += "/" }
    let path = base + "\(prefix)-\(getpid())-\(UUID().uuidString.prefix(8))"
    try StatePaths.ensureDirectory(path)
    return path
}
