import Cluster
import Foundation
import WarrenTestSupport
@testable import RabbitMQ
import Simulator
import Testing

/// One scenario of the differential suite: a runbook under `Differential/Scenarios/`.
struct DifferentialScenario: CustomTestStringConvertible, Sendable {
    let path: String
    var name: String { ((path as NSString).lastPathComponent as NSString).deletingPathExtension }
    var testDescription: String { name }

    /// The partition handling the scenario runs under (`-- partition_handling: MODE` in its first
    /// lines; `ignore`, the broker's default, otherwise).
    var partitionHandling: PartitionHandling {
        let head = (try? String(contentsOfFile: path, encoding: .utf8))?.split(separator: "\n").prefix(5) ?? []
        for line in head where line.hasPrefix("-- partition_handling: ") {
            return PartitionHandling(rawValue: String(line.dropFirst("-- partition_handling: ".count))) ?? .ignore
        }
        return .ignore
    }

    static let directory: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scenarios").path
    }()

    static var all: [DifferentialScenario] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".lua") }.sorted()
            .map { DifferentialScenario(path: directory + "/" + $0) }
    }
}

/// What one side of a scenario showed: the exit code and the observations (`note("obs.KEY", v)`).
struct DifferentialRun {
    var exitCode: Int32
    var observations: [String: String]
    var output: String
}

extension RealClusterTests {
    /// Runs a scenario with warren in a state directory of its own; node names by position.
    func runScenario(_ scenario: DifferentialScenario, target: [String], names: [String]) throws -> DifferentialRun {
        let state = TestDirectory.make("warren-diff", file: true)
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: state) }
        let answers = state + "/answers.txt"
        try String(repeating: "observe#unsafe: yes\n", count: 20).write(toFile: answers, atomically: true, encoding: .utf8)
        let r = DevClusterFixture.run(DevClusterFixture.warrenBinary,
                                      ["run", scenario.path, "--yes", "--answers", answers] + target,
                                      env: ["WARREN_STATE": state, "WARREN_RUNBOOKS": DevClusterFixture.packageRoot + "/runbooks"],
                                      timeout: 300)
        var observations: [String: String] = [:]
        for session in (try? FileManager.default.contentsOfDirectory(atPath: state + "/sessions")) ?? [] {
            let text = (try? String(contentsOfFile: "\(state)/sessions/\(session)/journal.jsonl", encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n") {
                guard let e = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      e["kind"] as? String == "note", let key = e["key"] as? String, key.hasPrefix("obs.") else { continue }
                var value = e["value"] as? String ?? ""
                for (i, n) in names.enumerated() { value = value.replacingOccurrences(of: n, with: "n\(i + 1)") }
                observations[String(key.dropFirst(4))] = value
            }
        }
        return DifferentialRun(exitCode: r.code, observations: observations, output: r.output)
    }

    /// Deletes the scenario's queues (`d.*`) and brings the cluster back to its starting shape.
    func cleanUpScenario() {
        let rows = f.json(n1, ["list_queues", "name"]) as? [[String: Any]] ?? []
        for name in rows.compactMap({ $0["name"] as? String }) where name.hasPrefix("d.") {
            _ = f.ctl(n1, ["delete_queue", name])
        }
        f.restore()
    }

    /// Sets the partition handling on every running member of the devcluster: the node monitor
    /// reads it at each node-down event (rabbit_node_monitor.erl@v3.10.8, handle_dead_rabbit).
    func setPartitionHandling(_ mode: PartitionHandling) {
        for n in f.members {
            _ = f.ctl(n, ["eval", "application:set_env(rabbit, cluster_partition_handling, \(mode.rawValue))."])
        }
    }

    @Test("the simulator and real RabbitMQ 3.10.8 show the same outcomes, scenario by scenario", arguments: DifferentialScenario.all)
    func differential(_ scenario: DifferentialScenario) throws {
        expectConverged()
        let handling = scenario.partitionHandling
        if handling != .ignore { setPartitionHandling(handling) }
        defer {
            cleanUpScenario()
            if handling != .ignore { setPartitionHandling(.ignore) }
            expectConverged()
        }
        // The simulator: three nodes, no queues; the real side is the suite's devcluster.
        let simState = TestDirectory.make("warren-diff", file: true) + ".sim"
        defer { try? FileManager.default.removeItem(atPath: simState) }
        let sim = Simulator(nodes: 3, seed: 1, partitionHandling: handling)
        try Data(try sim.snapshot()).write(to: URL(fileURLWithPath: simState))
        let simulated = try runScenario(scenario, target: ["--sim-state", simState], names: sim.nodeNames)
        let real = try runScenario(scenario, target: ["--inventory", f.inventoryPath], names: f.inventory.nodes.map(\.name))

        #expect(!simulated.observations.isEmpty, "the scenario observed nothing on the simulator:\n\(simulated.output)")
        var rows: [[String]] = []
        if simulated.exitCode != real.exitCode {
            rows.append(["(exit code)", String(simulated.exitCode), String(real.exitCode)])
        }
        for key in Set(simulated.observations.keys).union(real.observations.keys).sorted() {
            let a = simulated.observations[key] ?? "(none)", b = real.observations[key] ?? "(none)"
            if a != b { rows.append([key, a, b]) }
        }
        guard !rows.isEmpty else { return }
        let widths = (0..<3).map { c in (rows + [["observation", "simulator", "real 3.10.8"]]).map { $0[c].count }.max() ?? 0 }
        func line(_ r: [String]) -> String { r.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: " | ") }
        let table = ([line(["observation", "simulator", "real 3.10.8"])] + rows.map(line)).joined(separator: "\n")
        Issue.record("\(scenario.name): the simulator and the real broker differ\n\(table)\n--- simulator:\n\(simulated.output.suffix(1500))\n--- real:\n\(real.output.suffix(3000))")
    }
}
