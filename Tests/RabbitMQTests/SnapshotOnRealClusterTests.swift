import Cluster
import Foundation
import WarrenTestSupport
@testable import RabbitMQ
@testable import Simulator
import Testing

/// `warren snapshot` of the real devcluster, and a rehearsal on the copy.
extension RealClusterTests {
    /// Everything a snapshot must not change, listed by `rabbitmqctl` directly: queues, exchanges,
    /// bindings, connections, channels, users, virtual hosts, permissions, policies, parameters.
    func everything() -> [String] {
        [["list_queues", "name", "type", "durable", "members", "leader"], ["list_exchanges", "name", "type"],
         ["list_bindings"], ["list_connections", "name"], ["list_channels", "name"], ["list_users"], ["list_vhosts"],
         ["list_permissions"], ["list_policies"], ["list_parameters"], ["list_global_parameters"]].map { args in
            let r = f.ctl(n1, args + ["-q"])
            return "\(args[0]) \(r.code)\n" + r.output.split(separator: "\n").sorted().joined(separator: "\n")
        }
    }

    @Test("warren snapshot copies the real cluster, changing nothing there; a rolling restart rehearsed on the copy completes with the same queues")
    func snapshotAndRehearsal() throws {
        expectConverged()
        // Messages to copy: the management API counts them every 5 s (collect_statistics_interval).
        #expect(f.ctl(n1, ["purge_queue", "qq2"]).code == 0)
        try f.backend.publish(queue: "qq2", count: 7, mandatory: true)
        let counted = f.waitUntil(timeout: 30, every: 0.5) {
            (try? f.backend.queues(type: nil).first { $0.name == "qq2" }?.messages) == 7 ? nil : "qq2 not counted yet"
        }
        #expect(counted == nil)
        let before = everything()

        // In-process first: every command a full snapshot runs is a read.
        let from = f.commands.count
        let started = Date()
        let snap = try ClusterSnapshot.capture(f.backend, depth: .full)
        let seconds = Date().timeIntervalSince(started)
        let commands = f.commands[from...]
        #expect(commands.filter { $0.kind == .http }.allSatisfy { $0.argv.first == "GET" }, "\(commands.map(\.argv))")
        let reads: Set<String> = ["cluster_status", "list_queues", "list_vhosts", "list_feature_flags", "list_policies", "environment",
                                  "status", "check_running", "is_booting", "ping"]
        for c in commands where c.kind == .cli {
            let sub = c.argv.drop { $0 != "-n" }.dropFirst(2).first ?? c.argv.dropFirst().first ?? ""
            #expect(reads.contains(sub), "not a read: \(c.argv)")
        }
        #expect(commands.contains { $0.argv.contains("environment") && $0.output.isEmpty }, "the environment's output is not recorded")
        #expect(snap.partitionHandling == Dictionary(uniqueKeysWithValues: f.members.map { ($0, "ignore") }))
        #expect(snap.featureFlags?.isEmpty == false && snap.policies != nil)
        #expect(snap.queues.first { $0.name == "qq2" }?.messages == 7)
        print("snapshot of the 3-node devcluster, in process: \(String(format: "%.2f", seconds)) s")

        // Through the binary, as an operator takes it.
        let state = TestDirectory.make("warren-snapshot", file: true)
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: state) }
        let file = state + "/copy.json"
        let env = ["WARREN_STATE": state, "WARREN_RUNBOOKS": DevClusterFixture.packageRoot + "/runbooks"]
        let taken = DevClusterFixture.run(DevClusterFixture.warrenBinary, ["snapshot", "--inventory", f.inventoryPath, "-o", file], env: env, timeout: 120)
        #expect(taken.code == 0, "\(taken.output)")
        #expect(taken.output.contains("Snapshot of cluster warren-dev (warren-dev), read-only"), "\(taken.output)")
        #expect(everything() == before, "the snapshot changed the cluster")
        let cookie = try String(contentsOfFile: f.dir + "/.erlang.cookie", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let copyText = try String(contentsOfFile: file, encoding: .utf8)
        #expect(!copyText.contains(cookie) && !copyText.contains("guest"), "no secret in the copy")

        let copy = try SimulatedTarget.load(file)
        #expect(copy.nodeNames == f.inventory.nodes.map(\.name))
        #expect(copy.partitionHandling == .ignore && copy.copiedFrom?.cluster == "warren-dev")
        #expect(try copy.nodes().first { $0.name == f.spareNames[0] }?.state == .stopped)
        func shape(_ qs: [QueueInfo]) -> [String] {
            qs.map { "\($0.vhost) \($0.name) \($0.type) \($0.members.sorted()) \($0.messages)" }.sorted()
        }
        let real = try f.backend.queues(type: nil)
        #expect(shape(try copy.queues(type: nil)) == shape(real))
        #expect(try copy.queues(type: nil).map(\.leader).sorted { ($0 ?? "") < ($1 ?? "") } == real.map(\.leader).sorted { ($0 ?? "") < ($1 ?? "") })

        let rehearsal = DevClusterFixture.run(DevClusterFixture.warrenBinary, ["run", "rolling-restart", "--sim-state", file, "--yes"], env: env, timeout: 120)
        #expect(rehearsal.code == 0, "\(rehearsal.output)")
        #expect(rehearsal.output.contains("restart \(n1)"), "the copy has the real node names")
        let after = try SimulatedTarget.load(file)
        #expect(shape(try after.queues(type: nil)) == shape(real))
        #expect(after.invariants().safe && after.invariants().converged)
        #expect(everything() == before, "the rehearsal changed the real cluster")
        _ = f.ctl(n1, ["purge_queue", "qq2"])
    }
}
