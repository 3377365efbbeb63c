import Cluster
import Foundation

/// A real cluster, described by its inventory, as a session's target. The cluster keeps its own
/// state: nothing is saved on warren's side, and a resume asks the cluster what a primitive whose
/// result was never journaled did.
public final class InventoryTarget: ClusterTarget {
    public let spec: TargetSpec
    public let rabbit: RabbitMQBackend
    public var backend: Backend { rabbit }
    public var redactor: Redactor { rabbit.redactor }
    public var notices: [String] { rabbit.notices }
    /// Real faults, on a devcluster's inventory only (``DevClusterFaults``).
    public let faults: FaultInjecting?
    public var confirmsShellChanges: Bool { true }
    public var canaryTicksAfterPrimitives: Bool { false }
    public var waits: Waits? {
        get { rabbit.waits }
        set { rabbit.waits = newValue }
    }
    public var commandLog: ((CommandRecord) -> Void)? {
        get { rabbit.onCommand }
        set { rabbit.onCommand = newValue }
    }

    public init(spec: TargetSpec, backend: RabbitMQBackend) {
        self.spec = spec
        rabbit = backend
        faults = spec.inventory.flatMap { DevClusterFaults.forInventory($0, backend: backend) }
    }

    /// The target an inventory file names.
    /// - Parameter interruptRequested: asked while commands run and between polls (Ctrl-C).
    public static func load(_ spec: TargetSpec, interruptRequested: @escaping () -> Bool) throws -> InventoryTarget {
        guard let path = spec.inventory else {
            throw InventoryError(file: "(none)", problems: [.init(line: nil, key: nil, message: "no inventory file given", fix: "pass --inventory FILE")])
        }
        let backend = RabbitMQBackend(inventory: try Inventory.load(path: path))
        backend.interruptRequested = interruptRequested
        backend.checkCredentials()
        return InventoryTarget(spec: spec, backend: backend)
    }

    /// The name the cluster answers with; with every node down (a full shutdown stopped there),
    /// the inventory's (the backend checks the live name again before its first change).
    public func identity() -> TargetIdentity {
        TargetIdentity(name: (try? rabbit.clusterName()) ?? rabbit.inventory.cluster)
    }

    /// Locks and memory are keyed by the inventory's cluster name, so they hold while every node is down.
    public func lockKey(session: String) -> String { "cluster-" + rabbit.inventory.cluster }
    public var memoryKey: String? { "cluster-" + rabbit.inventory.cluster }

    public func attach(sessionDirectory: String) {}
    public func persist() throws {}
    public func persist(checkpoint: PrimitiveCheckpoint) throws {}
    public func recordedOutcome(session: String, call: Int) -> RecordedOutcome? { nil }
    public func rehearsalCopy() throws -> ClusterTarget? { nil }
    public func invariants() -> InvariantReport? { nil }

    /// The canary's AMQP client; the queue is declared only on the cluster the inventory names.
    public func makeCanaryTransport() throws -> CanaryTransport {
        let name = try rabbit.clusterName()
        guard name == rabbit.inventory.cluster else {
            throw ClusterError(.dataError, "the cluster answering is named '\(name)', not '\(rabbit.inventory.cluster)'; no canary queue was declared")
        }
        return try rabbit.makeCanaryClient()
    }
}
