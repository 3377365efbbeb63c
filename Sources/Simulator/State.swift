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
    var bootFailure: String?
    /// Nodes this node cannot reach (network partition).
    var cut: UInt64 = 0
    /// Nodes this node recorded a partition with (what `cluster_status` lists).
    var partitionedFrom: UInt64 = 0
    var spare = false
    /// AMQP client connections on the node (autoheal keeps the side with the most).
    var connections = 0
    /// The feature flags enabled on the node, sorted. Enabling a flag enables it on every member
    /// (so members agree); a node keeps its flags across an upgrade, a reset gives it the
    /// defaults of its release, a join the cluster's.
    private(set) var flags: [String] = []
    /// `khepri_db` is enabled: the node keeps its metadata in Khepri (stored, not computed:
    /// declarations read it).
    private(set) var khepri = false
    /// The node's next `upgrade` fails (a failing inventory command).
    var failNextUpgrade = false

    init(view: UInt64) { self.view = view }

    mutating func setFlags(_ names: [String]) {
        flags = Array(Set(names)).sorted()
        khepri = flags.contains("khepri_db")
    }

    /// The Erlang major: nodes of different RabbitMQ minors cluster (what decides is their
    /// feature flags and Erlang), nodes of different Erlang majors do not. Stored, not computed:
    /// reachability checks read it in hot loops.
    var versionKey = "25"

    static func versionKey(erlang: String) -> String {
        erlang.split(separator: ".").first.map(String.init) ?? erlang
    }
}

extension SimNode {
    enum CodingKeys: String, CodingKey {
        case vm, app, paused, view, maintenance, alarms, cookie, resolvable, rabbitmq, erlang, lastToStop, forceBoot,
             failNextBoot, slowBootMs, epoch, gen, retriesLeft, bootViaServer, bootFailure, cut, partitionedFrom, spare,
             connections, flags, failNextUpgrade
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vm = try c.decode(Bool.self, forKey: .vm)
        app = try c.decode(AppState.self, forKey: .app)
        paused = try c.decode(Bool.self, forKey: .paused)
        view = try c.decode(UInt64.self, forKey: .view)
        maintenance = try c.decode(Bool.self, forKey: .maintenance)
        alarms = try c.decode([String].self, forKey: .alarms)
        cookie = try c.decode(Int.self, forKey: .cookie)
        resolvable = try c.decode(Bool.self, forKey: .resolvable)
        rabbitmq = try c.decode(String.self, forKey: .rabbitmq)
        erlang = try c.decode(String.self, forKey: .erlang)
        lastToStop = try c.decode(Bool.self, forKey: .lastToStop)
        forceBoot = try c.decode(Bool.self, forKey: .forceBoot)
        failNextBoot = try c.decode(Bool.self, forKey: .failNextBoot)
        slowBootMs = try c.decode(Int64.self, forKey: .slowBootMs)
        epoch = try c.decode(Int.self, forKey: .epoch)
        gen = try c.decode(Int.self, forKey: .gen)
        retriesLeft = try c.decode(Int.self, forKey: .retriesLeft)
        bootViaServer = try c.decode(Bool.self, forKey: .bootViaServer)
        bootFailure = try c.decodeIfPresent(String.self, forKey: .bootFailure)
        cut = try c.decode(UInt64.self, forKey: .cut)
        partitionedFrom = try c.decode(UInt64.self, forKey: .partitionedFrom)
        spare = try c.decode(Bool.self, forKey: .spare)
        connections = try c.decodeIfPresent(Int.self, forKey: .connections) ?? 0
        setFlags(try c.decodeIfPresent([String].self, forKey: .flags) ?? [])
        failNextUpgrade = try c.decodeIfPresent(Bool.self, forKey: .failNextUpgrade) ?? false
        versionKey = SimNode.versionKey(erlang: erlang)
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(vm, forKey: .vm)
        try c.encode(app, forKey: .app)
        try c.encode(paused, forKey: .paused)
        try c.encode(view, forKey: .view)
        try c.encode(maintenance, forKey: .maintenance)
        try c.encode(alarms, forKey: .alarms)
        try c.encode(cookie, forKey: .cookie)
        try c.encode(resolvable, forKey: .resolvable)
        try c.encode(rabbitmq, forKey: .rabbitmq)
        try c.encode(erlang, forKey: .erlang)
        try c.encode(lastToStop, forKey: .lastToStop)
        try c.encode(forceBoot, forKey: .forceBoot)
        try c.encode(failNextBoot, forKey: .failNextBoot)
        try c.encode(slowBootMs, forKey: .slowBootMs)
        try c.encode(epoch, forKey: .epoch)
        try c.encode(gen, forKey: .gen)
        try c.encode(retriesLeft, forKey: .retriesLeft)
        try c.encode(bootViaServer, forKey: .bootViaServer)
        try c.encodeIfPresent(bootFailure, forKey: .bootFailure)
        try c.encode(cut, forKey: .cut)
        try c.encode(partitionedFrom, forKey: .partitionedFrom)
        try c.encode(spare, forKey: .spare)
        try c.encode(connections, forKey: .connections)
        try c.encode(flags, forKey: .flags)
        if failNextUpgrade { try c.encode(failNextUpgrade, forKey: .failNextUpgrade) }
    }
}

/// One queue. Classic queues have one member, their home node.
struct SimQueue: Codable {
    var name: String
    var vhost = "/"
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

/// Something due at a time: a boot check of a node (`queue` nil), or the end of a replica's
/// catch-up (`queue` set).
struct SimEvent: Codable {
    var at: Int64
    var seq: Int
    var node: Int
    var gen: Int
    var queue: Int?
}

/// Where a simulated cluster copied from another came from (`warren snapshot`).
public struct CopyOrigin: Codable, Equatable, Sendable {
    /// The copied cluster's name and target (`prod-eu`, `sim:3`).
    public var cluster: String
    public var target: String
    /// When its snapshot was taken (seconds since 1970).
    public var takenAt: Double
    /// What the copy could not keep as it was (a partition handling the simulator does not model...).
    public var notes: [String]
}

/// Everything a simulator is; encoded by `snapshot()`. Queues are packed one line each
/// (tens of thousands of them must save in milliseconds: the engine saves after every primitive).
///
/// Every format keeps `format` and `warren` (the writer's version) at the top level: a build that
/// finds a newer format names both in its refusal.
struct SimState: Codable {
    /// The newest state format this build reads and writes. 3: node names, queue virtual hosts,
    /// policies and the origin of a copy (`warren snapshot`), and the feature flags per node
    /// (format 2: one list of disabled flags, the rest of the release's enabled).
    static let currentFormat = 3
    var format = SimState.currentFormat
    /// The warren that wrote the state (format 3 on).
    var warren = WarrenVersion.current
    /// The nodes' names when they are not `rabbit@n1...` (a copy of a real cluster); empty: those.
    var nodeNames: [String] = []
    /// The policies of a copied cluster (a new simulated cluster has none).
    var policies: [Policy] = []
    var copiedFrom: CopyOrigin?
    var clusterName: String
    /// Unique per simulated cluster (drawn at creation, outside the seeded generator): a resume
    /// compares it, as it compares a real cluster's name.
    var clusterID: String
    var partitionHandling: PartitionHandling
    var nowMs: Int64 = 0
    var rng: SplitMix64
    var seq = 0
    var nextCookie = 1
    var nodes: [SimNode]
    var queues: [SimQueue] = []
    var events: [SimEvent] = []
    var log: [String] = []
    /// The outcome of the last primitive, saved with the state before its result is journaled.
    var checkpoint: PrimitiveCheckpoint?
    /// Replicas catching up ("queue/node" -> when they will have): a restarted or rejoined member
    /// runs, but counts towards a majority only once it has the log.
    var catchingUp: [String: Int64] = [:]
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

extension SimState {
    enum CodingKeys: String, CodingKey {
        case format, warren, nodeNames, policies, copiedFrom, clusterName, clusterID, partitionHandling, nowMs, rng, seq,
             nextCookie, nodes, queues, events, log, checkpoint, catchingUp
        /// Format 2 and earlier.
        case disabledFeatureFlags
    }

    /// A state file this build cannot read because a newer warren wrote it.
    struct NewerFormat: Error, CustomStringConvertible {
        var format: Int
        var writer: String?
        var description: String {
            let by = writer.flatMap { $0 == WarrenVersion.current ? nil : "warren \($0)" } ?? "a newer warren"
            return "it was written by \(by) (state format \(format)); this warren \(WarrenVersion.current) "
                + "reads state formats up to \(SimState.currentFormat): use that warren or a newer one, or take the snapshot again with this one"
        }
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        // Format 1 (no field) had neither an id nor a checkpoint; format 2 had no names, virtual hosts,
        // policies or origin.
        format = try c.decodeIfPresent(Int.self, forKey: .format) ?? 1
        if format > SimState.currentFormat {
            throw NewerFormat(format: format, writer: try? c.decodeIfPresent(String.self, forKey: .warren))
        }
        warren = try c.decodeIfPresent(String.self, forKey: .warren) ?? "before 0.14"
        nodeNames = try c.decodeIfPresent([String].self, forKey: .nodeNames) ?? []
        policies = try c.decodeIfPresent([Policy].self, forKey: .policies) ?? []
        copiedFrom = try c.decodeIfPresent(CopyOrigin.self, forKey: .copiedFrom)
        clusterName = try c.decode(String.self, forKey: .clusterName)
        clusterID = try c.decodeIfPresent(String.self, forKey: .clusterID) ?? ""
        checkpoint = try c.decodeIfPresent(PrimitiveCheckpoint.self, forKey: .checkpoint)
        catchingUp = try c.decodeIfPresent([String: Int64].self, forKey: .catchingUp) ?? [:]
        partitionHandling = try c.decode(PartitionHandling.self, forKey: .partitionHandling)
        nowMs = try c.decode(Int64.self, forKey: .nowMs)
        rng = try c.decode(SplitMix64.self, forKey: .rng)
        seq = try c.decode(Int.self, forKey: .seq)
        nextCookie = try c.decode(Int.self, forKey: .nextCookie)
        nodes = try c.decode([SimNode].self, forKey: .nodes)
        let withVHost = format >= 3
        queues = try c.decode([String].self, forKey: .queues).map { line in
            guard let q = SimQueue(packed: line, withVHost: withVHost) else {
                throw DecodingError.dataCorruptedError(forKey: .queues, in: c, debugDescription: "bad queue line: \(line.prefix(80))")
            }
            return q
        }
        events = try c.decode([SimEvent].self, forKey: .events)
        log = try c.decode([String].self, forKey: .log)
        if format < 3 {
            // Every node had the flags of a new cluster of its release, but those disabled.
            let disabled = try c.decodeIfPresent([String].self, forKey: .disabledFeatureFlags) ?? []
            for i in nodes.indices {
                nodes[i].setFlags(ReleaseFacts.make(nodes[i].rabbitmq)?.newClusterFlags.filter { !disabled.contains($0) } ?? [])
            }
        }
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(SimState.currentFormat, forKey: .format)
        try c.encode(WarrenVersion.current, forKey: .warren)
        if !nodeNames.isEmpty { try c.encode(nodeNames, forKey: .nodeNames) }
        if !policies.isEmpty { try c.encode(policies, forKey: .policies) }
        try c.encodeIfPresent(copiedFrom, forKey: .copiedFrom)
        try c.encode(clusterName, forKey: .clusterName)
        try c.encode(clusterID, forKey: .clusterID)
        try c.encodeIfPresent(checkpoint, forKey: .checkpoint)
        if !catchingUp.isEmpty { try c.encode(catchingUp, forKey: .catchingUp) }
        try c.encode(partitionHandling, forKey: .partitionHandling)
        try c.encode(nowMs, forKey: .nowMs)
        try c.encode(rng, forKey: .rng)
        try c.encode(seq, forKey: .seq)
        try c.encode(nextCookie, forKey: .nextCookie)
        try c.encode(nodes, forKey: .nodes)
        try c.encode(queues.map(\.packed), forKey: .queues)
        try c.encode(events, forKey: .events)
        try c.encode(log, forKey: .log)
    }
}

extension SimQueue {
    /// `type durable groupSize locator members epochs leader messages published confirmed
    /// consumed lost deleted downSince downMs losses vhost name`, space-separated; lists are
    /// comma-separated, absent values `-`; the virtual host percent-encoded (format 3 on); the
    /// name comes last so it needs no escaping.
    var packed: String {
        func list(_ xs: [Int]) -> String { xs.isEmpty ? "-" : xs.map(String.init).joined(separator: ",") }
        let fields: [String] = [
            type.rawValue, durable ? "1" : "0", groupSize.map(String.init) ?? "-", locator.rawValue,
            list(members), list(epochs), leader.map(String.init) ?? "-", String(messages), String(published),
            String(confirmed), String(consumed), String(lost), deleted ? "1" : "0",
            downSince.map(String.init) ?? "-", String(downMs), String(losses), SimQueue.escape(vhost), name,
        ]
        return fields.joined(separator: " ")
    }

    /// - Parameter withVHost: the line has the virtual host field (format 3 on).
    init?(packed line: String, withVHost: Bool = true) {
        let fieldCount = withVHost ? 18 : 17
        let f = line.split(separator: " ", maxSplits: fieldCount - 1, omittingEmptySubsequences: false)
        guard f.count == fieldCount, let type = QueueType(rawValue: String(f[0])),
              let locator = LeaderLocator(rawValue: String(f[3])) else { return nil }
        func int(_ s: Substring) -> Int? { Int(s) }
        func list(_ s: Substring) -> [Int]? {
            if s == "-" { return [] }
            let parts = s.split(separator: ",").map { Int($0) }
            return parts.contains(nil) ? nil : parts.compactMap { $0 }
        }
        guard let members = list(f[4]), let epochs = list(f[5]),
              let messages = int(f[7]), let published = int(f[8]), let confirmed = int(f[9]),
              let consumed = int(f[10]), let lost = int(f[11]), let downMs = Int64(f[14]), let losses = int(f[15])
        else { return nil }
        let groupSize = f[2] == "-" ? nil : int(f[2])
        if f[2] != "-" && groupSize == nil { return nil }
        let leader = f[6] == "-" ? nil : int(f[6])
        if f[6] != "-" && leader == nil { return nil }
        let downSince = f[13] == "-" ? nil : Int64(f[13])
        if f[13] != "-" && downSince == nil { return nil }
        guard let vhost = withVHost ? SimQueue.unescape(f[16]) : "/" else { return nil }
        self.init(name: String(f[fieldCount - 1]), vhost: vhost, type: type, durable: f[1] == "1", groupSize: groupSize, locator: locator,
                  members: members, epochs: epochs, leader: leader, messages: messages, published: published,
                  confirmed: confirmed, consumed: consumed, lost: lost, deleted: f[12] == "1",
                  downSince: downSince, downMs: downMs, losses: losses)
    }
}

extension SimQueue {
    /// How ``Simulator/queueByName`` finds it: the name in `/` (where the primitives declare,
    /// publish and consume), else the virtual host and the name.
    var key: String { vhost == "/" ? name : vhost + "\u{0}" + name }

    /// `/` as is; any other virtual host with `%`, spaces and control characters percent-encoded.
    static func escape(_ vhost: String) -> String {
        if vhost == "/" { return vhost }
        var bytes: [UInt8] = []
        for b in vhost.utf8 {
            if b <= 0x20 || b == 0x25 || b == 0x7f {
                let hex = Array("0123456789ABCDEF".utf8)
                bytes += [0x25, hex[Int(b >> 4)], hex[Int(b & 15)]]
            } else {
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func unescape(_ field: Substring) -> String? {
        if field == "/" { return "/" }
        var bytes: [UInt8] = []
        var it = Array(field.utf8)[...]
        while let b = it.popFirst() {
            if b == 0x25 {
                guard it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) else { return nil }
                bytes.append(v)
                it = it.dropFirst(2)
            } else {
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
