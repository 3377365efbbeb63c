import ArgumentParser
import Foundation
import Runbook
import Sessions

/// `warren drill FILE_OR_DIR... [--junit F]`: scripted drills against simulated clusters.
struct DrillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill",
        abstract: "Run scripted drills (drills/*.lua) against simulated clusters, or real ones (drills/real, root); exit 0 only if all pass.",
        discussion: """
            A drill names a simulated cluster, a runbook, scripted answers, faults keyed to steps or \
            primitives, and what must hold at the end (drills/README.md). Each drill runs in its own \
            temporary state directory. Exit codes: 0 all passed, 1 a drill failed, 2 a drill file is invalid.
            """)

    @Argument(help: "Drill files, or directories (every *.lua in them, sorted).")
    var paths: [String]

    @Option(help: ArgumentHelp("Write a JUnit XML report to FILE.", valueName: "FILE"))
    var junit: String?

    @Flag(help: "Show the runs' output of failed drills.")
    var verbose = false

    @Option(help: ArgumentHelp("Run drills on real RabbitMQ (target.devcluster) on the hosts devcluster in DIR: made there if missing, made again when a drill needs another shape or left it changed (a node replaced or lost). Default: a temporary one, removed at the end.",
                               valueName: "DIR"))
    var devcluster: String?

    @Option(help: .hidden) var inDevcluster: String?
    @Option(help: .hidden) var report: String?

    func run() throws {
        let files = try DrillRunner.files(paths)
        if files.isEmpty {
            throw RunbookError.usage("no drill files (*.lua) in \(paths.joined(separator: " "))")
        }
        if let inDevcluster { return try runInBastion(dir: inDevcluster, files: files) }
        let runner = DrillRunner(library: RunbookLibrary.standard())
        var keeper: DrillDevclusterKeeper?
        defer { keeper?.finish() }
        var outcomes: [DrillOutcome] = []
        for file in files {
            var o: DrillOutcome
            if let spec = try? DrillSpec.load(path: file), let shape = spec.devcluster {
                if let why = DrillDevclusterKeeper.unavailable {
                    o = DrillOutcome(name: spec.name, file: file)
                    o.failures = ["this drill runs on real RabbitMQ (target.devcluster), which cannot run here: \(why)"]
                } else {
                    if keeper == nil { keeper = DrillDevclusterKeeper(dir: devcluster, verbose: verbose) }
                    o = keeper!.run(spec, shape: shape)
                }
            } else {
                o = runner.run(file: file)
            }
            outcomes.append(o)
            print(o.line)
            if verbose && !o.passed && !o.log.isEmpty {
                print(o.log.split(separator: "\n").suffix(40).map { "    | " + $0 }.joined(separator: "\n"))
            }
            fflush(stdout)
        }
        let passed = outcomes.filter(\.passed).count
        print("\(passed) passed, \(outcomes.count - passed) failed")
        if let junit {
            do {
                try Data(DrillJUnit.render(outcomes).utf8).write(to: URL(fileURLWithPath: junit))
            } catch {
                throw RunbookError.usage("cannot write the JUnit report \(junit): \(error.localizedDescription)")
            }
        }
        if outcomes.contains(where: { $0.inputError != nil }) { throw ExitCode(2) }
        if passed < outcomes.count { throw ExitCode(1) }
    }

    /// One drill, in a hosts devcluster's bastion, for the `warren drill` that started this one:
    /// its result goes to the report file, with whether the devcluster is back at its baseline.
    private func runInBastion(dir: String, files: [String]) throws {
        guard let report, files.count == 1 else { throw RunbookError.usage("--in-devcluster runs one drill and needs --report FILE") }
        let devcluster = BastionDrillDevcluster(dir: dir)
        let outcome = DrillRunner(library: RunbookLibrary.standard(), devclusters: devcluster).run(file: files[0])
        let result = DrillReport(outcome, baseline: devcluster.backToBaseline())
        try JSONEncoder().encode(result).write(to: URL(fileURLWithPath: report))
    }
}
