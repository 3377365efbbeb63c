import ArgumentParser
import Foundation
import Runbook
import Sessions

/// `warren drill FILE_OR_DIR... [--junit F]`: scripted drills against simulated clusters.
struct DrillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill",
        abstract: "Run scripted drills (drills/*.lua) against simulated clusters; exit 0 only if all pass.",
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

    func run() throws {
        let files = try DrillRunner.files(paths)
        if files.isEmpty {
            throw RunbookError.usage("no drill files (*.lua) in \(paths.joined(separator: " "))")
        }
        let runner = DrillRunner(library: RunbookLibrary.standard())
        var outcomes: [DrillOutcome] = []
        for file in files {
            let o = runner.run(file: file)
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
}
