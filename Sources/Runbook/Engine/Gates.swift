import Cluster
import Foundation

/// `wait_until` and the gates: `gate.quorum_safe`, `gate.cluster_healthy`, `gate.node_running`.
extension RunbookEngine {
    func waitUntil(what: String, timeout: Double, every: Double, _ condition: () throws -> Bool) throws {
        let start = backend.now()
        while true {
            if try condition() { return }
            if lua?.interruptRequested ?? false { throw latch.stop(.interrupted) }
            // Millisecond resolution: a remainder below 1 ms counts as the deadline (a clock that
            // cannot advance by less would otherwise spin).
            let remaining = timeout - (backend.now() - start)
            if remaining < 0.001 {
                throw RunbookError.failed("timed out after \(RunbookEngine.duration(timeout)) waiting for \(what)")
            }
            backend.sleep(min(max(every, 0.1), max(remaining, 0.001)))
        }
    }

    private func journalGate(_ name: String, node: String?, args: [String: String]? = nil, outcome: String, message: String? = nil) {
        journal.append(.primitiveResult(.init(step: primitiveGuard.step, primitive: name, node: node, args: args,
                                              outcome: outcome, message: message)))
    }

    /// Passes once the node is not quorum-critical; waits up to `timeout` seconds for it (a node
    /// restarted a moment ago has replicas that take a moment to come back online).
    func gateQuorumSafe(_ node: String, timeout: Double) throws {
        if let abort = latch.abort { throw abort }
        primitiveGuard.closeLine()
        var critical: [String] = []
        do {
            try waitUntil(what: "\(node) to stop being quorum-critical", timeout: timeout, every: 0.5) {
                critical = try backend.quorumCritical(node)
                return critical.isEmpty
            }
        } catch let e as RunbookError where e != .interrupted {
            let list = RunbookEngine.list(critical)
            let waited = timeout > 0 ? " after \(RunbookEngine.duration(timeout))" : ""
            let message = "gate quorum_safe: \(node) is quorum-critical for \(critical.count) queue\(critical.count == 1 ? "" : "s") (\(list))\(waited): stopping it would leave them without a majority. \(node) was not touched. Wait until their other replicas are online (check `queues`), then `warren resume`"
            console.write("  · gate quorum_safe \(node): REFUSED\n")
            journalGate("gate.quorum_safe", node: node, outcome: "refused", message: message)
            throw latch.stop(.failed(message))
        }
        console.write("  · gate quorum_safe \(node): ok\n")
        journalGate("gate.quorum_safe", node: node, outcome: "ok")
    }

    /// What keeps the cluster from being healthy now (empty when healthy). The `except` member
    /// may be down (a failed node being replaced): neither its absence nor its alarms count, but
    /// queues still need a leader and a majority without it.
    public static func healthProblems(_ backend: Backend, except: String? = nil) throws -> [String] {
        let s = try backend.status()
        var problems = membershipProblems(s, except: except)
        let unavailable = withoutMajority(try backend.queues(type: nil))
        if !unavailable.isEmpty { problems.append("queues without a leader or majority: \(list(unavailable))") }
        return problems
    }

    /// Members not running, partitions and alarms (the `except` member's absence and alarms aside).
    public static func membershipProblems(_ s: ClusterStatus, except: String? = nil) -> [String] {
        var problems: [String] = []
        let notRunning = s.members.filter { !s.running.contains($0) && $0 != except }
        if !notRunning.isEmpty { problems.append("not running: \(notRunning.joined(separator: ", "))") }
        if !s.partitions.isEmpty { problems.append("partitions: \(s.partitions.keys.sorted().joined(separator: ", "))") }
        for (n, a) in s.alarms.sorted(by: { $0.key < $1.key }) where n != except {
            problems.append("alarm on \(n): \(a.joined(separator: ", "))")
        }
        return problems
    }

    /// Quorum queues and streams without a leader or a majority of online replicas.
    public static func withoutMajority(_ queues: [QueueInfo]) -> [String] {
        queues.filter { $0.type != .classic && (!$0.available || $0.leader == nil) }.map(\.name)
    }

    func gateClusterHealthy(timeout: Double, except: String?) throws {
        if let abort = latch.abort { throw abort }
        primitiveGuard.closeLine()
        let label = "gate cluster_healthy" + (except.map { " (all but \($0))" } ?? "")
        var last: [String] = []
        do {
            try waitUntil(what: "a healthy cluster", timeout: timeout, every: 0.5) {
                last = try RunbookEngine.healthProblems(backend, except: except)
                return last.isEmpty
            }
        } catch let e as RunbookError where e != .interrupted {
            let message = "\(label): the cluster is not healthy after \(RunbookEngine.duration(timeout)): \(last.joined(separator: "; ")). No further node was touched"
            console.write("  · \(label): FAILED\n")
            journalGate("gate.cluster_healthy", node: nil, args: except.map { ["except": $0] }, outcome: "failed", message: message)
            throw latch.stop(.failed(message))
        }
        console.write("  · \(label): ok\n")
        journalGate("gate.cluster_healthy", node: nil, args: except.map { ["except": $0] }, outcome: "ok")
    }

    func gateNodeRunning(_ node: String, timeout: Double) throws {
        if let abort = latch.abort { throw abort }
        primitiveGuard.closeLine()
        do {
            try waitUntil(what: "\(node) to run", timeout: timeout, every: 0.5) {
                try backend.status().running.contains(node)
            }
        } catch let e as RunbookError where e != .interrupted {
            let message = "gate node_running: \(node) is not running after \(RunbookEngine.duration(timeout))"
            console.write("  · gate node_running \(node): FAILED\n")
            journalGate("gate.node_running", node: node, outcome: "failed", message: message)
            throw latch.stop(.failed(message))
        }
        console.write("  · gate node_running \(node): ok\n")
        journalGate("gate.node_running", node: node, outcome: "ok")
    }
}
