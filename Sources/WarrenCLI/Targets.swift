import ArgumentParser
import Cluster
import Foundation
import Lua
import RabbitMQ
import Runbook
import Sessions
import Simulator

/// `--sim N | --sim-state FILE | --inventory FILE`: which cluster a command works on.
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

    @Option(name: .customLong("sim-version"), help: ArgumentHelp("The RabbitMQ release a new simulated cluster runs (default 3.10.8).", valueName: "V"))
    var simVersion: String?

    func validate() throws {
        if inventory != nil && (simNodes != nil || simState != nil) {
            throw ValidationError("choose one target: --inventory FILE, or --sim N / --sim-state FILE")
        }
        if let n = simNodes, !(1...63).contains(n) { throw ValidationError("--sim takes 1 to 63 nodes, got \(n)") }
        if spares < 0 || spares > 10 { throw ValidationError("--spares takes 0 to 10, got \(spares)") }
        if simVersion != nil && inventory != nil { throw ValidationError("--sim-version is for a simulated cluster, not --inventory") }
    }

    var spec: TargetSpec {
        if let inventory { return .inventory(absolute(inventory)) }
        return .sim(nodes: simNodes ?? 3, seed: seed, spares: spares, simState: simState.map(absolute), version: simVersion)
    }

    func makeTarget() throws -> ClusterTarget { try Targets.make(spec) }
}

/// Builds targets from their specs: the one place that knows both kinds.
enum Targets {
    static func make(_ spec: TargetSpec) throws -> ClusterTarget {
        let target: ClusterTarget
        switch spec.kind {
        case .sim: target = try SimulatedTarget.make(spec)
        case .inventory: target = try InventoryTarget.load(spec, interruptRequested: { LuaState.interruptRequested })
        }
        for notice in target.notices { Output.error("warren: \(notice)\n") }
        // Outside a session (preflight, the shell): any unfinished rolling upgrade of this cluster.
        target.backend.upgradeUnderWay = { [weak target] in target.flatMap { SessionStore().unfinishedUpgrade(of: $0.identity(), excluding: nil) } }
        return target
    }

    /// The target of a session that resumes.
    static func restore(_ spec: TargetSpec, sessionDirectory: String) throws -> ClusterTarget {
        switch spec.kind {
        case .sim: return try SimulatedTarget.restore(spec, sessionDirectory: sessionDirectory)
        case .inventory: return try InventoryTarget.load(spec, interruptRequested: { LuaState.interruptRequested })
        }
    }

    /// The session runner of a command.
    static func runner(terminal: Terminal, paths: StatePaths = StatePaths(),
                       library: RunbookLibrary = RunbookLibrary.standard()) -> SessionRunner {
        let runner = SessionRunner(paths: paths, library: library, terminal: terminal, restoreTarget: restore)
        runner.interruptRequested = { LuaState.interruptRequested }
        return runner
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
