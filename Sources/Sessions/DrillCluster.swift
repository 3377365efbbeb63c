import Cluster
import Foundation
import Runbook

/// The cluster a drill runs on, through the session runner as `warren run` and `warren resume`
/// run it: a simulated one (``SimulatedSessions``) or a real devcluster (``RealDrillSessions``).
protocol DrillCluster: AnyObject {
    /// Before each step (faults; throw ``SimulatedCrash`` to crash warren there).
    var beforeStep: ((String) throws -> Void)? { get set }
    /// After each primitive (faults; throw ``SimulatedCrash`` to crash warren there).
    var afterPrimitive: ((PrimitiveCall) throws -> Void)? { get set }
    /// The cluster now (the target the last session left).
    var clusterTarget: ClusterTarget { get }
    var runner: SessionRunner { get }
    var paths: StatePaths { get }
    func inject(_ fault: Fault) throws
    func run(_ source: RunbookSource, options: RunOptions) throws -> SessionRunner.Outcome
    func resume(_ session: String, options: RunOptions) throws -> SessionRunner.Outcome?
    /// What the invariant checks find now.
    func invariants() -> InvariantReport
    /// What happened to the cluster, in words (the simulator's log; empty on a real cluster).
    var events: [String] { get }
}

extension DrillCluster {
    /// The cluster now, to read its state and declare the drill's queues.
    var backend: Backend { clusterTarget.backend }

    /// The steps a runbook declares on the cluster as it is (changes nothing).
    func discover(_ source: RunbookSource, options: RunOptions) throws -> Discovery {
        var o = options
        o.answers = nil
        let target = clusterTarget
        let engine = RunbookEngine(source: source, backend: target.backend, console: BufferConsole(), options: o,
                                   library: runner.library, journal: nil,
                                   memory: try MemoryStore(path: target.memoryKey.map { paths.memory + "/\($0).json" }),
                                   bindings: ClusterBindings(target: target))
        return try engine.discover()
    }

    func journal(_ session: String) -> [JournalEntry] {
        (try? JournalReader.read(paths.session(session) + "/journal.jsonl")) ?? []
    }
}

extension SimulatedSessions: DrillCluster {
    var clusterTarget: ClusterTarget { target }
    func invariants() -> InvariantReport { simulator.invariants() }
    var events: [String] { simulator.eventLog }
}

/// Real clusters for drills whose target is a devcluster. The command line provides them (it
/// knows RabbitMQ); this module only runs sessions on the targets they give.
public protocol DrillDevclusters: AnyObject {
    /// A target on a devcluster shaped as the drill asks, every member running, no fault in place,
    /// the drill's partition handling set; or an error saying why there is none.
    func target(for spec: DrillSpec) throws -> ClusterTarget
    /// The target a session is resumed on after warren crashed (as `warren resume` rebuilds it).
    func restore(_ spec: TargetSpec, sessionDirectory: String) throws -> ClusterTarget
    /// The faults a devcluster can inject (the others are refused when the drill is loaded).
    var faults: Set<String> { get }
}

/// Sessions on a real cluster for a drill: its faults go to the target's fault injector; its
/// invariants are read from the cluster at the end (messages per queue against what the drill
/// published, quorum queues with a majority online, every member running and no partition).
final class RealDrillSessions: DrillCluster {
    let paths: StatePaths
    let runner: SessionRunner
    private(set) var target: ClusterTarget
    /// Messages published into each queue the drill declared.
    var published: [String: Int] = [:]
    var beforeStep: ((String) throws -> Void)?
    var afterPrimitive: ((PrimitiveCall) throws -> Void)?

    init(root: String, target: ClusterTarget, library: RunbookLibrary, terminal: Terminal,
         restore: @escaping (TargetSpec, String) throws -> ClusterTarget) throws {
        paths = StatePaths(root: root)
        try StatePaths.ensureDirectory(root)
        self.target = target
        runner = SessionRunner(paths: paths, library: library, terminal: terminal, restoreTarget: restore)
        runner.beforeStep = { [unowned self] step, t in
            self.target = t
            try self.beforeStep?(step)
        }
        runner.afterPrimitive = { [unowned self] call, t in
            self.target = t
            try self.afterPrimitive?(call)
        }
    }

    var clusterTarget: ClusterTarget { target }
    var events: [String] { [] }

    func inject(_ fault: Fault) throws {
        guard let faults = target.faults else { throw Fault.Refusal("this cluster takes no faults") }
        try faults.inject(fault)
    }

    func run(_ source: RunbookSource, options: RunOptions) throws -> SessionRunner.Outcome {
        let out = try runner.run(source, on: target, options: options)
        target = out.target
        return out
    }

    func resume(_ session: String, options: RunOptions) throws -> SessionRunner.Outcome? {
        guard case .resumed(let out) = try runner.resume(session, options: options, force: false) else { return nil }
        target = out.target
        return out
    }

    func invariants() -> InvariantReport {
        var problems: [String] = []
        var losses: [InvariantReport.MajorityLoss] = []
        var lost: [String: Int] = [:]
        let b = target.backend
        do {
            let s = try b.status()
            for m in s.members where !s.running.contains(m) { problems.append("\(m) is not running") }
            for (n, p) in s.partitions.sorted(by: { $0.key < $1.key }) { problems.append("\(n) is partitioned from \(p.joined(separator: ", "))") }
            for (n, a) in s.alarms.sorted(by: { $0.key < $1.key }) { problems.append("\(n) has alarms: \(a.joined(separator: ", "))") }
            for n in s.maintenance { problems.append("\(n) is under maintenance") }
            for n in s.nodes where s.members.contains(n.name) && n.state == .running {
                for m in s.members where !n.members.isEmpty && !n.members.contains(m) {
                    problems.append("\(n.name) does not list \(m) as a member")
                }
            }
        } catch {
            problems.append("the cluster's status could not be read: \(error)")
        }
        do {
            let queues = try b.queues(type: nil)
            for q in queues where q.type != .classic && q.online.count * 2 <= q.members.count {
                losses.append(.init(queue: q.name, seconds: 0))
            }
            for (name, n) in published {
                let now = queues.first { $0.name == name }?.messages ?? 0
                if now < n { lost[name] = n - now }
            }
        } catch {
            problems.append("the queues could not be read: \(error)")
        }
        return InvariantReport(majorityLosses: losses, lostMessages: lost, converged: problems.isEmpty, convergenceProblems: problems)
    }
}
