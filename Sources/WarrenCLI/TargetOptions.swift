import ArgumentParser
import Cluster
import Foundation
import Runbook
import Sessions

/// `--sim N | --inventory FILE`: which cluster a command works on.
struct TargetOptions: ParsableArguments {
    @Option(name: .customLong("sim"), help: "A simulated cluster of N nodes (the default target, 3 nodes).")
    var simNodes: Int?

    @Option(help: "Seed of the simulated cluster (same seed, same behaviour).")
    var seed: UInt64 = 1

    @Option(help: "Extra standalone simulated nodes (for add-node and replace-node).")
    var spares: Int = 0

    @Option(name: .customLong("sim-state"), help: ArgumentHelp("Keep one simulated cluster in FILE across runs.", valueName: "FILE"))
    var simState: String?

    @Option(help: ArgumentHelp("A real cluster described by an inventory file (YAML).", valueName: "FILE"))
    var inventory: String?

    func validate() throws {
        if inventory != nil && (simNodes != nil || simState != nil) {
            throw ValidationError("choose one target: --inventory FILE, or --sim N / --sim-state FILE")
        }
        if let n = simNodes, !(1...63).contains(n) { throw ValidationError("--sim takes 1 to 63 nodes, got \(n)") }
        if spares < 0 || spares > 10 { throw ValidationError("--spares takes 0 to 10, got \(spares)") }
    }

    var spec: TargetSpec {
        if let inventory { return .inventory(absolute(inventory)) }
        return .sim(nodes: simNodes ?? 3, seed: seed, spares: spares, simState: simState.map(absolute))
    }

    func makeTarget() throws -> Target { try TargetOptions.makeTarget(spec) }

    static func makeTarget(_ spec: TargetSpec) throws -> Target {
        switch spec.kind {
        case .sim: return try Target.simulated(spec)
        case .inventory: return try realTarget(spec)
        }
    }
}

func absolute(_ path: String) -> String {
    path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
}

/// Parses `--param k=v` values.
func parseParams(_ list: [String]) throws -> [String: String] {
    var out: [String: String] = [:]
    for item in list {
        guard let eq = item.firstIndex(of: "="), eq != item.startIndex else {
            throw ValidationError("--param takes NAME=VALUE, got '\(item)'")
        }
        out[String(item[..<eq])] = String(item[item.index(after: eq)...])
    }
    return out
}
