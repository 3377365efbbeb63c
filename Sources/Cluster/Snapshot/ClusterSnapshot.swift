import Foundation

/// A cluster as it was at one moment, read through the ``Backend`` reads only: its members and
/// their state, versions, alarms and partitions, and its queues with type, members, leader and
/// message counts; a full snapshot adds the feature flags, the policies and the partition
/// handling.
///
/// `warren snapshot` turns a full one into a simulated cluster (the simulator's saved state);
/// a session keeps one from its start and one from its end, and its report compares them
/// (``SnapshotComparison``). It holds no secret: no cookie, credentials or configuration values
/// other than the partition handling.
public struct ClusterSnapshot: Codable, Equatable, Sendable {
    /// What was read.
    public enum Depth: String, Codable, Sendable {
        /// Status, versions and queues: what a session compares (cheap: the management API).
        case verification
        /// Also the feature flags, the policies and the partition handling: what a copy needs.
        case full
    }

    /// The newest snapshot format this build reads and writes.
    public static let currentFormat = 1
    public var format: Int
    /// The warren that took it (``WarrenVersion/current``).
    public var warren: String
    public var depth: Depth
    /// Seconds since 1970 (wall clock).
    public var takenAt: Double
    /// The target's description (`sim:3`, the inventory's cluster name).
    public var target: String
    /// Members, running nodes, partitions, alarms, maintenance; every node of the target with its
    /// state, versions (where it runs), replicas and leaders.
    public var status: ClusterStatus
    public var queues: [QueueInfo]
    /// Full snapshots: each flag's state.
    public var featureFlags: [String: FeatureFlagState]?
    /// Full snapshots.
    public var policies: [Policy]?
    /// Full snapshots: each running member's `cluster_partition_handling`.
    public var partitionHandling: [String: String]?

    public init(depth: Depth, takenAt: Double, target: String, status: ClusterStatus, queues: [QueueInfo],
                featureFlags: [String: FeatureFlagState]? = nil, policies: [Policy]? = nil,
                partitionHandling: [String: String]? = nil) {
        format = Self.currentFormat
        warren = WarrenVersion.current
        self.depth = depth
        self.takenAt = takenAt
        self.target = target
        self.status = status
        self.queues = queues
        self.featureFlags = featureFlags
        self.policies = policies
        self.partitionHandling = partitionHandling
    }

    public var clusterName: String { status.clusterName }

    /// Reads the cluster; changes nothing.
    /// - Throws: the backend's error when the cluster cannot be read (no node answers).
    public static func capture(_ backend: Backend, depth: Depth, now: Double = Date().timeIntervalSince1970) throws -> ClusterSnapshot {
        var status = try backend.status()
        let queues = try backend.queues(type: nil)
        status.nodes = status.nodesCounting(queues)
        // A real cluster's status carries the answering node's versions only.
        if let versions = try? backend.nodeVersions() {
            for i in status.nodes.indices {
                if let v = versions[status.nodes[i].name] { status.nodes[i].versions = v }
            }
        }
        var snapshot = ClusterSnapshot(depth: depth, takenAt: now, target: backend.targetDescription, status: status, queues: queues)
        if depth == .full {
            snapshot.featureFlags = Dictionary(try backend.featureFlags().map { ($0.name, $0.state) }, uniquingKeysWith: { a, _ in a })
            snapshot.policies = try backend.policies()
            snapshot.partitionHandling = try backend.partitionHandlingByNode()
        }
        return snapshot
    }

    // MARK: Reading and writing

    /// A snapshot file this build cannot read.
    public struct Unreadable: Error, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "\(path): \(reason)" }
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(self)
    }

    public static func read(_ path: String) throws -> ClusterSnapshot {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Unreadable(path: path, reason: "missing or unreadable")
        }
        struct Header: Decodable { var format: Int; var warren: String? }
        if let header = try? JSONDecoder().decode(Header.self, from: data), header.format > currentFormat {
            throw Unreadable(path: path, reason: "written by warren \(header.warren ?? "?") (snapshot format \(header.format)); "
                + "this warren \(WarrenVersion.current) reads snapshot formats up to \(currentFormat)")
        }
        do {
            return try JSONDecoder().decode(ClusterSnapshot.self, from: data)
        } catch {
            throw Unreadable(path: path, reason: "not a cluster snapshot (\(error))")
        }
    }
}
