import Cluster

/// A deterministic in-process RabbitMQ cluster (shared/design/rabbitmq.md section 3), of 3.10.8
/// unless another release is asked for: then where releases differ it follows the version table
/// (Versions.swift; feature flags in FeatureFlags.swift).
///
/// Nodes are `rabbit@n1...nN` (spares follow the members). Time is virtual: every primitive
/// takes a plausible duration drawn from a seeded generator and waits cost no real time, so the
/// same seed and the same calls give the same ``eventLog``, byte for byte. Reads (`status`,
/// `queues`, `ping`, checks) take no virtual time and log nothing.
public final class Simulator: Backend, FaultInjecting {
    /// The largest simulated cluster (membership views are 64-bit sets).
    public static let maxNodes = 63

    var s: SimState
    var replicaIndex: [[Int]] = []
    var classicIndex: [[Int]] = []
    var leaderCount: [Int] = []
    /// Queues by ``SimQueue/key`` (their name in the default virtual host `/`).
    var queueByName: [String: Int] = [:]
    var names: [String] = []
    var shortNames: [String] = []
    var nodeIndex: [String: Int] = [:]
    var factsCache: [String: ReleaseFacts] = [:]
    public var upgradeUnderWay: (() -> UpgradeUnderWay?)?
    /// Incremented by every change (an event logged, time passing): a saved copy is current while
    /// this has not moved since.
    public internal(set) var revision = 0

    /// Creates a running cluster.
    /// - Parameters:
    ///   - nodes: members (clamped to 1...``maxNodes`` together with `spares`).
    ///   - formed: false leaves every node standalone (to drill forming a cluster).
    ///   - spares: extra running standalone nodes, named after the members (add/replace drills).
    ///   - version: the release every node runs (one the version table knows; a new cluster of it:
    ///     its stable flags enabled, its Erlang from ``erlang(for:)``).
    public init(nodes: Int = 3, seed: UInt64 = 1, clusterName: String = "sim",
                partitionHandling: PartitionHandling = .ignore, formed: Bool = true, spares: Int = 0,
                version: RabbitMQVersion = Simulator.defaultVersion) {
        let members = min(max(nodes, 1), Simulator.maxNodes)
        let spareCount = min(max(spares, 0), Simulator.maxNodes - members)
        var all: UInt64 = 0
        for i in 0..<members { all |= bit(i) }
        var list: [SimNode] = []
        let flags = ReleaseFacts.make(version.description)?.newClusterFlags ?? []
        let erlang = Simulator.erlang(for: version)
        for i in 0..<(members + spareCount) {
            var n = SimNode(view: (formed && i < members) ? all : bit(i))
            n.spare = i >= members
            n.rabbitmq = version.description
            n.erlang = erlang
            n.versionKey = SimNode.versionKey(erlang: erlang)
            n.setFlags(flags)
            list.append(n)
        }
        var id = SystemRandomNumberGenerator()
        s = SimState(clusterName: clusterName, clusterID: String(id.next() & 0xffff_ffff_ffff, radix: 16),
                     partitionHandling: partitionHandling, rng: SplitMix64(seed: seed), nodes: list)
        rebuildIndices()
        log(nil, "cluster \(clusterName): \(members) node(s)\(formed ? "" : " standalone")\(spareCount > 0 ? ", \(spareCount) spare" : ""), seed \(seed), \(partitionHandling.rawValue)"
            + (version == Simulator.defaultVersion ? "" : ", RabbitMQ \(version) on Erlang \(erlang)\(list[0].khepri ? ", Khepri" : "")"))
    }

    init(state: SimState) {
        s = state
        rebuildIndices()
    }

    /// Continues a simulator saved by ``snapshot()`` exactly where it was.
    public static func restore(_ bytes: [UInt8]) throws -> Simulator {
        let state: SimState
        do {
            state = try SnapshotCoding.decode(bytes)
        } catch let e as SimState.NewerFormat {
            throw ClusterError(.dataError, "cannot restore the simulated cluster: \(e)")
        } catch {
            throw ClusterError(.dataError, "cannot restore the simulated cluster: the saved state is unreadable (\(error))")
        }
        guard !state.nodes.isEmpty, state.nodes.count <= maxNodes,
              state.queues.allSatisfy({ q in q.members.allSatisfy { $0 >= 0 && $0 < state.nodes.count }
                  && q.members.count == q.epochs.count && (q.leader.map { $0 >= 0 && $0 < state.nodes.count } ?? true) }),
              state.events.allSatisfy({ $0.node >= 0 && $0.node < state.nodes.count }),
              state.nodes.allSatisfy({ n in
                  let outside: UInt64 = state.nodes.count >= 64 ? 0 : ~((UInt64(1) << UInt64(state.nodes.count)) - 1)
                  return (n.view | n.cut | n.partitionedFrom) & outside == 0
              }) else {
            throw ClusterError(.dataError, "cannot restore the simulated cluster: the saved state is inconsistent")
        }
        return Simulator(state: state)
    }

    /// `cluster_partition_handling`; takes effect at the next partition or heal.
    public var partitionHandling: PartitionHandling {
        get { s.partitionHandling }
        set { s.partitionHandling = newValue }
    }

    public var clusterName: String { s.clusterName }

    /// Unique to this simulated cluster (kept in its saved state; empty for a state saved before ids).
    public var clusterID: String { s.clusterID }

    /// The outcome of a primitive, saved with the state (see ``PrimitiveCheckpoint``).
    public var checkpoint: PrimitiveCheckpoint? {
        get { s.checkpoint }
        set { s.checkpoint = newValue }
    }

    /// Whether any network partition is in effect (healed partitions may still be listed by
    /// `cluster_status` under `ignore`).
    public var hasPartitions: Bool { s.nodes.contains { $0.cut != 0 } }

    // MARK: Backend

    public var targetDescription: String { "sim:\(s.nodes.filter { !$0.spare }.count)" }
    public var nodeNames: [String] { s.nodes.indices.map(name) }
    public func resolve(_ node: String) throws -> String { name(try index(node)) }
    public var eventLog: [String] { s.log }
    public func now() -> Double { Double(s.nowMs) / 1000 }
    public var clockIsVirtual: Bool { true }

    public func sleep(_ seconds: Double) {
        guard seconds.isFinite, seconds > 0 else { return }
        advance(to: s.nowMs + Int64(min(seconds, 1e9) * 1000))
    }

    public func ping(_ node: String) throws -> Bool { cliReachable(try index(node)) }

    public func start(_ node: String) throws {
        let i = try index(node)
        if s.nodes[i].vm {
            log(i, "start: already running")
            return
        }
        spend(1000, 2000)
        s.nodes[i].vm = true
        s.nodes[i].app = .stopped
        log(i, "vm up")
        beginBoot(i, viaServer: true)
        afterChange()
    }

    public func stop(_ node: String) throws {
        let i = try index(node)
        guard s.nodes[i].vm else {
            log(i, "stop: already stopped")
            return
        }
        spend(1000, 3000)
        let last = s.nodes[i].app == .running ? stoppingLast(i) : s.nodes[i].lastToStop
        appDown(i)
        s.nodes[i].vm = false
        s.nodes[i].paused = false
        s.nodes[i].lastToStop = last
        log(i, last ? "stopped (last running node)" : "stopped")
        nodeDown()
        afterChange()
    }

    public func startApp(_ node: String) throws {
        let i = try index(node)
        try requireVM(i)
        if s.nodes[i].app == .stopped {
            beginBoot(i, viaServer: false)
        }
        try awaitBoot(i, deadline: s.nowMs + 600_000)
    }

    public func stopApp(_ node: String) throws {
        let i = try index(node)
        try requireVM(i)
        if s.nodes[i].app == .stopped && !s.nodes[i].paused {
            log(i, "stop_app: app already stopped")
            return
        }
        spend(500, 1500)
        let last = s.nodes[i].app == .running ? stoppingLast(i) : s.nodes[i].lastToStop
        appDown(i)
        s.nodes[i].paused = false
        s.nodes[i].lastToStop = last
        log(i, "app stopped")
        nodeDown()
        afterChange()
    }

    public func awaitRunning(_ node: String, timeout: Double) throws {
        let i = try index(node)
        if !s.nodes[i].vm, let reason = s.nodes[i].bootFailure {
            throw ClusterError(.unavailable, "\(name(i)) failed to boot: \(reason)", node: name(i))
        }
        try requireVM(i)
        let t = timeout.isFinite ? max(0, min(timeout, 1e9)) : 1e9
        try awaitBoot(i, deadline: s.nowMs + Int64(t * 1000))
    }

    func awaitBoot(_ i: Int, deadline: Int64) throws {
        let done = advance(to: deadline) { [unowned self] in
            appRunning(i) || !s.nodes[i].vm || (s.nodes[i].app == .stopped && s.nodes[i].bootFailure != nil)
        }
        if appRunning(i) { return }
        if done, let reason = s.nodes[i].bootFailure {
            throw ClusterError(.unavailable, "\(name(i)) failed to boot: \(reason)", node: name(i))
        }
        if !s.nodes[i].vm { throw ClusterError.nodeDown(name(i)) }
        throw ClusterError.timeout(name(i), "waiting for the 'rabbit' app to start on \(name(i))")
    }

    public func reset(_ node: String) throws { try reset(node, force: false) }
    public func forceReset(_ node: String) throws { try reset(node, force: true) }

    /// On Khepri a graceful reset needs a majority (clustering_management_SUITE.erl@v4.2.9
    /// L741-759: exit 75, "timed out ... minority"), and `force_reset` fails where the table says
    /// (4.0.7+, 4.1+: rabbit_db.erl@v4.2.0 L167-173, exit 69); from 4.1 it is deprecated.
    func reset(_ node: String, force: Bool) throws {
        let i = try index(node)
        try requireVM(i)
        guard s.nodes[i].app == .stopped else { throw ClusterError.appMustBeStopped(name(i)) }
        let procedures = facts(i)?.procedures
        if force, s.nodes[i].khepri, let p = procedures, p.forceResetRefusedOnKhepri.value.contains(facts(i)!.version.patch) {
            throw ClusterError(.unavailable, "Error:\nForced reset is unsupported with Khepri", node: name(i))
        }
        if !force {
            if s.nodes[i].khepri && s.nodes[i].view.nonzeroBitCount > 1 && !khepriMajority(i) { throw khepriMinority(i) }
            try leaveCluster(i)
        }
        spend(500, 1500)
        wipe(i)
        log(i, force ? "force_reset\(procedures?.forceResetDeprecated.value == true ? " (deprecated)" : "")" : "reset")
        afterChange()
    }

    /// A graceful leave (reset, and join_cluster, which leaves the old cluster first): an online
    /// peer removes the node from the cluster, and the durable classic queues homed on the node
    /// are deleted from it with their messages (`forget_all_durable`, rabbitmq.md §3; observed on
    /// 3.10.8). Its quorum queue memberships stay listed on the peers.
    func leaveCluster(_ i: Int) throws {
        let peers = indices(s.nodes[i].view).filter { $0 != i }
        guard !peers.isEmpty else {
            // A standalone node: its queues go with its wiped data.
            for q in classicIndex[i] where !s.queues[q].deleted && s.queues[q].durable { deleteQueue(q) }
            return
        }
        let online = runningPeers(i)
        guard !online.isEmpty else {
            throw ClusterError(.unavailable, "You cannot leave a cluster if no online nodes are present.", node: name(i))
        }
        for j in s.nodes.indices where j != i && appRunning(j) && reach(online[0], j) {
            s.nodes[j].view &= ~bit(i)
        }
        for q in classicIndex[i] where !s.queues[q].deleted && s.queues[q].durable {
            deleteQueue(q)
            log(i, "durable classic queue \(s.queues[q].name) deleted with the node's data")
        }
    }

    /// Removes a queue from the cluster; its messages are gone.
    func deleteQueue(_ q: Int) {
        s.queues[q].deleted = true
        s.queues[q].lost += s.queues[q].messages
        s.queues[q].messages = 0
        queueByName[s.queues[q].key] = nil
    }

    /// `force_boot` applies to the next boot of a stopped node; with the app running the CLI refuses
    /// (exit 64, rabbitmq.md §3).
    ///
    /// On Khepri it does nothing (rabbit_db.erl@v4.2.0 L182-190 answers unsupported_with_khepri, a
    /// force_load marker is read by Mnesia only, and the CLI still exits 0:
    /// clustering_management_SUITE.erl@v4.2.9 L828-834): warren refuses it there rather than let
    /// a runbook count on it.
    public func forceBoot(_ node: String) throws {
        let i = try index(node)
        if appRunning(i) { throw ClusterError.appMustBeStopped(name(i)) }
        if s.nodes[i].khepri {
            throw ClusterError(.usage, Simulator.forceBootOnKhepri(name(i)), node: name(i))
        }
        s.nodes[i].forceBoot = true
        log(i, "force_boot set for next boot")
    }

    public func drain(_ node: String) throws {
        let i = try index(node)
        try requireApp(i)
        if s.nodes[i].maintenance { return }
        spend(1000, 3000)
        s.nodes[i].maintenance = true
        var moved = 0
        for q in replicaIndex[i] {
            let had = s.queues[q].leader == i
            refresh(q)
            if had && s.queues[q].leader != i { moved += 1 }
        }
        log(i, "drained: \(moved) leader(s) transferred, listeners suspended")
        afterChange()
    }

    public func revive(_ node: String) throws {
        let i = try index(node)
        try requireVM(i)
        guard s.nodes[i].maintenance else { return }
        spend(500, 1500)
        s.nodes[i].maintenance = false
        refreshQueues(on: i)
        log(i, "revived")
        afterChange()
    }

    public func join(_ node: String, seed: String) throws {
        let i = try index(node), j = try index(seed)
        try requireVM(i)
        if i == j { throw ClusterError(.software, "Error: cannot cluster node with itself", node: name(i)) }
        if joinNeedsAppStopped(i) {
            guard s.nodes[i].app == .stopped else { throw ClusterError.appMustBeStopped(name(i)) }
        } else if s.nodes[i].app == .booting {
            throw ClusterError(.unavailable, "Error: \(name(i)) is still booting; try again once it runs", node: name(i))
        }
        try requireVM(j)
        if !s.nodes[j].resolvable || !s.nodes[i].resolvable || s.nodes[i].cookie != s.nodes[j].cookie || has(s.nodes[i].cut, j) {
            throw ClusterError(.unavailable, "unable to connect to node \(name(j)) from \(name(i)): nodedown (check the Erlang cookie, hostname resolution and the network)", node: name(i))
        }
        if s.nodes[i].versionKey != s.nodes[j].versionKey {
            throw ClusterError(.unavailable, "Error: incompatible Erlang versions: \(name(i)) runs Erlang \(s.nodes[i].erlang), \(name(j)) runs Erlang \(s.nodes[j].erlang)", node: name(i))
        }
        guard appRunning(j) else {
            throw ClusterError(.unavailable, "Error: mnesia_not_running: the 'rabbit' app is not running on \(name(j))", node: name(i))
        }
        if has(s.nodes[j].view, i) {
            if has(s.nodes[i].view, j) {
                log(i, "join \(short(j)): already a member")
                return
            }
            throw ClusterError(.unavailable, "Error: inconsistent_cluster: Node \(name(j)) thinks it's clustered with node \(name(i)), but \(name(i)) disagrees; run forget_cluster_node \(name(i)) on \(name(j)) first", node: name(i))
        }
        if let why = incompatibleFlags(joining: i, seed: j) {
            throw ClusterError(.unavailable, "Error:\nincompatible_feature_flags (\(why))", node: name(i))
        }
        if s.nodes[j].khepri && !khepriMajority(j) { throw khepriMinority(i) }
        let restart = appRunning(i)
        if restart {
            appDown(i)
            log(i, "join_cluster: app stopped to join")
        }
        try leaveCluster(i)
        spend(1000, 2000)
        wipe(i)
        let cluster = s.nodes[j].view | bit(i)
        for k in indices(cluster) where k == i || (appRunning(k) && reach(j, k)) {
            s.nodes[k].view = cluster
        }
        s.nodes[i].spare = false
        s.nodes[i].setFlags(s.nodes[j].flags)
        log(i, "Clustering node \(name(i)) with \(name(j))")
        if restart {
            beginBoot(i, viaServer: false)
            try awaitBoot(i, deadline: s.nowMs + 600_000)
        }
        afterChange()
    }

    /// Whether the node's app must be stopped before `join_cluster`: until 4.1 (the table's
    /// `joinNeedsStopAppAndReset`), after which join_cluster stops, resets and restarts it
    /// itself (rabbit_db_cluster.erl@v4.2.0 L91-217).
    func joinNeedsAppStopped(_ i: Int) -> Bool {
        facts(i)?.procedures.joinNeedsStopAppAndReset.value ?? true
    }

    /// Why a node cannot join a cluster for its feature flags, if it cannot: a flag enabled on
    /// either side that a node of the other side does not define (rabbit_ff_controller.erl@v4.0.5
    /// L495-518 and L1474-1506). From 4.1 the joining node counts as reset: only its required
    /// flags are enabled (`virtually_reset_inventory`, rabbit_ff_controller.erl@v4.1.0). A newer
    /// node that passes has the cluster's flags after the join, and its boot fails on a required
    /// flag the cluster has disabled (``bootRefusal(_:)``).
    func incompatibleFlags(joining i: Int, seed j: Int) -> String? {
        guard let mine = facts(i) else { return nil }
        let joining = mine.version >= RabbitMQVersion(4, 1, 0)
            ? mine.flags.filter { $0.value == .required }.map(\.key).sorted() : s.nodes[i].flags
        let cluster = indices(s.nodes[j].view).filter { $0 == j || (appRunning($0) && reach(j, $0)) }
        for m in cluster {
            guard let theirs = facts(m) else { continue }
            if let f = joining.first(where: { theirs.flags[$0] == nil }) {
                return "\(name(i)) has \(f) enabled, which \(name(m)) (RabbitMQ \(theirs.version)) does not know"
            }
        }
        if let f = s.nodes[j].flags.first(where: { mine.flags[$0] == nil }) {
            return "the cluster has \(f) enabled, which \(name(i)) (RabbitMQ \(mine.version)) does not know"
        }
        return nil
    }

    static func forceBootOnKhepri(_ node: String) -> String {
        "force_boot is not supported with Khepri, the metadata store of \(node)'s cluster: the broker does nothing "
            + "(the CLI still exits 0), because a Khepri node boots only once a majority of its cluster's nodes run. "
            + "Start a majority of the nodes instead. Nothing was changed"
    }

    public func forget(_ target: String, from executor: String, offline: Bool) throws {
        let t = try index(target), e = try index(executor)
        if t == e {
            throw ClusterError(.unavailable, "Error: cannot forget node \(name(t)) from itself; run forget_cluster_node on another member", node: name(e))
        }
        if offline {
            if s.nodes[e].khepri {
                // rabbit_db_cluster.erl@v4.2.0 L281-286; clustering_management_SUITE.erl@v4.2.9 L575-581.
                throw ClusterError(.unavailable, "Error:\nnot_supported: forget_cluster_node --offline is not supported with Khepri", node: name(e))
            }
            guard !s.nodes[e].vm else {
                throw ClusterError(.usage, "forget_cluster_node --offline requires node \(name(e)) to be stopped", node: name(e))
            }
            guard has(s.nodes[e].view, t) else {
                throw ClusterError(.unavailable, "Error: The node selected is not in the cluster.", node: name(e))
            }
            s.nodes[e].view &= ~bit(t)
            s.nodes[e].forceBoot = true
            log(e, "forgot \(short(t)) offline (next boot forced)")
            return
        }
        try requireApp(e)
        guard has(s.nodes[e].view, t) else {
            throw ClusterError(.unavailable, "Error: The node selected is not in the cluster.", node: name(e))
        }
        if s.nodes[t].vm && s.nodes[t].app != .stopped {
            throw ClusterError(.unavailable, "RabbitMQ on node \(name(t)) must be stopped with 'rabbitmqctl -n \(name(t)) stop_app' before it can be removed", node: name(e))
        }
        spend(500, 1500)
        // From 4.2.6 the replicas are removed first, then the member (forget_cluster_node_command.ex
        // @v4.2.6 L53-110); before, the member first (@v3.10.8 L47-62): a forget that then times out
        // in a Khepri minority has shrunk the queues already, or changed nothing.
        let shrinkFirst = facts(e).map { $0.procedures.forgetShrinksReplicasFirst.value.contains($0.version.patch) } ?? false
        var shrunk: [String] = []
        if shrinkFirst { shrunk = shrinkQueues(t) }
        if s.nodes[e].khepri && !khepriMajority(e) {
            if !shrunk.isEmpty {
                log(e, "forget \(short(t)): \(shrunk.count) quorum queue(s) shrunk, then Khepri timed out")
                afterChange()
            }
            throw khepriMinority(e)
        }
        for k in s.nodes.indices where k != t && has(s.nodes[k].view, t) && (k == e || (appRunning(k) && reach(e, k))) {
            s.nodes[k].view &= ~bit(t)
        }
        if !shrinkFirst { shrunk = shrinkQueues(t) }
        for q in classicIndex[t] where !s.queues[q].deleted && s.queues[q].durable { deleteQueue(q) }
        // On Khepri a reachable node is reset as it is removed (rabbit_khepri.erl@v4.2.0 L659-687):
        // it is standalone afterwards and needs no reset.
        let resetToo = s.nodes[e].khepri && s.nodes[t].vm && reach(e, t)
        if resetToo { wipe(t) }
        log(e, "forgot \(short(t)); \(shrunk.count) quorum queue(s) shrunk\(resetToo ? "; \(short(t)) reset (Khepri)" : "")")
        afterChange()
    }

    // MARK: Queues

    @discardableResult public func grow(_ node: String, strategy: GrowStrategy) throws -> [String] {
        let i = try index(node)
        let p = try requireAnyRunning()
        // Onto a node whose app is stopped, or that is not a member, the CLI exits 0 and grows
        // nothing (per-queue failures are rows of its output): rabbitmq.md §3, observed on 3.10.8.
        guard appRunning(i), has(s.nodes[p].view, i) else {
            log(i, "grow \(strategy.rawValue): not a running member, nothing grown")
            return []
        }
        spend(500, 1500)
        var grown: [String] = []
        for q in s.queues.indices where s.queues[q].type == .quorum && !s.queues[q].deleted {
            let queue = s.queues[q]
            if queue.members.contains(i) || queue.leader == nil { continue }
            if strategy == .even && queue.members.count % 2 != 0 { continue }
            s.queues[q].members.append(i)
            s.queues[q].epochs.append(s.nodes[i].epoch)
            replicaIndex[i].append(q)
            refresh(q)
            grown.append(queue.name)
        }
        replicaIndex[i].sort()
        log(i, "grow \(strategy.rawValue): \(grown.count) queue(s)")
        afterChange()
        return grown
    }

    @discardableResult public func shrink(_ node: String) throws -> [String] {
        let i = try index(node)
        _ = try requireAnyRunning()
        spend(500, 1500)
        let shrunk = shrinkQueues(i)
        log(i, "shrink: \(shrunk.count) queue(s)")
        afterChange()
        return shrunk
    }

    /// Removes node i from quorum queues that keep a majority and more than one member.
    func shrinkQueues(_ i: Int) -> [String] {
        var shrunk: [String] = []
        var kept: [Int] = []
        for q in replicaIndex[i] {
            let queue = s.queues[q]
            guard queue.type == .quorum, !queue.deleted, queue.members.count > 1, queue.leader != nil,
                  let k = queue.members.firstIndex(of: i) else {
                kept.append(q)
                continue
            }
            s.queues[q].members.remove(at: k)
            s.queues[q].epochs.remove(at: k)
            if queue.leader == i { setLeader(q, nil) }
            refresh(q)
            shrunk.append(queue.name)
        }
        replicaIndex[i] = kept
        return shrunk
    }

    public func rebalance(_ kind: String) throws {
        // `rebalance` takes all, classic (mirrored queues' masters: none here) and quorum; streams
        // are refused with 69 (rabbitmq.md §3, observed on 3.10.8).
        // By release (rebalance_command.ex `@known_types`): `stream` from 3.12.0, `classic` (the
        // masters of mirrored queues) until 3.13.7; an unknown type exits 69 with the CLI's words.
        let p = try requireAnyRunning()
        let version = facts(p)?.version ?? Simulator.defaultVersion
        let known = (version >= RabbitMQVersion(4, 0, 0) ? ["all", "quorum"] : ["all", "classic", "quorum"])
            + (version >= RabbitMQVersion(3, 12, 0) ? ["stream"] : [])
        guard known.contains(kind) else {
            if version < RabbitMQVersion(3, 12, 0), kind == "stream" { throw ClusterError(.unavailable, "Error: type stream is not supported") }
            throw ClusterError(.unavailable, "Error: type \(kind) is not supported. Try one of \(known.joined(separator: ", ")).")
        }
        // Stream leaders are not moved: how 3.12+ places them is not modelled.
        let types: [QueueType] = kind == "quorum" || kind == "all" ? [.quorum] : []
        spend(1000, 3000)
        var moved = 0
        for q in s.queues.indices where types.contains(s.queues[q].type) && !s.queues[q].deleted {
            let queue = s.queues[q]
            guard let l = queue.leader else { continue }
            var best = l
            for k in queue.members.indices where replicaOnline(queue, k) {
                let m = queue.members[k]
                if leaderCount[m] < leaderCount[best] && supporters(queue, m) > queue.members.count / 2 { best = m }
            }
            if leaderCount[l] - leaderCount[best] > 1 {
                setLeader(q, best)
                moved += 1
            }
        }
        log(nil, "rebalance \(kind): \(moved) leader(s) moved")
        afterChange()
    }

    public func declareQueue(_ spec: QueueSpec) throws {
        try declare(spec)
        log(nil, "declared \(spec.type.rawValue) queue \(spec.name)")
        afterChange()
    }

    /// Declares many queues with one log line (bulk set-ups, benchmarks).
    public func declareQueues(_ specs: [QueueSpec]) throws {
        for spec in specs { try declare(spec) }
        log(nil, "declared \(specs.count) queue(s)")
        afterChange()
    }

    func declare(_ spec: QueueSpec) throws {
        if spec.name.isEmpty { throw ClusterError(.dataError, "queue name must not be empty") }
        let d: Int
        if let n = spec.node {
            d = try index(n)
            try requireApp(d)
            if s.nodes[d].maintenance {
                throw ClusterError(.unavailable, "connection refused: node \(name(d)) is under maintenance (listeners suspended)", node: name(d))
            }
        } else {
            let p = try requireAnyRunning()
            let candidates = indices(s.nodes[p].view).filter { appRunning($0) && !s.nodes[$0].maintenance && reach(p, $0) }
            guard !candidates.isEmpty else { throw ClusterError(.unavailable, "no node accepts client connections") }
            d = candidates[s.rng.int(0, candidates.count - 1)]
        }
        // A declaration changes the metadata store: on Khepri a majority must run
        // (docs/metadata-store/clustering.md@0acf2a4 L80-91).
        if s.nodes[d].khepri && !khepriMajority(d) { throw khepriMinority(d) }
        if let existing = queueByName[spec.name], !s.queues[existing].deleted {
            if s.queues[existing].type != spec.type || s.queues[existing].durable != spec.durable {
                throw ClusterError(.dataError, "PRECONDITION_FAILED - inequivalent arg 'x-queue-type' or 'durable' for queue '\(spec.name)' in vhost '/'")
            }
            return
        }
        if spec.type != .classic && !spec.durable {
            throw ClusterError(.dataError, "PRECONDITION_FAILED - invalid property 'non-durable' for queue '\(spec.name)': \(spec.type.rawValue) queues must be durable")
        }
        var members: [Int]
        let cluster = indices(s.nodes[d].view)
        switch spec.type {
        case .classic:
            members = [d]
        case .stream:
            members = cluster
        case .quorum:
            let size = spec.initialGroupSize ?? 3
            if size < 1 { throw ClusterError(.dataError, "PRECONDITION_FAILED - invalid x-quorum-initial-group-size \(size)") }
            let others = cluster.filter { $0 != d }.sorted { a, b in
                let ra = appRunning(a) ? 0 : 1, rb = appRunning(b) ? 0 : 1
                if ra != rb { return ra < rb }
                let ca = replicaIndex[a].count, cb = replicaIndex[b].count
                return ca != cb ? ca < cb : a < b
            }
            members = [d] + others.prefix(min(size, cluster.count) - 1)
        }
        var queue = SimQueue(name: spec.name, type: spec.type, durable: spec.durable, groupSize: spec.initialGroupSize,
                             locator: spec.leaderLocator, members: members,
                             epochs: members.map { s.nodes[$0].epoch }, leader: nil)
        if spec.type != .classic {
            let need = members.count / 2 + 1
            var leader: Int?
            if spec.leaderLocator == .clientLocal, let k = members.firstIndex(of: d), replicaOnline(queue, k) {
                leader = d
            } else {
                for k in members.indices where replicaOnline(queue, k) {
                    let m = members[k]
                    if let l = leader, leaderCount[l] <= leaderCount[m] { continue }
                    leader = m
                }
            }
            guard let l = leader, supporters(queue, l) >= need else {
                throw ClusterError.timeout(name(d), "declaring \(spec.type.rawValue) queue '\(spec.name)': no quorum of its \(members.count) replicas is online")
            }
            queue.leader = l
            leaderCount[l] += 1
        }
        let q = s.queues.count
        s.queues.append(queue)
        queueByName[spec.name] = q
        if spec.type == .classic {
            classicIndex[d].append(q)
        } else {
            for m in members { replicaIndex[m].append(q) }
        }
    }

    @discardableResult public func publish(queue: String, count: Int, mandatory: Bool = false) throws -> Int {
        let q = try queueIndex(queue)
        let queueState = s.queues[q]
        let n = min(max(0, count), 1_000_000_000)
        if queueState.type == .classic && !available(queueState) {
            // Unroutable: with mandatory each message comes back; without, the broker confirms it
            // and drops it, a loss the client never sees (rabbitmq.md §3, observed on 3.10.8).
            if mandatory {
                log(nil, "published \(n) to \(queue): returned (unroutable, its node is down)")
                return 0
            }
            s.queues[q].published += n
            s.queues[q].confirmed += n
            s.queues[q].lost += n
            log(nil, "published \(n) to \(queue): confirmed and dropped (unroutable, its node is down)")
            return n
        }
        guard available(queueState) else {
            throw ClusterError(.unavailable, "queue '\(queue)' is unavailable: \(unavailableReason(queueState))")
        }
        let members = indices(s.nodes[primary()].view)
        if let alarmed = members.first(where: { s.nodes[$0].vm && !s.nodes[$0].alarms.isEmpty }) {
            throw ClusterError.timeout(nil, "publishing to '\(queue)': connection blocked by a \(s.nodes[alarmed].alarms.joined(separator: "+")) alarm on \(name(alarmed))")
        }
        advance(to: s.nowMs + Int64(min(n, 5000)))
        s.queues[q].messages += n
        s.queues[q].published += n
        s.queues[q].confirmed += n
        log(nil, "published \(n) to \(queue)")
        return n
    }

    @discardableResult public func consume(queue: String, max: Int) throws -> Int {
        let q = try queueIndex(queue)
        let queueState = s.queues[q]
        guard available(queueState) else {
            throw ClusterError(.unavailable, "queue '\(queue)' is unavailable: \(unavailableReason(queueState))")
        }
        let n = Swift.max(0, Swift.min(max, queueState.messages))
        advance(to: s.nowMs + Int64(Swift.min(n, 5000)))
        if queueState.type != .stream {
            s.queues[q].messages -= n
            s.queues[q].consumed += n
        }
        log(nil, "consumed \(n) from \(queue)")
        return n
    }

    func unavailableReason(_ q: SimQueue) -> String {
        if q.type == .classic {
            return "its home node \(q.members.first.map(name) ?? "?") is down"
        }
        let online = q.members.indices.filter { replicaOnline(q, $0) }.count
        return "no quorum (\(online) of \(q.members.count) members online)"
    }

    // MARK: Faults

    public func inject(_ fault: Fault) throws {
        switch fault {
        case .kill(let n): try kill(n)
        case .failNextBoot(let n): try failNextBoot(n)
        case .slowBoot(let n, let seconds): try slowBoot(n, seconds: seconds)
        case .partition(let a, let b): try partition(a, b)
        case .heal: try heal()
        case .loseDisk(let n): try loseDisk(n)
        case .alarm(let n, let kind, let raised): try setAlarm(n, kind, raised: raised)
        case .changeCookie(let n): try changeCookie(n)
        case .restoreCookie(let n): try restoreCookie(n)
        case .failNextUpgrade(let n): try failNextUpgrade(n)
        case .delay:
            throw Fault.Refusal("the simulator has no network latency to slow down: fault.delay runs on a devcluster with hosts (`warren devcluster up --hosts N`)")
        }
    }

    public func kill(_ node: String) throws {
        let i = try index(node)
        guard s.nodes[i].vm else { return }
        // Mnesia decides who stopped last: a node killed while none of its peers ran still boots
        // first (rabbitmq.md §3).
        let last = appRunning(i) ? stoppingLast(i) : s.nodes[i].lastToStop
        appDown(i)
        s.nodes[i].vm = false
        s.nodes[i].paused = false
        s.nodes[i].lastToStop = last
        log(i, "killed")
        nodeDown()
        afterChange()
    }

    public func failNextBoot(_ node: String) throws {
        let i = try index(node)
        s.nodes[i].failNextBoot = true
        log(i, "fault: next boot fails")
    }

    public func slowBoot(_ node: String, seconds: Double) throws {
        let i = try index(node)
        s.nodes[i].slowBootMs = seconds.isFinite ? Int64(max(0, min(seconds, 1e6)) * 1000) : 0
        log(i, "fault: boots take \(s.nodes[i].slowBootMs / 1000) s longer")
    }

    public func partition(_ sideA: [String], _ sideB: [String]) throws {
        let a = try sideA.map(index), b = try sideB.map(index)
        guard !a.isEmpty, !b.isEmpty, Set(a).isDisjoint(with: b) else {
            throw ClusterError(.usage, "partition: both sides must be non-empty and disjoint")
        }
        for x in a {
            for y in b {
                s.nodes[x].cut |= bit(y)
                s.nodes[y].cut |= bit(x)
                if appRunning(x) && appRunning(y) && has(s.nodes[x].view, y) {
                    s.nodes[x].partitionedFrom |= bit(y)
                    s.nodes[y].partitionedFrom |= bit(x)
                }
            }
        }
        log(nil, "partition [\(a.sorted().map(short).joined(separator: ","))] | [\(b.sorted().map(short).joined(separator: ","))]")
        refreshAll()
        nodeDown()
        afterChange()
    }

    /// Removes every partition. Under autoheal the side with the most client connections wins,
    /// then the one with the most nodes, then the greatest list of node names (rabbit_autoheal's
    /// `make_decision` at v3.10.8); the other sides restart their app, and boot as any node does.
    public func heal() throws {
        if s.partitionHandling == .autoheal {
            var seen: UInt64 = 0
            var sides: [[Int]] = []
            for i in s.nodes.indices where appRunning(i) && !has(seen, i) {
                let side = s.nodes.indices.filter { appRunning($0) && reach(i, $0) && !has(seen, $0) }
                for k in side { seen |= bit(k) }
                sides.append(side)
            }
            func value(_ side: [Int]) -> (Int, Int) { (side.reduce(0) { $0 + s.nodes[$1].connections }, side.count) }
            if sides.count > 1, let winner = sides.indices.max(by: { a, b in
                let va = value(sides[a]), vb = value(sides[b])
                if va != vb { return va < vb }
                return sides[a].map(name).lexicographicallyPrecedes(sides[b].map(name))
            }) {
                for (k, side) in sides.enumerated() where k != winner {
                    for i in side {
                        log(i, "autoheal: restarting")
                        appDown(i)
                        beginBoot(i, viaServer: false)
                    }
                }
            }
        }
        for i in s.nodes.indices { s.nodes[i].cut = 0 }
        log(nil, "partitions healed")
        refreshAll()
        afterChange()
    }

    /// Sets the AMQP client connections on a node (autoheal keeps the side with the most).
    public func setClientConnections(_ node: String, _ count: Int) throws {
        let i = try index(node)
        s.nodes[i].connections = max(0, count)
        log(i, "\(s.nodes[i].connections) client connection(s)")
    }

    public func loseDisk(_ node: String) throws {
        let i = try index(node)
        if s.nodes[i].vm {
            appDown(i)
            s.nodes[i].vm = false
            s.nodes[i].paused = false
        }
        wipe(i)
        log(i, "fault: disk lost, node stopped")
        nodeDown()
        afterChange()
    }

    public func setAlarm(_ node: String, _ alarm: String, raised: Bool) throws {
        let i = try index(node)
        guard alarm == "memory" || alarm == "disk" else {
            throw ClusterError(.usage, "unknown alarm '\(alarm)' (use memory or disk)")
        }
        var alarms = s.nodes[i].alarms.filter { $0 != alarm }
        if raised { alarms.append(alarm) }
        s.nodes[i].alarms = alarms.sorted()
        log(i, "\(alarm) alarm \(raised ? "raised" : "cleared")")
    }

    public func changeCookie(_ node: String) throws {
        let i = try index(node)
        s.nodes[i].cookie = s.nextCookie
        s.nextCookie += 1
        log(i, "fault: erlang cookie changed")
        refreshAll()
        nodeDown()
        afterChange()
    }

    /// Gives the node back the cluster's Erlang cookie.
    public func restoreCookie(_ node: String) throws {
        let i = try index(node)
        s.nodes[i].cookie = 0
        log(i, "erlang cookie restored")
        refreshAll()
        afterChange()
    }

    /// Makes the node's hostname (un)resolvable: an unresolvable node cannot be reached or join.
    public func setHostnameResolvable(_ node: String, _ resolvable: Bool) throws {
        let i = try index(node)
        s.nodes[i].resolvable = resolvable
        log(i, resolvable ? "hostname resolves" : "fault: hostname does not resolve")
        refreshAll()
        afterChange()
    }

    /// Sets the versions a node runs. Nodes of different RabbitMQ minors cluster (since 3.7: what
    /// decides is the feature flags), nodes of different Erlang majors do not (rabbitmq.md §3).
    public func setVersions(_ node: String, rabbitmq: String, erlang: String) throws {
        let i = try index(node)
        s.nodes[i].rabbitmq = rabbitmq
        s.nodes[i].erlang = erlang
        s.nodes[i].versionKey = SimNode.versionKey(erlang: erlang)
        log(i, "versions: RabbitMQ \(rabbitmq), Erlang \(erlang)")
        refreshAll()
        afterChange()
    }

    /// Enables or disables a feature flag on every member of the cluster, as if it had been so
    /// since the cluster was created (tests and drills; preflight requires
    /// `maintenance_mode_status`).
    public func setFeatureFlag(_ flag: String, enabled: Bool) {
        revision += 1
        for i in indices(s.nodes[primary()].view) {
            s.nodes[i].setFlags(s.nodes[i].flags.filter { $0 != flag } + (enabled ? [flag] : []))
        }
    }

    /// Declares a small demo set: three quorum queues, a durable classic queue, a stream, and a
    /// few messages in each.
    public func declareDemoSet() throws {
        let p = try requireAnyRunning()
        let members = indices(s.nodes[p].view).filter(appRunning)
        let home = { (k: Int) in self.name(members[k % members.count]) }
        try declareQueue(QueueSpec(name: "orders", type: .quorum, node: home(0)))
        try declareQueue(QueueSpec(name: "payments", type: .quorum, node: home(1)))
        try declareQueue(QueueSpec(name: "invoices", type: .quorum, node: home(2), leaderLocator: .balanced))
        try declareQueue(QueueSpec(name: "reports", type: .classic, node: home(0)))
        try declareQueue(QueueSpec(name: "audit", type: .stream, node: home(1)))
        for (q, n) in [("orders", 120), ("payments", 40), ("invoices", 15), ("reports", 8), ("audit", 200)] {
            try publish(queue: q, count: n)
        }
        try consume(queue: "orders", max: 20)
    }
}
