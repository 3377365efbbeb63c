/// How to rebuild a session's target when it resumes; saved as the session's `target.json`.
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

/// Which cluster a target is, as a resume checks it: the cluster's name, and for a simulated
/// cluster the unique id it was given when it was created (every simulated cluster is named `sim`).
public struct TargetIdentity: Codable, Equatable, Sendable {
    public var name: String
    public var id: String?
    public init(name: String, id: String? = nil) {
        self.name = name
        self.id = id
    }

    public var description: String { id.map { "\(name) (id \($0))" } ?? name }
}

/// The outcome of a primitive, kept with a simulated cluster's saved state. The state is saved
/// before the result is journaled, so after a crash between the two a resume learns from the
/// state whether the primitive took effect, and journals its result then.
public struct PrimitiveCheckpoint: Codable, Equatable, Sendable {
    public var session: String
    /// The primitive's call number in its session's journal.
    public var call: Int
    /// `ok` or `failed`.
    public var outcome: String
    public var message: String?
    public init(session: String, call: Int, outcome: String, message: String? = nil) {
        self.session = session
        self.call = call
        self.outcome = outcome
        self.message = message
    }
}

/// What a target's saved state says of a primitive.
public enum RecordedOutcome: Equatable, Sendable {
    /// The state was saved after the primitive: its outcome (`ok` or `failed`).
    case applied(outcome: String, message: String?)
    /// The state was saved before the primitive: it never took effect.
    case notApplied
}

/// A cluster to work on, with what a session needs around it: its identity, lock and memory keys,
/// the persistence of its state, its invariants and canary, the faults it accepts and the secrets
/// to hide. A simulated and a real implementation exist; nothing outside them asks which one a
/// session has.
public protocol ClusterTarget: AnyObject {
    /// How to rebuild this target on resume.
    var spec: TargetSpec { get }
    var backend: Backend { get }
    /// Secrets to hide in everything shown, journaled or recorded.
    var redactor: Redactor { get }
    /// Things the operator should know before using the target (shown once).
    var notices: [String] { get }

    /// The cluster's identity now (a real target asks the cluster, else takes its inventory's name).
    func identity() -> TargetIdentity
    /// The key of the cluster's run lock: one run per cluster at a time.
    func lockKey(session: String) -> String
    /// The key of the cluster's memory (`memory.get/set`), kept across sessions; nil: the memory
    /// lives inside the session (a simulated cluster that is not kept in a file).
    var memoryKey: String? { get }

    /// Faults this target accepts (nil: none).
    var faults: FaultInjecting? { get }
    /// Whether a destructive call typed at the shell asks the operator first (a real cluster).
    var confirmsShellChanges: Bool { get }

    /// Tells the target which session directory it belongs to (where a simulated cluster's state
    /// is saved when it is not kept in a file of its own).
    func attach(sessionDirectory: String)
    /// Saves the target's state if it changed since it was last saved. Called before every
    /// journal write, so the journal never runs ahead of the saved cluster.
    func persist() throws
    /// Saves the target's state together with the outcome of a primitive (before the result is
    /// journaled).
    func persist(checkpoint: PrimitiveCheckpoint) throws
    /// What the target's saved state says of a primitive whose result was never journaled; nil
    /// when the target keeps no such state (a real cluster: ask the cluster instead).
    func recordedOutcome(session: String, call: Int) -> RecordedOutcome?

    /// A copy of the cluster that a plan can run a whole runbook against, changing nothing here;
    /// nil when no copy can be had (a real cluster: a plan then only reads).
    func rehearsalCopy() throws -> ClusterTarget?

    /// The invariant checks, where the target can make them.
    func invariants() -> InvariantReport?
    /// A transport for canary traffic.
    func makeCanaryTransport() throws -> CanaryTransport
    /// Whether the canary ticks after every primitive (virtual time) rather than on a thread.
    var canaryTicksAfterPrimitives: Bool { get }
    /// Where the commands the target runs (CLI tools, HTTP calls) are reported.
    var commandLog: ((CommandRecord) -> Void)? { get set }
    /// Where the target says what it waits for (a real cluster: CLI calls, start and stop
    /// commands, HTTP requests, polls); a simulated cluster never waits in real time.
    var waits: Waits? { get set }
}
