import Cluster
import Foundation
import Runbook
import Simulator

/// How to rebuild a session's target on resume; saved as `target.json` in the session.
public struct TargetSpec: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable { case sim, inventory }
    public var kind: Kind
    public var nodes: Int?
    public var seed: UInt64?
    public var spares: Int?
    public var formed: Bool?
    /// `--sim-state FILE`: one simulated cluster kept across runs (absolute path).
    public var simState: String?
    /// `--inventory FILE` (absolute path).
    public var inventory: String?

    public static func sim(nodes: Int, seed: UInt64, spares: Int = 0, formed: Bool = true, simState: String? = nil) -> TargetSpec {
        TargetSpec(kind: .sim, nodes: nodes, seed: seed, spares: spares, formed: formed, simState: simState, inventory: nil)
    }

    public static func inventory(_ path: String) -> TargetSpec {
        TargetSpec(kind: .inventory, nodes: nil, seed: nil, spares: nil, formed: nil, simState: nil, inventory: path)
    }
}

/// A cluster to work on, with what a run needs around it: where its simulated state is kept,
/// its lock key, its memory file and the secrets to redact.
public final class Target {
    public let spec: TargetSpec
    public let backend: Backend
    /// The simulator, when the target is simulated.
    public let simulator: Simulator?
    public var redactor: Redactor
    /// The cluster's name as its inventory declares it (locks and memory are keyed by it, so they
    /// hold even while every node is down).
    public var declaredClusterName: String?
    /// Whether the operator pressed Ctrl-C (asked by waits outside the runbook: the canary's drain).
    public var interruptRequested: () -> Bool = { false }
    /// The canary's own client on a real cluster (it runs on a thread of its own).
    public var makeCanaryTransport: (() throws -> CanaryTransport)?
    /// Routes the commands the backend runs (CLI tools, HTTP calls) into a journal, when it has any.
    public var attachCommandLog: ((@escaping (JournalEntry) -> Void) -> Void)?

    public init(spec: TargetSpec, backend: Backend, redactor: Redactor = Redactor()) {
        self.spec = spec
        self.backend = backend
        simulator = backend as? Simulator
        self.redactor = redactor
    }

    /// A simulated cluster: restored from `spec.simState` when that file exists, else new
    /// (with the demo queues, so there is something to look at).
    public static func simulated(_ spec: TargetSpec) throws -> Target {
        if let path = spec.simState, FileManager.default.fileExists(atPath: path) {
            return Target(spec: spec, backend: try loadSimulator(path))
        }
        let sim = Simulator(nodes: spec.nodes ?? 3, seed: spec.seed ?? 1, spares: spec.spares ?? 0)
        if spec.formed ?? true { try sim.declareDemoSet() }
        let target = Target(spec: spec, backend: sim)
        if let path = spec.simState { try target.saveSimulator(to: path) }
        return target
    }

    /// Reads a saved simulator; a clear error names the file.
    public static func loadSimulator(_ path: String) throws -> Simulator {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RunbookError.usage("cannot read the simulated cluster state '\(path)'")
        }
        do {
            return try Simulator.restore(Array(data))
        } catch {
            throw RunbookError.usage("\(path): \(error)")
        }
    }

    /// Saves the simulator's state atomically (after every primitive of a run).
    public func saveSimulator(to path: String) throws {
        guard let simulator else { return }
        try writeAtomically(Data(try simulator.snapshot()), to: path)
    }

    /// One run per cluster: real clusters by name, a kept simulated cluster by its state file,
    /// a fresh simulated cluster by the session (nothing else can reach it).
    public func lockKey(session: String) -> String {
        switch spec.kind {
        case .inventory: return "cluster-" + clusterKey
        case .sim: return spec.simState.map { "sim-\(Target.digest($0))" } ?? "sim-session-\(session)"
        }
    }

    /// Where `memory.get/set` keeps values for this cluster (nil: inside the session).
    public func memoryPath(paths: StatePaths) -> String? {
        switch spec.kind {
        case .inventory:
            return paths.memory + "/cluster-\(clusterKey).json"
        case .sim:
            return spec.simState.map { paths.memory + "/sim-\(Target.digest($0)).json" }
        }
    }

    private var clusterKey: String {
        declaredClusterName ?? (try? backend.status().clusterName) ?? Target.digest(spec.inventory ?? "")
    }

    static func digest(_ s: String) -> String {
        // FNV-1a, enough to name a file after a path.
        var h: UInt64 = 0xcbf29ce484222325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        return String(h, radix: 16)
    }
}
