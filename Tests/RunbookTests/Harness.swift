import Cluster
import Foundation
import Lua
@testable import Runbook
import Sessions
import Simulator

/// The package's `runbooks/` folder.
let runbooksDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("runbooks").path

/// A terminal that answers from a list (nil: no answer available) and records everything shown.
final class ScriptedConsole: Terminal {
    var text = ""
    var answers: [String?]
    var asked: [String] = []
    let isInteractive: Bool
    var size: (width: Int, height: Int) { (100, 30) }
    init(answers: [String?] = [], interactive: Bool = true) {
        self.answers = answers
        isInteractive = interactive
    }
    func write(_ t: String) { text += t }
    func ask(_ prompt: String) -> ConsoleAnswer {
        text += prompt
        asked.append(prompt)
        guard !answers.isEmpty, let a = answers.removeFirst() else { return .unavailable }
        text += a + "\n"
        return .line(a)
    }
}

/// Runs runbooks against one simulated cluster, kept in a state file of a temporary state
/// directory, through the session runner: a run and a resume here are `warren run --sim-state
/// FILE` and `warren resume`.
final class Drill {
    let dir: String
    let paths: StatePaths
    let statePath: String
    private(set) var target: SimulatedTarget
    var sim: Simulator { target.simulator }
    var lastConsole = ScriptedConsole()
    /// The last session run (what `resume: true` continues).
    var session: String?

    init(sim: Simulator = Simulator(nodes: 3, seed: 7)) {
        dir = NSTemporaryDirectory() + "warren-test-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: dir + "/memory", withIntermediateDirectories: true)
        paths = StatePaths(root: dir)
        statePath = dir + "/cluster.sim"
        if (try? sim.queues(type: nil))?.isEmpty ?? true { try! sim.declareDemoSet() }
        target = SimulatedTarget(spec: .sim(nodes: sim.nodeNames.count, seed: 7, simState: statePath), simulator: sim)
        try! target.persist()
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }

    /// The cluster's memory file (keyed by the simulated cluster's id).
    var memoryPath: String { paths.memory + "/\(target.memoryKey!).json" }

    func source(_ name: String) throws -> RunbookSource {
        try RunbookLibrary(roots: [runbooksDirectory]).find(name)
    }

    /// Runs (or resumes the last session, when `resume` is true) a runbook.
    @discardableResult
    func run(_ name: String, params: [String: String] = [:], yes: Bool = true, answers: String? = nil,
             console: ScriptedConsole = ScriptedConsole(), resume: Bool = false, mode: RunOptions.Mode = .run,
             source: RunbookSource? = nil, options base: RunOptions = RunOptions(),
             beforeStep: ((String) throws -> Void)? = nil, afterPrimitive: ((PrimitiveCall) throws -> Void)? = nil) throws -> RunResult {
        var options = base
        options.params = params
        options.assumeYes = yes
        if let answers { options.answers = try AnswerScript(text: answers, path: "answers.txt") }
        lastConsole = console
        try target.persist()
        let runner = SessionRunner(paths: paths, library: RunbookLibrary(roots: [runbooksDirectory]), terminal: console) { spec, dir in
            try SimulatedTarget.restore(spec, sessionDirectory: dir)
        }
        runner.beforeStep = { [unowned self] step, t in
            target = t as! SimulatedTarget
            try beforeStep?(step)
        }
        runner.afterPrimitive = { [unowned self] call, t in
            target = t as! SimulatedTarget
            try afterPrimitive?(call)
        }
        defer { target = SimulatedTarget(spec: target.spec, simulator: try! SimulatedTarget.load(statePath)) }
        if mode != .run {
            return try runner.plan(try source ?? self.source(name), on: target, options: options)
        }
        if resume {
            guard let session, case .resumed(let out) = try runner.resume(session, options: options, force: false) else {
                throw RunbookError.usage("nothing to resume")
            }
            return out.result
        }
        let out = try runner.run(try source ?? self.source(name), on: target, options: options)
        session = out.session
        return out.result
    }

    var journal: [JournalEntry] {
        guard let session else { return [] }
        return (try? JournalReader.read(paths.session(session) + "/journal.jsonl")) ?? []
    }

    /// Step ids done (from the journal), with multiplicity.
    var doneSteps: [String] {
        journal.compactMap { if case .stepDone(let d) = $0.event { return d.step } else { return nil } }
    }

    /// Primitives that reached the cluster (results), as "name node".
    var primitives: [String] {
        journal.compactMap {
            guard case .primitiveResult(let r) = $0.event, !r.isGate, r.recovered != true else { return nil }
            return "\(r.primitive) \(r.node ?? "")"
        }
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
