import Cluster

/// The mechanics under the public API: clock, events, boots, queue elections.
extension Simulator {
    // MARK: Names, clock, log

    func name(_ i: Int) -> String { names[i] }
    func short(_ i: Int) -> String { shortNames[i] }

    func index(_ node: String) throws -> Int {
        guard let i = nodeIndex[node] else { throw ClusterError.unknownNode(node, known: nodeNames) }
        return i
    }

    /// Node names (`rabbit@n1...`, or a copied cluster's), their short forms (the host, else the
    /// part before `@`, where unambiguous) and the lookup of both.
    func rebuildNames() {
        let count = s.nodes.count
        names = s.nodeNames.count == count ? s.nodeNames : (0..<count).map { "rabbit@n\($0 + 1)" }
        func parts(_ n: String) -> (local: String, host: String) {
            let p = n.split(separator: "@", maxSplits: 1).map(String.init)
            return p.count == 2 ? (p[0], p[1]) : (n, n)
        }
        let hosts = names.map { parts($0).host }, locals = names.map { parts($0).local }
        shortNames = names.indices.map { i in
            if hosts.filter({ $0 == hosts[i] }).count == 1 { return hosts[i] }
            if locals.filter({ $0 == locals[i] }).count == 1 { return locals[i] }
            return names[i]
        }
        nodeIndex = [:]
        for i in names.indices {
            nodeIndex[names[i]] = i
            if nodeIndex[shortNames[i]] == nil { nodeIndex[shortNames[i]] = i }
        }
    }

    func timeString(_ ms: Int64) -> String {
        let frac = ms % 1000
        let pad = frac < 10 ? "00" : (frac < 100 ? "0" : "")
        return "t=\(ms / 1000).\(pad)\(frac)"
    }

    func log(_ i: Int?, _ message: String) {
        revision += 1
        if let i {
            s.log.append("\(timeString(s.nowMs)) \(short(i)) \(message)")
        } else {
            s.log.append("\(timeString(s.nowMs)) \(message)")
        }
    }

    func randomMs(_ lo: Int, _ hi: Int) -> Int64 { Int64(s.rng.int(lo, hi)) }

    func schedule(_ node: Int, after ms: Int64, queue: Int? = nil) {
        s.seq += 1
        let e = SimEvent(at: s.nowMs + ms, seq: s.seq, node: node, gen: s.nodes[node].gen, queue: queue)
        var k = s.events.count
        while k > 0, s.events[k - 1].at > e.at || (s.events[k - 1].at == e.at && s.events[k - 1].seq > e.seq) {
            k -= 1
        }
        s.events.insert(e, at: k)
    }

    /// Advances the clock to `deadline`, handling events on the way; stops early (returning
    /// true) as soon as `until` holds.
    @discardableResult
    func advance(to deadline: Int64, until: (() -> Bool)? = nil) -> Bool {
        while true {
            if let until, until() { return true }
            guard let e = s.events.first, e.at <= deadline else { break }
            s.events.removeFirst()
            s.nowMs = max(s.nowMs, e.at)
            revision += 1
            handle(e)
        }
        if deadline > s.nowMs {
            s.nowMs = deadline
            revision += 1
        }
        if let until { return until() }
        return false
    }

    func spend(_ lo: Int, _ hi: Int) {
        advance(to: s.nowMs + randomMs(lo, hi))
    }

    // MARK: Reachability

    /// Whether nodes i and j can talk over Erlang distribution.
    func reach(_ i: Int, _ j: Int) -> Bool {
        if i == j { return true }
        let a = s.nodes[i], b = s.nodes[j]
        return !has(a.cut, j) && a.resolvable && b.resolvable && a.cookie == b.cookie
            && a.versionKey == b.versionKey
    }

    /// Whether the CLI tools (which hold the original cookie) can reach the node's VM.
    func cliReachable(_ i: Int) -> Bool {
        let n = s.nodes[i]
        return n.vm && n.cookie == 0 && n.resolvable
    }

    func appRunning(_ i: Int) -> Bool { s.nodes[i].vm && s.nodes[i].app == .running }

    /// Throws what the CLI would if the node cannot be contacted.
    func requireVM(_ i: Int) throws {
        let n = s.nodes[i]
        if !n.resolvable {
            throw ClusterError(.unavailable, "unable to perform an operation on node '\(name(i))': could not resolve hostname '\(name(i).split(separator: "@").last ?? "")' (nxdomain); check DNS or /etc/hosts", node: name(i))
        }
        if !n.vm { throw ClusterError.nodeDown(name(i)) }
        if n.cookie != 0 {
            throw ClusterError(.unavailable, "unable to perform an operation on node '\(name(i))': TCP connection succeeded but Erlang distribution failed; suggestion: the Erlang cookie does not match, check that the CLI tools and the node share the same .erlang.cookie", node: name(i))
        }
    }

    func requireApp(_ i: Int) throws {
        try requireVM(i)
        if !appRunning(i) {
            throw ClusterError(.unavailable, "the 'rabbit' app is not running on node \(name(i)); start it with 'rabbitmqctl -n \(name(i)) start_app'", node: name(i))
        }
    }

    /// Running peers of i (in its view, reachable), excluding i.
    func runningPeers(_ i: Int) -> [Int] {
        indices(s.nodes[i].view).filter { $0 != i && appRunning($0) && reach(i, $0) }
    }

    // MARK: Boot

    /// A boot: the app starts, and waits for its peers unless it stopped last (rabbitmq.md §3:
    /// the same wait for a node coming back from a pause or an autoheal restart).
    func beginBoot(_ i: Int, viaServer: Bool) {
        s.nodes[i].gen += 1
        s.nodes[i].app = .booting
        s.nodes[i].paused = false
        s.nodes[i].bootViaServer = viaServer
        s.nodes[i].bootFailure = nil
        s.nodes[i].retriesLeft = 10
        log(i, "app booting")
        schedule(i, after: randomMs(2000, 5000) + s.nodes[i].slowBootMs)
        // On Khepri a booting member counts towards the majority its waiting peers need.
        if s.nodes[i].khepri { wakeWaitingPeers(of: i) }
    }

    /// Peers waiting for their cluster at boot check again soon rather than at their next retry.
    func wakeWaitingPeers(of i: Int) {
        for w in s.nodes.indices where w != i && s.nodes[w].vm && s.nodes[w].app == .booting
            && has(s.nodes[w].view, i) && reach(w, i) {
            s.nodes[w].gen += 1
            schedule(w, after: randomMs(500, 1500))
        }
    }

    func handle(_ e: SimEvent) {
        if let q = e.queue {
            finishCatchUp(q, node: e.node, gen: e.gen)
            return
        }
        let i = e.node
        guard i < s.nodes.count, s.nodes[i].gen == e.gen, s.nodes[i].vm, s.nodes[i].app == .booting else { return }
        bootCheck(i)
        afterChange()
    }

    func bootCheck(_ i: Int) {
        if s.nodes[i].failNextBoot {
            s.nodes[i].failNextBoot = false
            bootFail(i, "boot failed (injected fault)")
            return
        }
        let peers = indices(s.nodes[i].view).filter { $0 != i }
        for j in peers where appRunning(j) && reach(i, j) && !has(s.nodes[j].view, i) {
            bootFail(i, "inconsistent_cluster: Node \(name(i)) thinks it's clustered with node \(name(j)), but \(name(j)) disagrees")
            return
        }
        if let why = bootRefusal(i) {
            bootFail(i, why)
            return
        }
        let node = s.nodes[i]
        if node.khepri {
            khepriBootCheck(i, peers: peers)
            return
        }
        if peers.isEmpty || !runningPeers(i).isEmpty || node.lastToStop || node.forceBoot {
            completeBoot(i)
        } else if node.retriesLeft > 0 {
            s.nodes[i].retriesLeft -= 1
            log(i, "waiting for Mnesia tables for 30000 ms, \(s.nodes[i].retriesLeft) retries left")
            schedule(i, after: 30000)
        } else {
            bootFail(i, "Timeout contacting cluster nodes: [\(peers.map(name).joined(separator: ","))]")
        }
    }

    /// A Khepri node finishes its boot once a majority of its cluster's members run or boot (a
    /// leader can be elected); it waits up to `khepri_leader_wait_retry_timeout`, 300 s by
    /// default, then fails (rabbit_khepri.erl@v4.2.0 L270-309, `timeout_waiting_for_leader`).
    /// Which node stopped last does not matter, and force_boot does not exist here
    /// (docs/metadata-store/clustering.md@0acf2a4 L93-103).
    func khepriBootCheck(_ i: Int, peers: [Int]) {
        let up = 1 + peers.filter { s.nodes[$0].vm && s.nodes[$0].app != .stopped && !s.nodes[$0].paused && reach(i, $0) }.count
        if up * 2 > peers.count + 1 {
            completeBoot(i)
        } else if s.nodes[i].retriesLeft > 0 {
            s.nodes[i].retriesLeft -= 1
            log(i, "waiting for a Khepri leader: \(up) of \(peers.count + 1) members up, a majority is needed")
            schedule(i, after: 30000)
        } else {
            bootFail(i, "timeout_waiting_for_leader: no majority of [\(([i] + peers).sorted().map(name).joined(separator: ","))] came up within 300 s")
        }
    }

    func bootFail(_ i: Int, _ reason: String) {
        s.nodes[i].bootFailure = reason
        s.nodes[i].app = .stopped
        s.nodes[i].gen += 1
        if s.nodes[i].bootViaServer {
            s.nodes[i].vm = false
            log(i, "boot failed: \(reason); vm stopped")
            nodeDown()
        } else {
            log(i, "boot failed: \(reason)")
        }
    }

    func completeBoot(_ i: Int) {
        if let j = runningPeers(i).first {
            s.nodes[i].view = s.nodes[j].view | bit(i)
        }
        s.nodes[i].app = .running
        s.nodes[i].gen += 1
        s.nodes[i].maintenance = false
        s.nodes[i].forceBoot = false
        s.nodes[i].lastToStop = false
        s.nodes[i].paused = false
        s.nodes[i].partitionedFrom = 0
        for k in s.nodes.indices { s.nodes[k].partitionedFrom &= ~bit(i) }
        log(i, "app running")
        startCatchUp(on: i)
        refreshQueues(on: i)
        // Peers waiting for tables get them now rather than at their next retry.
        wakeWaitingPeers(of: i)
    }

    /// The app of node i stops (stop, stop_app, kill, pause, restart): its replicas go offline,
    /// leaders are re-elected, non-durable classic queues homed there are deleted.
    func appDown(_ i: Int) {
        let wasRunning = s.nodes[i].app == .running
        s.nodes[i].app = .stopped
        s.nodes[i].gen += 1
        guard wasRunning else { return }
        for q in replicaIndex[i] { s.catchingUp[catchUpKey(q, i)] = nil }
        refreshQueues(on: i)
        for q in classicIndex[i] where !s.queues[q].deleted && !s.queues[q].durable {
            s.queues[q].deleted = true
            s.queues[q].lost += s.queues[q].messages
            s.queues[q].messages = 0
            log(i, "non-durable queue \(s.queues[q].name) deleted")
        }
    }

    /// Whether the node has no running peer (recorded at a graceful stop).
    func stoppingLast(_ i: Int) -> Bool { runningPeers(i).isEmpty }

    /// The node loses its data: replicas and classic queue contents are gone, it is standalone.
    func wipe(_ i: Int) {
        // A reset node is a new node of its release: its flags are the defaults again (rabbit_db
        // reset calls rabbit_feature_flags:reset/0, rabbit_db.erl@v4.2.0 L198-199).
        if let f = facts(i) { s.nodes[i].setFlags(f.newClusterFlags) }
        s.nodes[i].epoch += 1
        s.nodes[i].view = bit(i)
        s.nodes[i].lastToStop = false
        s.nodes[i].forceBoot = false
        s.nodes[i].maintenance = false
        for q in classicIndex[i] where !s.queues[q].deleted && s.queues[q].messages > 0 {
            s.queues[q].lost += s.queues[q].messages
            s.queues[q].messages = 0
        }
        for q in replicaIndex[i] {
            let queue = s.queues[q]
            var anyData = false
            for k in queue.members.indices where s.nodes[queue.members[k]].epoch == queue.epochs[k] {
                anyData = true
                break
            }
            if !anyData && queue.messages > 0 {
                s.queues[q].lost += queue.messages
                s.queues[q].messages = 0
            }
            refresh(q)
        }
    }

    // MARK: Pause minority, waking

    /// Called after every primitive and event: under pause_minority, a paused node that sees a
    /// majority again resumes (booting as any node does).
    func afterChange() {
        guard s.partitionHandling == .pauseMinority else { return }
        for i in s.nodes.indices where s.nodes[i].vm && s.nodes[i].paused && seesMajority(i) {
            log(i, "resuming after pause")
            beginBoot(i, viaServer: false)
        }
    }

    /// A node went down, or a network cut made nodes unreachable: under pause_minority each
    /// running node that now sees at most half of its cluster pauses. Only such an event makes a
    /// node pause (rabbit_node_monitor reacts to node-down events): a node that boots into a
    /// minority does not pause.
    func nodeDown() {
        guard s.partitionHandling == .pauseMinority else { return }
        for i in s.nodes.indices where s.nodes[i].vm && s.nodes[i].app == .running && !seesMajority(i) {
            let view = s.nodes[i].view
            log(i, "pausing: sees \(alive(i)) of \(view.nonzeroBitCount) nodes (pause_minority)")
            let last = stoppingLast(i)
            appDown(i)
            s.nodes[i].paused = true
            s.nodes[i].lastToStop = last
        }
    }

    func alive(_ i: Int) -> Int {
        indices(s.nodes[i].view).filter { s.nodes[$0].vm && reach(i, $0) }.count
    }

    func seesMajority(_ i: Int) -> Bool {
        let total = s.nodes[i].view.nonzeroBitCount
        return total <= 1 || alive(i) * 2 > total
    }

    // MARK: Catching up

    func catchUpKey(_ q: Int, _ node: Int) -> String { "\(q)/\(node)" }

    /// How long a replica takes to catch up: grows with the queue's messages (the log to copy).
    func catchUpMs(_ q: Int) -> Int64 { 500 + Int64(s.queues[q].messages / 10) }

    /// The node's app is running again: each of its quorum queue replicas restarts (an empty
    /// follower when the node lost its data since the replica was created) and catches up from the
    /// queue's leader; until then it runs but does not count towards a majority (rabbitmq.md §3).
    /// A queue without a leader has no log to catch up from: its members elect one as they come.
    func startCatchUp(on i: Int) {
        for q in replicaIndex[i] {
            let queue = s.queues[q]
            guard queue.type == .quorum, !queue.deleted, let k = queue.members.firstIndex(of: i),
                  let leader = queue.leader, leader != i, reach(i, leader),
                  has(s.nodes[leader].view, i), has(s.nodes[i].view, leader) else { continue }
            if queue.epochs[k] != s.nodes[i].epoch {
                s.queues[q].epochs[k] = s.nodes[i].epoch  // an empty follower
            }
            let ms = catchUpMs(q)
            s.catchingUp[catchUpKey(q, i)] = s.nowMs + ms
            schedule(i, after: ms, queue: q)
        }
    }

    func finishCatchUp(_ q: Int, node i: Int, gen: Int) {
        guard s.nodes[i].gen == gen, let due = s.catchingUp[catchUpKey(q, i)], due <= s.nowMs else { return }
        s.catchingUp[catchUpKey(q, i)] = nil
        log(i, "replica of \(s.queues[q].name) caught up")
        refresh(q)
        afterChange()
    }

    // MARK: Queues

    /// The replica runs (its Ra server is up): what `list_queues online` and the quorum-critical
    /// check count, a replica still catching up included.
    func replicaOnline(_ q: SimQueue, _ k: Int) -> Bool {
        let m = q.members[k]
        let n = s.nodes[m]
        return n.vm && n.app == .running && !n.maintenance && n.epoch == q.epochs[k]
    }

    /// The replica runs and has the log: it counts towards a majority and can lead.
    func replicaCaughtUp(_ q: SimQueue, _ k: Int) -> Bool {
        replicaOnline(q, k) && (s.catchingUp.isEmpty || queueIndexOf(q).map { s.catchingUp[catchUpKey($0, q.members[k])] == nil } ?? true)
    }

    func queueIndexOf(_ q: SimQueue) -> Int? { queueByName[q.key] }

    /// Members whose replica has the log and is reachable from candidate c (c's own count included).
    func supporters(_ q: SimQueue, _ c: Int) -> Int {
        var count = 0
        for k in q.members.indices where replicaCaughtUp(q, k) && reach(c, q.members[k]) { count += 1 }
        return count
    }

    func setLeader(_ q: Int, _ leader: Int?) {
        let old = s.queues[q].leader
        guard old != leader else { return }
        if let old { leaderCount[old] -= 1 }
        if let leader { leaderCount[leader] += 1 }
        s.queues[q].leader = leader
    }

    /// Keeps the leader if it still has a majority, else elects the online member with a
    /// majority and the fewest leaders; tracks majority loss.
    func refresh(_ q: Int, excluding: Int? = nil) {
        let queue = s.queues[q]
        guard queue.type != .classic, !queue.deleted else { return }
        let need = queue.members.count / 2 + 1
        var leader: Int?
        if let l = queue.leader, l != excluding, let k = queue.members.firstIndex(of: l),
           replicaCaughtUp(queue, k), supporters(queue, l) >= need {
            leader = l
        } else {
            var best: Int?
            for k in queue.members.indices where replicaCaughtUp(queue, k) {
                let m = queue.members[k]
                if m == excluding || supporters(queue, m) < need { continue }
                if let b = best, leaderCount[b] <= leaderCount[m] { continue }
                best = m
            }
            leader = best
        }
        setLeader(q, leader)
        if leader == nil {
            if s.queues[q].downSince == nil {
                s.queues[q].downSince = s.nowMs
                s.queues[q].losses += 1
            }
        } else if let since = s.queues[q].downSince {
            s.queues[q].downMs += s.nowMs - since
            s.queues[q].downSince = nil
        }
    }

    func refreshQueues(on i: Int) {
        for q in replicaIndex[i] { refresh(q) }
    }

    func refreshAll() {
        for q in s.queues.indices where s.queues[q].type != .classic { refresh(q) }
    }

    func available(_ q: SimQueue) -> Bool {
        if q.deleted { return false }
        if q.type == .classic { return q.members.first.map(appRunning) ?? false }
        return q.leader != nil
    }

    /// Indices and leader counts are derived from the queues; rebuilt after a restore.
    func rebuildIndices() {
        rebuildNames()
        replicaIndex = Array(repeating: [], count: s.nodes.count)
        classicIndex = Array(repeating: [], count: s.nodes.count)
        leaderCount = Array(repeating: 0, count: s.nodes.count)
        queueByName = [:]
        for (q, queue) in s.queues.enumerated() {
            if !queue.deleted { queueByName[queue.key] = q }
            if queue.type == .classic {
                if let h = queue.members.first { classicIndex[h].append(q) }
            } else {
                for m in queue.members { replicaIndex[m].append(q) }
                if let l = queue.leader { leaderCount[l] += 1 }
            }
        }
    }

    /// The node answering cluster-wide reads: a running node the CLI reaches, in the largest
    /// cluster (so that a removed, standalone node or a spare never speaks for the cluster);
    /// when none runs, the node whose stored membership is largest.
    func primary() -> Int {
        var best = 0
        var bestKey = (-1, -1)
        for i in s.nodes.indices {
            let key = ((appRunning(i) && cliReachable(i)) ? 1 : 0, s.nodes[i].view.nonzeroBitCount)
            if key > bestKey {
                best = i
                bestKey = key
            }
        }
        return best
    }

    func requireAnyRunning() throws -> Int {
        let p = primary()
        guard appRunning(p), cliReachable(p) else {
            throw ClusterError(.unavailable, "no running node answered: every node is stopped or unreachable")
        }
        return p
    }

    func queueIndex(_ name: String) throws -> Int {
        guard let q = queueByName[name], !s.queues[q].deleted else {
            throw ClusterError(.dataError, "NOT_FOUND - no queue '\(name)' in vhost '/'")
        }
        return q
    }
}
