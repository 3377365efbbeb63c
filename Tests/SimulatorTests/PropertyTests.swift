import Cluster
import Testing
@testable import Simulator

/// One random step; its choice depends only on the test's generator, never on the state.
func randomStep(_ sim: Simulator, _ rng: inout SplitMix64) throws {
    let n = sim.nodeNames.count
    func node() -> String { "n\(rng.int(1, n))" }
    let queues = ["q1", "q2", "q3", "c1", "c2", "s1", "q4"]
    func queue() -> String { queues[rng.int(0, queues.count - 1)] }
    switch rng.int(0, 27) {
    case 0, 1: try sim.stop(node())
    case 2, 3: try sim.start(node())
    case 4: try sim.kill(node())
    case 5: try sim.startApp(node())
    case 6: try sim.stopApp(node())
    case 7, 8: try sim.awaitRunning(node(), timeout: Double(rng.int(0, 400)))
    case 9: try sim.reset(node())
    case 10: try sim.forceReset(node())
    case 11:
        let (a, b, first) = (node(), node(), rng.int(0, 2))
        if first > 0 { try sim.stopApp(a) }
        if first > 1 { try sim.reset(a) }
        try sim.join(a, seed: b)
    case 12:
        let (a, b, offline, first) = (node(), node(), rng.int(0, 1) == 1, rng.int(0, 1) == 1)
        if first { offline ? try sim.stop(b) : try sim.stopApp(a) }
        try sim.forget(a, from: b, offline: offline)
    case 13: try sim.forceBoot(node())
    case 14: try sim.drain(node())
    case 15: try sim.revive(node())
    case 16: try sim.grow(node(), strategy: rng.int(0, 1) == 0 ? .all : .even)
    case 17: try sim.shrink(node())
    case 18: try sim.rebalance(["quorum", "stream", "all"][rng.int(0, 2)])
    case 19: try sim.declareQueue(QueueSpec(name: "q4", type: .quorum, node: node(), initialGroupSize: rng.int(1, 5),
                                            leaderLocator: rng.int(0, 1) == 0 ? .clientLocal : .balanced))
    case 20: try sim.publish(queue: queue(), count: rng.int(1, 20))
    case 21: try sim.consume(queue: queue(), max: rng.int(1, 20))
    case 22:
        let cut = rng.int(1, n - 1)
        try sim.partition((1...cut).map { "n\($0)" }, ((cut + 1)...n).map { "n\($0)" })
    case 23: try sim.heal()
    case 24: try sim.loseDisk(node())
    case 25: try sim.setAlarm(node(), rng.int(0, 1) == 0 ? "memory" : "disk", raised: rng.int(0, 2) == 0)
    case 26:
        switch rng.int(0, 8) {
        case 5: try sim.awaitRunning("n99", timeout: .nan)
        case 6: try sim.publish(queue: queue(), count: -5)
        case 7: try sim.awaitRunning(node(), timeout: -.infinity)
        case 8: try sim.partition([node()], [node()])
        case 0: try sim.changeCookie(node())
        case 1: try sim.restoreCookie(node())
        case 2: try sim.failNextBoot(node())
        case 3: try sim.slowBoot(node(), seconds: Double(rng.int(0, 60)))
        default: _ = try sim.quorumCritical(node())
        }
    default: sim.sleep(Double(rng.int(0, 120)))
    }
}

/// The model's own consistency plus what the public view must satisfy.
func checkConsistency(_ sim: Simulator, _ context: String) throws -> Bool {
    var problems = sim.consistencyViolations()
    let status = try sim.status()
    let partitioned = sim.hasPartitions
    for q in try sim.queues(type: nil) where q.type != .classic {
        if q.available {
            if q.online.count * 2 <= q.members.count { problems.append("\(q.name) available without a majority") }
            if let l = q.leader, !q.online.contains(l) { problems.append("\(q.name) leader \(l) not online") }
            if let l = q.leader, let state = status.nodes.first(where: { $0.name == l })?.state,
               state != .running && state != .unreachable {
                problems.append("\(q.name) leader \(l) on a node that is not running")
            }
        } else if !partitioned && (q.online.count - q.catchingUp.count) * 2 > q.members.count
                    && !status.nodes.contains(where: { $0.state == .unreachable }) {
            problems.append("\(q.name) unavailable with a majority online and caught up")
        }
        if !q.members.allSatisfy(sim.nodeNames.contains) { problems.append("\(q.name) has members outside the simulator") }
    }
    if !problems.isEmpty { Issue.record("\(context): \(problems)") }
    return problems.isEmpty
}

func makeSim(_ k: Int) throws -> Simulator {
    let modes = PartitionHandling.allCases
    let sim = Simulator(nodes: 3 + k % 3, seed: UInt64(k), partitionHandling: modes[k % modes.count], spares: k % 2)
    try sim.declareQueue(QueueSpec(name: "q1", type: .quorum, node: "n1"))
    try sim.declareQueue(QueueSpec(name: "q2", type: .quorum, node: "n2", leaderLocator: .balanced))
    try sim.declareQueue(QueueSpec(name: "q3", type: .quorum, node: "n3", initialGroupSize: 5))
    try sim.declareQueue(QueueSpec(name: "c1", type: .classic, node: "n1"))
    try sim.declareQueue(QueueSpec(name: "c2", type: .classic, durable: false, node: "n2"))
    try sim.declareQueue(QueueSpec(name: "s1", type: .stream, node: "n3"))
    return sim
}

/// Runs sequence k; returns the final log. With `snapshotAt`, continues on a restored copy.
func runSequence(_ k: Int, steps: Int, snapshotAt: Int? = nil, check: Bool) throws -> [String]? {
    var sim = try makeSim(k)
    var rng = SplitMix64(seed: UInt64(k) &* 0x9E37 &+ 17)
    for step in 0..<steps {
        if step == snapshotAt { sim = try Simulator.restore(try sim.snapshot()) }
        do {
            try randomStep(sim, &rng)
        } catch is ClusterError {
            // Refusals are part of the contract; the state must stay consistent.
        }
        if check, !(try checkConsistency(sim, "sequence \(k) step \(step)")) { return nil }
    }
    return sim.eventLog
}

@Test("1,000 random sequences of operations and faults keep the state consistent and are deterministic")
func randomSequences() throws {
    for k in 0..<1000 {
        guard let first = try runSequence(k, steps: 30, check: true) else { continue }
        let second = try runSequence(k, steps: 30, check: false)
        #expect(first == second, "sequence \(k) is not deterministic")
        if k % 10 == 0 {
            let restored = try runSequence(k, steps: 30, snapshotAt: 15, check: true)
            #expect(restored == first, "sequence \(k) diverged after snapshot/restore")
        }
    }
}

@Test("A snapshot restores a simulator that continues identically")
func snapshotRoundTrip() throws {
    let sim = Simulator(nodes: 5, seed: 42, partitionHandling: .pauseMinority)
    try sim.declareDemoSet()
    try sim.stop("n1")
    try sim.stop("n2")
    try sim.start("n1")   // booting, with a boot event pending
    let bytes = try sim.snapshot()
    let copy = try Simulator.restore(bytes)
    #expect(try copy.snapshot() == bytes)
    for s in [sim, copy] {
        try s.awaitRunning("n1", timeout: 300)
        try s.start("n2")
        try s.awaitRunning("n2", timeout: 300)
        try s.publish(queue: "orders", count: 3)
        try s.partition(["n1", "n2"], ["n3", "n4", "n5"])
    }
    #expect(copy.eventLog == sim.eventLog)
    #expect(try copy.snapshot() == sim.snapshot())
    #expect(try copy.status() == sim.status())
    #expect(failure { _ = try Simulator.restore(Array("{}".utf8)) }?.code == .dataError)
}

@Test("The same seed and calls give the same event log; another seed gives other timings")
func determinism() throws {
    func run(_ seed: UInt64) throws -> [String] {
        let sim = Simulator(nodes: 3, seed: seed)
        try sim.declareDemoSet()
        for n in sim.nodeNames {
            try sim.drain(n)
            try sim.stop(n)
            try sim.start(n)
            try sim.awaitRunning(n, timeout: 300)
        }
        return sim.eventLog
    }
    #expect(try run(7) == run(7))
    #expect(try run(7) != run(8))
    #expect(try run(7).allSatisfy { $0.hasPrefix("t=") })
}
