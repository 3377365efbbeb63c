import ArgumentParser
import Foundation
import Runbook
import Sessions
import Simulator

/// `warren sweep RUNBOOK --sim N`: a crash, a killed node and a refused confirmation at every
/// step boundary and inside every step; every run must end completed or stopped safely, with no
/// invariant broken.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Crash warren, kill each node and refuse the confirmation at every step; check invariants.",
        discussion: """
            Runs the runbook once per fault point (before each step, and inside each step after its first \
            primitive) and fault: warren crashes and resumes from its journal; each node is killed; the \
            confirmation is refused, then given on resume. Unsafe confirmations (#unsafe) are answered yes \
            automatically. Exit codes: 0 no violation, 1 a violation, 2 usage error.
            """)

    @Argument(help: "A runbook name (see `warren runbooks`) or a .lua file.")
    var runbook: String

    @Option(name: .customLong("sim"), help: "Simulated nodes.")
    var nodes: Int = 3

    @Option(help: "Seed of the simulated cluster.")
    var seed: UInt64 = 1

    @Option(help: "Extra standalone simulated nodes (for add-node and replace-node).")
    var spares: Int = 0

    @Option(name: .customLong("sim-version"), help: ArgumentHelp("The RabbitMQ release the simulated cluster runs (default 3.10.8).", valueName: "V"))
    var simVersion: String?

    @Option(name: .customLong("param"), help: ArgumentHelp("A runbook parameter.", valueName: "NAME=VALUE"))
    var params: [String] = []

    @Option(help: ArgumentHelp("Run this runbook first on the same cluster (full-startup needs full-shutdown).", valueName: "RUNBOOK"))
    var setup: String?

    @Flag(name: .customLong("allow-majority-loss"), help: "The runbook takes the cluster down on purpose: majority loss is no violation.")
    var allowMajorityLoss = false

    func validate() throws {
        if !(1...63).contains(nodes) { throw ValidationError("--sim takes 1 to 63 nodes, got \(nodes)") }
        if spares < 0 || nodes + spares > 63 { throw ValidationError("--spares takes 0 to \(63 - nodes), got \(spares)") }
    }

    func run() throws {
        var config = SweepConfig(runbook: runbook)
        config.nodes = nodes
        config.seed = seed
        config.spares = spares
        if let simVersion { config.version = try Simulator.release(simVersion) }
        config.setup = setup
        if allowMajorityLoss { config.majorityLossAllowed = true }
        config.params = try parseParams(params)
        if config.setup == nil && (runbook == "full-startup" || runbook.hasSuffix("/full-startup.lua")) {
            config.setup = "full-shutdown"
            print("note: full-startup starts a cluster left by full-shutdown: running full-shutdown first (--setup)")
        }
        var sweeper = Sweeper(library: RunbookLibrary.standard(), config: config)
        let tty = isatty(1) == 1
        if tty { sweeper.progress = { Output.error($0) } }
        let report = try sweeper.run()
        if tty { Output.error("\n") }
        print(report.render(), terminator: "")
        if report.violated { throw ExitCode(1) }
    }
}
