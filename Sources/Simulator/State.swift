import Cluster

/// How a simulated cluster reacts to a network partition (`cluster_partition_handling`).
public enum PartitionHandling: String, Codable, Sendable, CaseIterable {
    /// Both sides keep running (split brain); the partition stays listed until a side restarts.
    case ignore
    /// Nodes that see at most half of their cluster pause until they see a majority again.
    case pauseMinority = "pause_minority"
    /// When the partition heals, the losing side (fewer nodes) restarts its app.
    case autoheal
}

/// SplitMix64: a small, fast, seedable generator whose state is one integer (easy to save).
public struct SplitMix64: RandomNumberGenerator, Codable, Sendable, Equatable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform integer in `lo...hi` (no modulo bias worth caring about at these ranges).
    public mutating func int(_ lo: Int, _ hi: Int) -> Int {
        guard hi > lo else { return lo }
        return lo + Int(next() % UInt64(hi - lo + 1))
    }
}

enum AppState: String, Codable { case stopped, booting, running }

/// One simulated node. Membership views and partition cuts are bit sets over node indices.
struct SimNode: Codable {
    var vm = true
    var app: AppState = .running
    /// Paused by `pause_minority` (the app is stopped, the VM runs).
    var paused = false
    /// The cluster members this node knows of (its `disk_nodes`), itself included.
    var view: UInt64
    var maintenance = false
    var alarms: [String] = []
    var cookie = 0
    var resolvable = true
    var rabbitmq = "3.10.8"
    var erlang = "25.2.1"
    /// Stopped gracefully while none of its peers ran: boots without waiting.
    var lastToStop = false
    var forceBoot = false
    var failNextBoot = false
    var slowBootMs: Int64 = 0
    /// Incremented whenever the node loses its data (reset, force_reset, join, lost disk):
    /// replicas created under an older epoch are gone.
    var epoch = 0
    /// Incremented to cancel pending boot events.
    var gen = 0
    var retriesLeft = 10
    /// The boot was started by launching the server (a failed boot stops the VM) rather than
    /// by `start_app` (the VM stays up).
    var bootViaServer = true
    /// Skip the wait for peers (resuming after a pause or an autoheal restart).
    var resumeFast = false
    var bootFailure: String?
    /// Nodes this node cannot reach (network partition).
    var cut: UInt64 = 0
    /// Nodes this node recorded a partition with (what `cluster_status` lists).
    var partitionedFrom: UInt64 = 0
    var spare = false

    init(view: UInt64) { self.view = view }

    /// RabbitMQ major.minor and Erlang major: nodes with different keys cannot cluster.
    /// Stored, not computed: reachability checks read it in hot loops.
    var versionKey = "3.10/25"

    static func versionKey(rabbitmq: String, erlang: String) -> String {
        let r = rabbitmq.split(separator: ".").prefix(2).joined(separator: ".")
        let e = erlang.split(separator: ".").first.map(String.init) ?? erlang
        return r + "/" + e
    }
}

/// One queue. Classic queues have one member, their home node.
struct SimQueue: Codable {
    var name: String
    var type: QueueType
    var durable: Bool
    var groupSize: Int?
    var locator: LeaderLocator
    var members: [Int]
    /// The epoch of each member's node when its replica was created.
    var epochs: [Int]
    var leader: Int?
    var messages = 0
    var published = 0
    var confirmed = 0
    var consumed = 0
    var lost = 0
    var deleted = false
    var downSince: Int64?
    var downMs: Int64 = 0
    var losses = 0
}

struct SimEvent: Codable {
    var at: Int64
    var seq: Int
    var node: Int
    var gen: Int
}

/// Everything a simulator is; encoded as is by `snapshot()`.
struct SimState: Codable {
    var clusterName: String
    var partitionHandling: PartitionHandling
    var nowMs: Int64 = 0
    var rng: SplitMix64
    var seq = 0
    var nextCookie = 1
    var nodes: [SimNode]
    var queues: [SimQueue] = []
    var events: [SimEvent] = []
    var log: [String] = []
    var disabledFeatureFlags: [String] = []
}

@inline(__always) func bit(_ i: Int) -> UInt64 { UInt64(1) << UInt64(i) }
@inline(__always) func has(_ set: UInt64, _ i: Int) -> Bool { set & bit(i) != 0 }
func indices(_ set: UInt64) -> [Int] {
    var out: [Int] = []
    var s = set
    while s != 0 {
        let i = s.trailingZeroBitCount
        out.append(i)
        s &= s - 1
    }
    return out
}
