import ArgumentParser
import Cluster
import Foundation
import Lua
import Runbook
import Sessions

/// `warren run RUNBOOK [target] [--param k=v]... [--yes] [--answers F] [--plan]`.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a runbook step by step, recorded and resumable.")

    @Argument(help: "A runbook name (see `warren runbooks`) or a .lua file.")
    var runbook: String

    @OptionGroup var target: TargetOptions

    @Option(name: .customLong("param"), help: ArgumentHelp("A runbook parameter.", valueName: "NAME=VALUE"))
    var params: [String] = []

    @Flag(help: "Answer yes to every confirmation (not to unsafe ones, not to choices).")
    var yes = false

    @Option(help: ArgumentHelp("Scripted answers, one per line or STEP-ID: ANSWER.", valueName: "FILE"))
    var answers: String?

    @Flag(help: "Show the steps and the primitives each would call; change nothing.")
    var plan = false

    @Flag(name: .customLong("break-lock"), help: "Take the cluster's lock from a run on another host that is gone.")
    var breakLock = false

    @Flag(help: "Publish and consume canary messages on a quorum queue for the whole run; report losses and the longest gap.")
    var canary = false

    @Option(name: .customLong("start-at-step"), help: ArgumentHelp("Skip the steps before this one (journaled as skipped).", valueName: "STEP-ID"))
    var startAtStep: String?

    @Flag(help: "Ask before each step: yes, skip, continue (run the rest without asking) or stop.")
    var step = false

    func validate() throws {
        if step && yes { throw ValidationError("--step asks before each step and --yes answers for the operator: use one of them") }
    }

    func run() throws {
        // Ctrl-C, SIGTERM and SIGHUP stop the run where it is, journaled and resumable.
        LuaState.installInterruptHandler()
        let terminal = ProcessTerminal()
        var options = RunOptions()
        options.startAtStep = startAtStep
        options.confirmEachStep = step
        options.assumeYes = yes
        options.params = try parseParams(params)
        if let answers { options.answers = try AnswerScript(path: answers) }
        let runner = Targets.runner(terminal: terminal)
        let source = try runner.library.find(runbook)
        let t = try target.makeTarget()
        runner.breakLock = breakLock
        runner.canary = canary
        if plan {
            let result = try runner.plan(source, on: t, options: options)
            if result.exitCode != 0 { throw ExitCode(result.exitCode) }
            return
        }
        let outcome = try runner.run(source, on: t, options: options)
        if outcome.exitCode != 0 { throw ExitCode(outcome.exitCode) }
    }
}

/// `warren resume [SESSION]`.
struct ResumeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Continue the latest (or the given) unfinished session where it stopped.")

    @Argument(help: "A session id or a unique prefix; default: the latest unfinished one.")
    var session: String?

    @Flag(help: "Answer yes to every confirmation (not to unsafe ones, not to choices).")
    var yes = false

    @Option(help: ArgumentHelp("Scripted answers, one per line or STEP-ID: ANSWER.", valueName: "FILE"))
    var answers: String?

    @Flag(help: "Resume even though the runbook (or a module it requires) changed.")
    var force = false

    @Flag(name: .customLong("break-lock"), help: "Take the cluster's lock from a run on another host that is gone.")
    var breakLock = false

    @Flag(help: "Canary traffic for the rest of the run, as `run --canary`.")
    var canary = false

    func run() throws {
        LuaState.installInterruptHandler()  // as for `run`
        let terminal = ProcessTerminal()
        var options = RunOptions()
        options.assumeYes = yes
        if let answers { options.answers = try AnswerScript(path: answers) }
        let runner = Targets.runner(terminal: terminal)
        runner.breakLock = breakLock
        runner.canary = canary
        switch try runner.resume(session, options: options, force: force) {
        case .nothingToDo(let message):
            terminal.write(message + "\n")
        case .resumed(let outcome):
            if outcome.exitCode != 0 { throw ExitCode(outcome.exitCode) }
        }
    }
}

/// `warren runbooks`: the runbooks found, with their summaries.
struct RunbooksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runbooks", abstract: "List the runbooks found, with their summaries.")

    func run() throws {
        Output.write(RunbookCatalog.render(RunbookLibrary.standard()) + "\n")
    }
}

/// `warren preflight [target]`: the source document's requirements, checked.
struct PreflightCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "preflight", abstract: "Check the source document's requirements on a cluster.")

    @OptionGroup var target: TargetOptions

    func run() throws {
        let t = try target.makeTarget()
        let checks: [Cluster.PreflightCheck]
        do { checks = try t.backend.preflight() } catch {
            throw RunbookError.failed("preflight could not run: \(error)")
        }
        Output.write(RunbookCatalog.renderPreflight(checks) + "\n")
        if checks.contains(where: { $0.outcome == .fail }) { throw ExitCode(Exit.failed) }
    }
}
