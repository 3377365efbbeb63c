import Cluster
import Foundation

/// Reading a node's configuration: its `cluster_partition_handling`.
extension RabbitMQBackend {
    /// `rabbitmq-diagnostics environment --formatter json` on every running member: 3.10.8's
    /// management API does not report the setting (neither `/api/overview` nor `/api/nodes/NODE`;
    /// checked on the 3.10.8 devcluster). The output holds the node's whole configuration,
    /// passwords included: only this one value is read from it, and neither the command's record
    /// nor an error shows the output.
    public func partitionHandlingByNode() throws -> [String: String] {
        let running = try status().running
        // One CLI call per member, side by side (each starts a VM of its own: 0.6-2 s); their
        // records are collected, then handed on from this thread.
        let hook = onCommand
        let lock = NSLock()
        var records: [CommandRecord] = []
        var results: [String: ProcessResult] = [:]
        onCommand = hook == nil ? nil : { r in lock.withLock { records.append(r) } }
        DispatchQueue.concurrentPerform(iterations: running.count) { i in
            let r = cli("rabbitmq-diagnostics", node: running[i], ["environment"], json: true, timeout: min(cliTimeout, 30),
                        recordOutput: false)
            lock.withLock { results[running[i]] = r }
        }
        onCommand = hook
        for r in records { hook?(r) }
        var out: [String: String] = [:]
        var failures: [String] = []
        for n in running {
            guard let r = results[n], r.exitCode == 0 else {
                if results[n]?.interrupted == true { throw Self.interrupted("reading the partition handling", node: n) }
                failures.append("\(n): `rabbitmq-diagnostics environment` exited \(results[n]?.exitCode ?? -1)")
                continue
            }
            guard let value = Self.partitionHandling(environment: r.stdout) else {
                failures.append("\(n): its environment has no readable cluster_partition_handling")
                continue
            }
            out[n] = value
        }
        if out.isEmpty {
            throw ClusterError(.unavailable, "cannot read the partition handling of \(inventory.cluster): "
                + (failures.isEmpty ? "no member runs" : failures.joined(separator: "; ")))
        }
        return out
    }

    /// `rabbit.cluster_partition_handling` of an environment: `"ignore"`, `"pause_minority"`,
    /// `"autoheal"`, or for `pause_if_all_down` the tuple `["pause_if_all_down", [nodes], recover]`
    /// (the JSON formatter writes tuples as arrays; all four seen on 3.10.8), read as its first
    /// element.
    static func partitionHandling(environment text: String) -> String? {
        struct Environment: Decodable {
            struct Rabbit: Decodable { var cluster_partition_handling: Setting? }
            var rabbit: Rabbit?
        }
        enum Setting: Decodable {
            case mode(String)
            init(from decoder: Decoder) throws {
                let c = try decoder.singleValueContainer()
                if let s = try? c.decode(String.self) {
                    self = .mode(s)
                    return
                }
                var list = try decoder.unkeyedContainer()
                self = .mode(try list.decode(String.self))
            }
        }
        let start = text.firstIndex(of: "{") ?? text.startIndex
        guard let env = try? JSONDecoder().decode(Environment.self, from: Data(text[start...].utf8)),
              case .mode(let m)? = env.rabbit?.cluster_partition_handling else { return nil }
        return m
    }
}
