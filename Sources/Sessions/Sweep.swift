import Cluster
import Foundation
import Runbook
import Simulator

/// What to sweep: a runbook on a simulated cluster.
public struct SweepConfig: Sendable {
    public var runbook: String
    public var nodes = 3
    public var seed: UInt64 = 1
    public var spares = 0
    /// The release the simulated cluster runs.
    public var version = Simulator.defaultVersion
    public var params: [String: String] = [:]
    /// A runbook run first, on the same cluster and memory (full-startup needs full-shutdown).
    public var setup: String?
    public var setupParams: [String: String] = [:]
    /// Whether quorum queues may lose their majority (nil: only for runbooks that take the cluster down on purpose).
    public var majorityLossAllowed: Bool?
    /// Runbooks that take the cluster down on purpose: losing majorities is what they do.
    public static let takeClusterDown: Set<String> = ["full-shutdown"]

    public init(runbook: String) { self.runbook = runbook }
}

/// One fault point: a step boundary (before the step) or inside a step (after its first primitive).
public struct SweepPoint: Sendable, Equatable {
    public var step: String
    public var inside: Bool
    public var label: String { (inside ? "inside " : "before ") + step }
}

public enum SweepFault: Sendable, Equatable {
    /// warren crashes, then resumes from its journal on the saved cluster state.
    case crash
    /// A node is killed and the run continues.
    case kill(String)
    /// The next confirmation is refused; the run is then resumed and the confirmation given.
    case refuse

    public var label: String {
        switch self {
        case .crash: return "crash"
        case .kill(let n): return "kill-" + n.replacingOccurrences(of: "rabbit@", with: "")
        case .refuse: return "refuse"
        }
    }
}

public enum SweepCell: String, Sendable {
    /// Completed (after resuming, where the fault stops it) and the cluster converged.
    case ok
    /// Stopped safely and resumable.
    case stop
    /// An invariant broke.
    case viol = "VIOL"
}

public struct SweepReport: Sendable {
    public var runbook: String
    public var target: String
    public var seed: UInt64
    public var steps: [String]
    public var points: [SweepPoint]
    public var faults: [SweepFault]
    /// cells[point][fault]
    public var cells: [[SweepCell]]
    public var baseline: SweepCell
    public var baselineNote: String?
    public var violations: [String]
    public var majorityLossAllowed: Bool
    public var seconds: Double

    public var violated: Bool { !violations.isEmpty }
    public var runs: Int { points.count * faults.count + 1 }

    public func count(_ c: SweepCell) -> Int { cells.reduce(0) { $0 + $1.filter { $0 == c }.count } + (baseline == c ? 1 : 0) }

    public func render() -> String {
        var out = "sweep \(runbook) on \(target) (seed \(seed)): \(steps.count) steps, \(points.count) fault points x \(faults.count) faults + 1 baseline = \(runs) runs\n"
        out += "note: unsafe confirmations (#unsafe) are answered yes automatically; other confirmations yes unless refused by the sweep\n"
        out += majorityLossAllowed
            ? "note: \(runbook) takes the cluster down on purpose: quorum queues losing their majority, and a cluster not converged at the end, are not violations\n"
            : "note: a quorum queue losing its majority because of a runbook's action is a violation\n"
        out += "baseline (no fault): \(baseline.rawValue)\(baselineNote.map { " (\($0))" } ?? "")\n\n"
        let first = max(11, (points.map { $0.label.count }.max() ?? 0)) + 2
        let widths = faults.map { max($0.label.count, 4) + 2 }
        out += "fault point".padding(toLength: first, withPad: " ", startingAt: 0)
        for (f, w) in zip(faults, widths) { out += f.label.padding(toLength: w, withPad: " ", startingAt: 0) }
        out = out.trimmingTrailing() + "\n"
        for (p, row) in zip(points, cells) {
            var line = p.label.padding(toLength: first, withPad: " ", startingAt: 0)
            for (c, w) in zip(row, widths) { line += c.rawValue.padding(toLength: w, withPad: " ", startingAt: 0) }
            out += line.trimmingTrailing() + "\n"
        }
        out += "\nok: completed (resumed where the fault stopped it) and converged (a node killed after the runbook's last change may stay down)\n"
        out += "stop: stopped safely, resumable; VIOL: invariant broken (listed below)\n"
        if !violations.isEmpty {
            out += "\nviolations:\n" + violations.map { "  " + $0 }.joined(separator: "\n") + "\n"
        }
        out += "\(runs) runs: \(count(.ok)) ok, \(count(.stop)) stop, \(count(.viol)) VIOL (\(String(format: "%.2f", seconds))s)\n"
        return out
    }
}

extension String {
    func trimmingTrailing() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}

/// Runs a runbook once per fault point and fault kind, and checks every run ends completed or
/// stopped safely and resumable, with no invariant broken.
public struct Sweeper {
    public var library: RunbookLibrary
    public var config: SweepConfig
    /// Progress (one character per run), for the CLI.
    public var progress: ((String) -> Void)?

    public init(library: RunbookLibrary, config: SweepConfig) {
        self.library = library
        self.config = config
    }

    public func run() throws -> SweepReport {
        let started = Date()
        let source = try library.find(config.runbook)
        let root = try makeScratchDirectory("warren-sweep")
        defer { try? FileManager.default.removeItem(atPath: root) }

        let sim = Simulator(nodes: config.nodes, seed: config.seed, spares: config.spares, version: config.version)
        try sim.declareDemoSet()
        let setup = try SimulatedSessions(root: root + "/setup", simulator: sim, library: library,
                                          terminal: ScriptedTerminal(keep: false, interactive: false))
        if let name = config.setup {
            let src = try library.find(name)
            let steps = try setup.discover(src, options: RunOptions()).steps.map(\.id)
            var o = RunOptions()
            o.params = config.setupParams
            o.assumeYes = true
            o.answers = try unsafeAnswers(steps)
            let out = try setup.run(src, options: o)
            if let e = out.result.error { throw RunbookError.usage("the setup runbook '\(name)' did not complete: \(e.description)") }
        }
        let baseBytes = try setup.simulator.snapshot()
        let memory = setup.target.memoryKey.flatMap { FileManager.default.contents(atPath: setup.paths.memory + "/\($0).json") }
        let allowLoss = config.majorityLossAllowed ?? SweepConfig.takeClusterDown.contains(source.fileName)

        // Discover the steps (with the parameters: a usage error stops the sweep here).
        var o = RunOptions()
        o.params = config.params
        let declared = try setup.discover(source, options: o).steps.map(\.id)
        let answers = try unsafeAnswers(declared)

        var counter = 0
        func one(_ point: SweepPoint?, _ fault: SweepFault?) throws -> Run {
            counter += 1
            let run = Run(id: "r\(counter)", root: root, base: baseBytes, memory: memory, source: source,
                          params: config.params, answers: answers, allowLoss: allowLoss, library: library)
            try run.execute(point: point, fault: fault)
            progress?(run.cell == .ok ? "." : run.cell == .stop ? "s" : "V")
            return run
        }

        // Baseline: no fault; also finds the steps run and which have a primitive.
        let probe = try one(nil, nil)
        var violations = probe.violations.map { "baseline: \($0)" }
        var points: [SweepPoint] = []
        for step in probe.stepOrder {
            points.append(SweepPoint(step: step, inside: false))
            if (probe.primitivesPerStep[step] ?? 0) > 0 { points.append(SweepPoint(step: step, inside: true)) }
        }
        let faults: [SweepFault] = [.crash] + sim.nodeNames.map { .kill($0) } + [.refuse]
        var cells: [[SweepCell]] = []
        for p in points {
            var row: [SweepCell] = []
            for f in faults {
                let r = try one(p, f)
                row.append(r.cell)
                violations += r.violations.map { "\(p.label) / \(f.label): \($0)" }
            }
            cells.append(row)
        }
        return SweepReport(runbook: source.fileName, target: sim.targetDescription, seed: config.seed, steps: declared,
                           points: points, faults: faults, cells: cells, baseline: probe.cell,
                           baselineNote: probe.cell == .stop ? probe.stopReason : nil, violations: violations,
                           majorityLossAllowed: allowLoss, seconds: Date().timeIntervalSince(started))
    }

    private func unsafeAnswers(_ steps: [String]) throws -> AnswerScript {
        var text = ""
        for s in steps { for _ in 0..<8 { text += "\(s)#unsafe: yes\n" } }
        return try AnswerScript(text: text, path: "sweep (unsafe confirmations answered yes)")
    }

    /// One run of the sweep, in a state directory of its own, through the session runner.
    final class Run {
        let id: String
        let root: String
        let base: [UInt8]
        let memory: Data?
        let source: RunbookSource
        let params: [String: String]
        let answers: AnswerScript
        let allowLoss: Bool
        let library: RunbookLibrary

        var cell = SweepCell.ok
        var violations: [String] = []
        var stopReason: String?
        var stepOrder: [String] = []
        var primitivesPerStep: [String: Int] = [:]

        init(id: String, root: String, base: [UInt8], memory: Data?, source: RunbookSource,
             params: [String: String], answers: AnswerScript, allowLoss: Bool, library: RunbookLibrary) {
            self.id = id
            self.root = root
            self.base = base
            self.memory = memory
            self.source = source
            self.params = params
            self.answers = answers
            self.allowLoss = allowLoss
            self.library = library
        }

        func execute(point: SweepPoint?, fault: SweepFault?) throws {
            let dir = root + "/" + id
            defer { try? FileManager.default.removeItem(atPath: dir) }
            var armed = false
            var refused = 0
            let terminal = ScriptedTerminal(keep: false) { _ in
                if armed {
                    armed = false
                    refused += 1
                    return "no"
                }
                return "yes"
            }
            let sessions = try SimulatedSessions(root: dir, simulator: try Simulator.restore(base), library: library,
                                                 terminal: terminal, records: false)
            if let memory, let key = sessions.target.memoryKey {
                try StatePaths.ensureDirectory(sessions.paths.memory)
                try memory.write(to: URL(fileURLWithPath: sessions.paths.memory + "/\(key).json"))
            }
            let baseline = sessions.simulator.invariants()
            var prev = unavailableReplicatedQueues(sessions.simulator)
            var current: String?
            var inStep = 0
            var fired = false
            var killed: String?
            var changesAfterKill = 0

            func inject() throws {
                fired = true
                switch fault {
                case .crash?: throw SimulatedCrash()
                case .kill(let n)?:
                    try? sessions.inject(.kill(node: n))
                    killed = n
                case .refuse?: armed = true
                case nil: break
                }
                prev = unavailableReplicatedQueues(sessions.simulator)
            }
            sessions.beforeStep = { [unowned self] id in
                current = id
                inStep = 0
                if !stepOrder.contains(id) { stepOrder.append(id) }
                prev = unavailableReplicatedQueues(sessions.simulator)
                if let point, !fired, !point.inside, point.step == id { try inject() }
            }
            sessions.afterPrimitive = { [unowned self] call in
                inStep += 1
                if let c = current { primitivesPerStep[c, default: 0] += 1 }
                let now = unavailableReplicatedQueues(sessions.simulator)
                if call.kind == .change || call.kind == .destructive {
                    if killed != nil { changesAfterKill += 1 }
                    let lost = now.subtracting(prev)
                    if !lost.isEmpty && !allowLoss {
                        violations.append("\(call.name)\(call.node.map { " " + $0 } ?? "") in step '\(current ?? "?")' left \(lost.sorted().joined(separator: ", ")) without a majority while the run continued")
                    }
                }
                prev = now
                if let point, !fired, point.inside, point.step == current, inStep == 1 { try inject() }
            }

            var options = RunOptions()
            options.params = params
            options.answers = answers
            var out = try sessions.run(source, options: options)
            let session = out.session
            var resumes = 0
            while resumes < 5 {
                var refusedBySweep = false
                if case .refused? = out.result.error { refusedBySweep = refused > 0 && fault == .refuse && resumes == 0 }
                let again = out.result.crashed || refusedBySweep
                guard again, let next = try sessions.resume(session, options: options) else { break }
                resumes += 1
                out = next
            }
            let result = out.result

            if case .usage(let m)? = result.error { violations.append("the run could not start: \(m)") }
            let entries = sessions.journal(session)
            let twice = SimulatedSessions.stepsDoneTwice(entries)
            if !twice.isEmpty { violations.append("step(s) done more than once: \(twice.joined(separator: ", "))") }
            let inv = sessions.simulator.invariants()
            let lost = inv.lostMessages.filter { $0.value > (baseline.lostMessages[$0.key] ?? 0) }
            if !lost.isEmpty {
                violations.append("confirmed messages lost: " + lost.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))
            }
            if result.crashed { violations.append("warren crashed again on resume") }
            let completed = result.error == nil && !result.crashed
            if completed {
                if !inv.converged && !allowLoss {
                    // A node killed after the runbook's last change: nothing the runbook could have noticed.
                    let short = killed ?? "\u{0}"
                    let onlyKilled = killed != nil && changesAfterKill == 0 && inv.convergenceProblems.allSatisfy { $0.hasPrefix(short + " ") }
                    if !onlyKilled {
                        violations.append("completed but the cluster did not converge: \(inv.convergenceProblems.joined(separator: "; "))")
                    }
                }
            } else {
                if entries.isEmpty || !SessionSummary(entries: entries).resumable {
                    violations.append("stopped but the session is not resumable")
                }
                stopReason = "stopped at \(SimulatedSessions.stoppedAt(entries) ?? "?"): \(result.error?.description ?? "")"
            }
            cell = !violations.isEmpty ? .viol : (completed ? .ok : .stop)
        }
    }
}
