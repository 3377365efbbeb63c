import Cluster
import Foundation

/// `wait_until` and the gates: `gate.quorum_safe`, `gate.cluster_healthy`, `gate.node_running`.
extension RunbookEngine {
    /// Polls `condition` every `every` seconds until it holds, for at most `timeout` seconds,
    /// shown as a wait (``Waits``) whose state is what the condition last reported.
    func waitUntil(what: String, timeout: Double, every: Double, _ condition: () throws -> (done: Bool, state: String)) throws {
        let start = backend.now()
        let id = waits?.begin(what, limit: timeout)
        var ok = false
        defer { if let id { waits?.end(id, ok: ok) } }
        while true {
            let (done, state) = try condition()
            if done {
                ok = true
                return
            }
            waits?.observe(state)
            if lua?.interruptRequested ?? false { throw latch.stop(.interrupted) }
            // Millisecond resolution: a remainder below 1 ms counts as the deadline (a clock that
            // cannot advance by less would otherwise spin).
            let remaining = timeout - (backend.now() - start)
            if remaining < 0.001 {
                throw RunbookError.failed("timed out after \(RunbookEngine.duration(timeout)) waiting for \(what)" + (state.isEmpty ? "" : " (last seen: \(state))"))
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
            try waitUntil(what: "gate quorum_safe \(node)", timeout: timeout, every: 0.5) {
                critical = try backend.quorumCritical(node)
                return (critical.isEmpty, "critical for \(critical.count) queue\(critical.count == 1 ? "" : "s"): \(RunbookEngine.list(critical))")
            }
        } catch let e as RunbookError where e != .interrupted {
            let waited = timeout > 0 ? " after \(RunbookEngine.duration(timeout))" : ""
            let blockers = RunbookEngine.replicaDetails(critical, backend: backend)
            let message = "gate quorum_safe: \(node) is quorum-critical for \(critical.count) queue\(critical.count == 1 ? "" : "s")\(waited): stopping it would leave \(critical.count == 1 ? "it" : "them") without a majority:\n\(blockers)\n\(node) was not touched. Bring the members listed as down back (`warren status`, `queues`), then `warren resume`"
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

    /// Members not running (with their state), partitions, alarms and drained members (the
    /// `except` member's absence, alarms and maintenance aside), each with what to do.
    public static func membershipProblems(_ s: ClusterStatus, except: String? = nil) -> [String] {
        var problems: [String] = []
        let notRunning = s.members.filter { !s.running.contains($0) && $0 != except }
        if !notRunning.isEmpty {
            let states = notRunning.map { n in "\(n) (\(s.nodes.first { $0.name == n }?.state.rawValue.replacingOccurrences(of: "_", with: " ") ?? "not running"))" }
            problems.append("not running: \(states.joined(separator: ", ")); start \(notRunning.count == 1 ? "it" : "them") or wait for the boot")
        }
        if !s.partitions.isEmpty {
            let sides = s.partitions.sorted { $0.key < $1.key }.map { "\($0.key) cannot see \($0.value.joined(separator: ", "))" }
            problems.append("partitioned: \(sides.joined(separator: "; ")); heal the network, then restart the minority side's nodes")
        }
        for (n, a) in s.alarms.sorted(by: { $0.key < $1.key }) where n != except {
            problems.append("\(a.joined(separator: " and ")) alarm on \(n): publishers are blocked; free \(a.contains("disk") ? "disk space" : "memory") there")
        }
        for n in s.maintenance.sorted() where n != except {
            problems.append("\(n) is drained (under maintenance): it serves no clients; revive it (`\(n.split(separator: "@").last ?? "node"):revive()`) or restart it")
        }
        return problems
    }

    /// One line per queue: its online members against its members, and the members down.
    public static func replicaDetails(_ names: [String], backend: Backend, max: Int = 10) -> String {
        guard !names.isEmpty else { return "" }
        let byName = Dictionary(((try? backend.queues(type: nil)) ?? []).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var lines = names.prefix(max).map { name -> String in
            guard let q = byName[name] else { return "  - \(name)" }
            let down = q.members.filter { !q.online.contains($0) }
            return "  - \(name): \(q.online.count) of \(q.members.count) members online" + (down.isEmpty ? "" : "; down: \(down.joined(separator: ", "))")
        }
        if names.count > max { lines.append("  - and \(names.count - max) more (`queues quorum` lists them)") }
        return lines.joined(separator: "\n")
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
            try waitUntil(what: label, timeout: timeout, every: 0.5) {
                last = try RunbookEngine.healthProblems(backend, except: except)
                return (last.isEmpty, last.joined(separator: "; "))
            }
        } catch let e as RunbookError where e != .interrupted {
            let message = "\(label): the cluster is not healthy after \(RunbookEngine.duration(timeout)):\n" + last.map { "  - " + $0 }.joined(separator: "\n")
                + "\nNo further node was touched. Fix the above, then `warren resume`"
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
        var last = ""
        do {
            try waitUntil(what: "gate node_running \(node)", timeout: timeout, every: 0.5) {
                let s = try backend.status()
                let state = s.nodes.first { $0.name == node }?.state ?? .stopped
                let drained = s.maintenance.contains(node)
                last = drained ? "running but drained (under maintenance): it serves no clients" : state.rawValue.replacingOccurrences(of: "_", with: " ")
                return (s.running.contains(node) && !drained, last)
            }
        } catch let e as RunbookError where e != .interrupted {
            let message = "gate node_running: \(node) is not serving after \(RunbookEngine.duration(timeout)): \(last)"
                + (last.contains("drained") ? ". Revive it (`node:revive()`), then `warren resume`" : ". Start it, or look at its log, then `warren resume`")
            console.write("  · gate node_running \(node): FAILED\n")
            journalGate("gate.node_running", node: node, outcome: "failed", message: message)
            throw latch.stop(.failed(message))
        }
        console.write("  · gate node_running \(node): ok\n")
        journalGate("gate.node_running", node: node, outcome: "ok")
    }
}
