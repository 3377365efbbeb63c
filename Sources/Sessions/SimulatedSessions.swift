import Cluster
import Foundation
import Runbook
import Simulator

/// Sessions on a simulated cluster kept in a file of a scratch state directory, run through the
/// session runner exactly as `warren run --sim-state FILE` and `warren resume` run them: what
/// drills and sweeps use.
final class SimulatedSessions {
    let root: String
    let paths: StatePaths
    let statePath: String
    let runner: SessionRunner
    let terminal: ScriptedTerminal
    /// The cluster as the last session left it (the world: faults are injected into it).
    private(set) var target: SimulatedTarget

    /// - Parameter records: whether sessions get their recording and report (drills keep them;
    ///   sweeps, which run hundreds of sessions, do not).
    init(root: String, simulator: Simulator, library: RunbookLibrary, terminal: ScriptedTerminal,
         stateFile: String = "cluster.sim", records: Bool = true) throws {
        self.root = root
        self.terminal = terminal
        paths = StatePaths(root: root)
        try StatePaths.ensureDirectory(root)
        statePath = root + "/" + stateFile
        let n = simulator.nodeNames.count
        target = SimulatedTarget(spec: .sim(nodes: n, seed: 0, simState: statePath), simulator: simulator)
        try target.persist()
        runner = SessionRunner(paths: paths, library: library, terminal: terminal) { spec, dir in
            try SimulatedTarget.restore(spec, sessionDirectory: dir)
        }
        runner.recordsSessions = records
        runner.beforeStep = { [unowned self] step, t in
            if let t = t as? SimulatedTarget { target = t }
            try beforeStep?(step)
        }
        runner.afterPrimitive = { [unowned self] call, t in
            if let t = t as? SimulatedTarget { target = t }
            try afterPrimitive?(call)
        }
    }

    var simulator: Simulator { target.simulator }

    /// Before each step: inject faults; return true to crash warren there.
    var beforeStep: ((String) throws -> Void)?
    /// After each primitive: inject faults; throw ``SimulatedCrash`` to crash warren there.
    var afterPrimitive: ((PrimitiveCall) throws -> Void)?

    /// Injects a fault into the cluster and saves it at once: a fault is a change of the world,
    /// which a crash of warren does not undo.
    func inject(_ fault: Fault) throws {
        try simulator.inject(fault)
        try target.persist()
    }

    func run(_ source: RunbookSource, options: RunOptions) throws -> SessionRunner.Outcome {
        try continued(runner.run(source, on: target, options: options))
    }

    /// What `warren resume SESSION` does after warren stopped.
    func resume(_ session: String, options: RunOptions) throws -> SessionRunner.Outcome? {
        guard case .resumed(let out) = try runner.resume(session, options: options, force: false) else { return nil }
        return try continued(out)
    }

    /// The cluster as the session left it: a crash leaves what was saved (the next session
    /// starts there), a run that ended leaves its target, saved.
    private func continued(_ out: SessionRunner.Outcome) throws -> SessionRunner.Outcome {
        if out.result.crashed {
            target = SimulatedTarget(spec: target.spec, simulator: try SimulatedTarget.load(statePath))
        } else if let t = out.target as? SimulatedTarget {
            target = t
        }
        return out
    }

    /// The step a session stopped at (failed, or in progress when refused or interrupted).
    static func stoppedAt(_ entries: [JournalEntry]) -> String? {
        entries.isEmpty ? nil : SessionSummary(entries: entries).stoppedAt
    }

    /// Steps journaled done more than once (a resume must never redo a finished step).
    static func stepsDoneTwice(_ entries: [JournalEntry]) -> [String] {
        var count: [String: Int] = [:]
        for e in entries {
            if case .stepDone(let d) = e.event { count[d.step, default: 0] += 1 }
        }
        return count.filter { $0.value > 1 }.map(\.key).sorted()
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
