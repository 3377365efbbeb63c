// Simulator benchmarks: a rolling restart of a large simulated cluster, and status() latency.
import Cluster
import Foundation
import Simulator

/// Peak resident set size (VmHWM) in MB, from /proc/self/status; nil where unavailable.
func peakRSSMegabytes() -> Double? {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kb = line.split(separator: " ").compactMap { Double($0) }.first
        return kb.map { $0 / 1024 }
    }
    return nil
}

func wallSeconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    guard !s.isEmpty else { return 0 }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// A 7-node cluster with `quorum` quorum queues and `classic` classic queues, spread over the nodes.
func largeCluster(nodes: Int, quorum: Int, classic: Int, seed: UInt64) throws -> Simulator {
    let sim = Simulator(nodes: nodes, seed: seed)
    var specs: [QueueSpec] = []
    specs.reserveCapacity(quorum + classic)
    for k in 0..<quorum {
        specs.append(QueueSpec(name: "qq-\(k)", type: .quorum, node: "n\(k % nodes + 1)"))
    }
    for k in 0..<classic {
        specs.append(QueueSpec(name: "cq-\(k)", type: .classic, node: "n\(k % nodes + 1)"))
    }
    try sim.declareQueues(specs)
    return sim
}

func rollingRestart(_ sim: Simulator) throws {
    for node in sim.nodeNames {
        guard try sim.quorumCritical(node).isEmpty else {
            throw ClusterError(.unavailable, "\(node) is quorum-critical")
        }
        try sim.drain(node)
        try sim.stop(node)
        try sim.start(node)
        try sim.awaitRunning(node, timeout: 300)
    }
}

func simulatorBenchmarks(_ args: [String]) {
    var repetitions = 5
    var statusCalls = 2000
    var k = 0
    while k < args.count {
        if args[k] == "--repetitions", k + 1 < args.count, let n = Int(args[k + 1]) { repetitions = max(1, n); k += 1 }
        if args[k] == "--status-calls", k + 1 < args.count, let n = Int(args[k + 1]) { statusCalls = max(1, n); k += 1 }
        k += 1
    }
    do {
        var setups: [Double] = []
        var restarts: [Double] = []
        for rep in 0..<repetitions {
            var sim: Simulator?
            setups.append(try wallSeconds { sim = try largeCluster(nodes: 7, quorum: 10_000, classic: 1_000, seed: UInt64(rep + 1)) })
            guard let cluster = sim else { continue }
            restarts.append(try wallSeconds { try rollingRestart(cluster) })
            let report = cluster.invariants()
            guard report.safe, report.converged else {
                print("rolling restart left the cluster unsafe or not converged: \(report)")
                exit(1)
            }
            if rep == 0 { print("virtual duration of one rolling restart: \(String(format: "%.1f", cluster.now())) s, \(cluster.eventLog.count) log lines") }
        }
        print(String(format: "rolling restart, 7 nodes, 10,000 quorum + 1,000 classic queues: median %.3f s wall over %d runs (set-up median %.3f s)",
                     median(restarts), restarts.count, median(setups)))
        if let rss = peakRSSMegabytes() { print(String(format: "peak RSS (VmHWM): %.1f MB", rss)) }

        let big = try largeCluster(nodes: 7, quorum: 10_000, classic: 1_000, seed: 99)
        var bytes: [UInt8] = []
        var saves: [Double] = []
        var loads: [Double] = []
        for _ in 0..<3 {
            saves.append(try wallSeconds { bytes = try big.snapshot() })
            loads.append(try wallSeconds { _ = try Simulator.restore(bytes) })
        }
        print(String(format: "snapshot of that cluster: %.1f MB, save median %.1f ms, restore median %.1f ms",
                     Double(bytes.count) / 1e6, median(saves) * 1e3, median(loads) * 1e3))

        let small = Simulator(nodes: 3)
        try small.declareDemoSet()
        var times: [Double] = []
        var members = 0
        for _ in 0..<statusCalls {
            times.append(try wallSeconds { members += try small.status().members.count })
        }
        print(String(format: "status(), 3 nodes with the demo set: median %.1f µs over %d calls (max %.1f µs)",
                     median(times) * 1e6, statusCalls, (times.max() ?? 0) * 1e6))
        if members == 0 { print("unexpected: empty status") }
    } catch {
        print("simulator benchmark failed: \(error)")
        exit(1)
    }
}
