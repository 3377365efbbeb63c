import Cluster
import Foundation
import Lua
@testable import Runbook
import Simulator

/// The package's `runbooks/` folder.
let runbooksDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("runbooks").path

/// A console that answers from a list (nil: no answer available) and records everything shown.
final class ScriptedConsole: Console {
    var text = ""
    var answers: [String?]
    var asked: [String] = []
    init(answers: [String?] = []) { self.answers = answers }
    func write(_ t: String) { text += t }
    func ask(_ prompt: String) -> ConsoleAnswer {
        text += prompt
        asked.append(prompt)
        guard !answers.isEmpty, let a = answers.removeFirst() else { return .unavailable }
        text += a + "\n"
        return .line(a)
    }
}

/// One run of a runbook against a simulator, in a temporary state directory.
final class Drill {
    let dir: String
    let sim: Simulator
    var journalPath: String { dir + "/journal.jsonl" }
    var memoryPath: String { dir + "/memory.json" }
    var lastConsole = ScriptedConsole()

    init(sim: Simulator = Simulator(nodes: 3, seed: 7)) {
        dir = NSTemporaryDirectory() + "warren-test-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        self.sim = sim
        if (try? sim.queues(type: nil))?.isEmpty ?? true { try! sim.declareDemoSet() }
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }

    func source(_ name: String) throws -> RunbookSource {
        try RunbookLibrary(roots: [runbooksDirectory]).find(name)
    }

    /// Runs (or resumes, when `resume` is true and a journal exists) a runbook.
    @discardableResult
    func run(_ name: String, params: [String: String] = [:], yes: Bool = true, answers: String? = nil,
             console: ScriptedConsole = ScriptedConsole(), resume: Bool = false, mode: RunOptions.Mode = .run,
             source: RunbookSource? = nil,
             beforeStep: ((String) throws -> Void)? = nil, afterPrimitive: ((PrimitiveCall) throws -> Void)? = nil) throws -> RunResult {
        var options = RunOptions()
        options.params = params
        options.assumeYes = yes
        options.mode = mode
        if let answers { options.answers = try AnswerScript(text: answers, path: "answers.txt") }
        let summary = resume ? SessionSummary(entries: try JournalReader.read(journalPath)) : nil
        let engine = RunbookEngine(source: try source ?? self.source(name), backend: sim, console: console, options: options,
                                   library: RunbookLibrary(roots: [runbooksDirectory]),
                                   journal: try JournalWriter(path: journalPath), memory: try MemoryStore(path: memoryPath),
                                   resume: summary)
        engine.beforeStep = beforeStep
        engine.afterPrimitive = afterPrimitive
        lastConsole = console
        return engine.run()
    }

    var journal: [JournalEntry] { (try? JournalReader.read(journalPath)) ?? [] }

    /// Step ids done (from the journal), with multiplicity.
    var doneSteps: [String] { journal.filter { $0.kind == .stepDone }.compactMap(\.step) }

    /// Primitives that reached the cluster (results), as "name node".
    var primitives: [String] {
        journal.filter { $0.kind == .primitive && $0.phase == "result" && !($0.primitive ?? "").hasPrefix("gate.") }
            .map { "\($0.primitive ?? "") \($0.node ?? "")" }
    }
}

/// Writes a runbook to a temporary file.
func tempRunbook(_ text: String, name: String = "custom") -> RunbookSource {
    let dir = NSTemporaryDirectory() + "warren-rb-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let path = dir + "/\(name).lua"
    try! text.write(toFile: path, atomically: true, encoding: .utf8)
    return try! RunbookSource(path: path)
}
