import Cluster
import Foundation

/// A simulated cluster as a session's target: its state is saved after every change the session
/// journals (in the `--sim-state` file, else in the session's directory), with the outcome of the
/// last primitive, so a resume continues on exactly the cluster that was left.
public final class SimulatedTarget: ClusterTarget {
    public let spec: TargetSpec
    public private(set) var simulator: Simulator
    public var backend: Backend { simulator }
    public let redactor = Redactor()
    public let notices: [String] = []
    public var commandLog: ((CommandRecord) -> Void)?
    public var waits: Waits?
    public var faults: FaultInjecting? { simulator }
    public var confirmsShellChanges: Bool { false }
    public var canaryTicksAfterPrimitives: Bool { true }
    /// Where the state is saved (nil: nowhere, e.g. the copy a plan runs against).
    public private(set) var statePath: String?
    private var savedRevision: Int?

    /// The file a session keeps its simulated cluster in when no `--sim-state` file is given.
    public static let sessionStateFile = "sim-state.json"

    public init(spec: TargetSpec, simulator: Simulator) {
        self.spec = spec
        self.simulator = simulator
        statePath = spec.simState
    }

    /// The target a spec names: the `--sim-state` file's cluster when it exists, else a new one
    /// (formed, with the demo queues, so there is something to look at), saved to that file.
    /// - Throws: a usage error naming an unreadable state file.
    public static func make(_ spec: TargetSpec) throws -> SimulatedTarget {
        if let path = spec.simState, FileManager.default.fileExists(atPath: path) {
            return SimulatedTarget(spec: spec, simulator: try load(path))
        }
        if let path = spec.simState {
            let dir = (path as NSString).deletingLastPathComponent
            guard FileManager.default.fileExists(atPath: dir) else {
                throw StateFileError(path: path, reason: "its directory \(dir) does not exist")
            }
        }
        let sim = Simulator(nodes: spec.nodes ?? 3, seed: spec.seed ?? 1, spares: spec.spares ?? 0)
        if spec.formed ?? true { try sim.declareDemoSet() }
        let target = SimulatedTarget(spec: spec, simulator: sim)
        try target.persist()
        return target
    }

    /// The target of a session that resumes: the cluster saved in the `--sim-state` file, or in
    /// the session's directory.
    public static func restore(_ spec: TargetSpec, sessionDirectory: String) throws -> SimulatedTarget {
        let path = spec.simState ?? (sessionDirectory as NSString).appendingPathComponent(sessionStateFile)
        let target = SimulatedTarget(spec: spec, simulator: try load(path))
        target.attach(sessionDirectory: sessionDirectory)
        return target
    }

    /// Reads a saved simulator.
    /// - Throws: ``StateFileError`` naming the file and what is wrong with it.
    public static func load(_ path: String) throws -> Simulator {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StateFileError(path: path, reason: "cannot read the simulated cluster's state (missing or unreadable)")
        }
        do {
            return try Simulator.restore(Array(data))
        } catch let e as ClusterError {
            throw StateFileError(path: path, reason: e.message)
        }
    }

    /// A copy of this cluster that nothing is saved from (what a plan runs against).
    public func rehearsalCopy() throws -> ClusterTarget? {
        var spec = self.spec
        spec.simState = nil
        return SimulatedTarget(spec: spec, simulator: try Simulator.restore(simulator.snapshot()))
    }

    public func identity() -> TargetIdentity {
        TargetIdentity(name: simulator.clusterName, id: simulator.clusterID.isEmpty ? nil : simulator.clusterID)
    }

    public func lockKey(session: String) -> String {
        simulator.clusterID.isEmpty ? "sim-session-\(session)" : "sim-\(simulator.clusterID)"
    }

    public var memoryKey: String? {
        guard spec.simState != nil else { return nil }
        return simulator.clusterID.isEmpty ? "sim-\(SimulatedTarget.digest(spec.simState!))" : "sim-\(simulator.clusterID)"
    }

    public func attach(sessionDirectory: String) {
        if spec.simState == nil {
            statePath = (sessionDirectory as NSString).appendingPathComponent(SimulatedTarget.sessionStateFile)
            savedRevision = nil
        }
    }

    public func persist() throws {
        guard let statePath, savedRevision != simulator.revision else { return }
        try writeAtomically(Data(try simulator.snapshot()), to: statePath)
        savedRevision = simulator.revision
    }

    public func persist(checkpoint: PrimitiveCheckpoint) throws {
        simulator.checkpoint = checkpoint
        savedRevision = nil
        try persist()
    }

    public func recordedOutcome(session: String, call: Int) -> RecordedOutcome? {
        guard let c = simulator.checkpoint, c.session == session, c.call == call else { return .notApplied }
        return .applied(outcome: c.outcome, message: c.message)
    }

    public func invariants() -> InvariantReport? { simulator.invariants() }

    public func makeCanaryTransport() throws -> CanaryTransport { SimulatedCanaryTransport(backend: simulator) }

    static func digest(_ s: String) -> String {
        // FNV-1a, enough to name a file after a path.
        var h: UInt64 = 0xcbf29ce484222325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        return String(h, radix: 16)
    }
}

/// A simulated cluster's state file that cannot be used.
public struct StateFileError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "\(path): \(reason); nothing was changed" }
}
