import ArgumentParser
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

    @Flag(help: "Answer yes to every confirmation (not to unsafe ones).")
    var yes = false

    @Option(help: ArgumentHelp("Scripted answers, one per line or STEP-ID: ANSWER.", valueName: "FILE"))
    var answers: String?

    @Flag(help: "Show the steps and the primitives each would call; change nothing.")
    var plan = false

    @Flag(name: .customLong("break-lock"), help: "Take the cluster's lock even if another run holds it.")
    var breakLock = false

    @Flag(help: "Publish and consume canary messages on a quorum queue for the whole run; report losses and the longest gap.")
    var canary = false

    func run() throws {
        // Ctrl-C stops the run where it is, journaled and resumable, rather than killing warren.
        LuaState.installInterruptHandler()
        let terminal = ProcessTerminal()
        let library = RunbookLibrary.standard()
        var options = RunOptions()
        options.assumeYes = yes
        options.mode = plan ? .plan : .run
        do {
            options.params = try parseParams(params)
            if let answers { options.answers = try AnswerScript(path: answers) }
            let source = try library.find(runbook)
            let t = try target.makeTarget()
            var runs = RecordedRuns(paths: StatePaths(), library: library, terminal: terminal)
            runs.breakLock = breakLock
            runs.canary = canary
            let code = runs.run(source, target: t, options: options)
            if code != 0 { throw ExitCode(code) }
        } catch let e as RunbookError {
            terminal.write("warren: \(e.description)\n")
            throw ExitCode(e.exitCode)
        } catch let e as ValidationError {
            throw e
        } catch let e as ExitCode {
            throw e
        } catch {
            terminal.write("warren: \(error)\n")
            throw ExitCode(2)
        }
    }
}

/// `warren resume [SESSION]`.
struct ResumeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Continue the latest (or the given) unfinished session where it stopped.")

    @Argument(help: "A session id or a unique prefix; default: the latest unfinished one.")
    var session: String?

    @Flag(help: "Answer yes to every confirmation (not to unsafe ones).")
    var yes = false

    @Option(help: ArgumentHelp("Scripted answers, one per line or STEP-ID: ANSWER.", valueName: "FILE"))
    var answers: String?

    @Flag(help: "Resume even though the runbook's content changed.")
    var force = false

    @Flag(name: .customLong("break-lock"), help: "Take the cluster's lock even if another run holds it.")
    var breakLock = false

    @Flag(help: "Canary traffic for the rest of the run, as `run --canary`.")
    var canary = false

    func run() throws {
        LuaState.installInterruptHandler()  // as for `run`
        let terminal = ProcessTerminal()
        var options = RunOptions()
        options.assumeYes = yes
        do {
            if let answers { options.answers = try AnswerScript(path: answers) }
        } catch let e as RunbookError {
            terminal.write("warren: \(e.description)\n")
            throw ExitCode(2)
        }
        var runs = RecordedRuns(paths: StatePaths(), library: RunbookLibrary.standard(), terminal: terminal)
        runs.breakLock = breakLock
        runs.canary = canary
        let code = runs.resume(session, options: options, force: force, makeTarget: TargetOptions.makeTarget)
        if code != 0 { throw ExitCode(code) }
    }
}

/// `warren runbooks`: the runbooks found, with their summaries.
struct RunbooksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runbooks", abstract: "List the runbooks found, with their summaries.")

    func run() throws {
        let library = RunbookLibrary.standard()
        print(RunbookCatalog.render(library))
    }
}

/// `warren preflight [target]`: the source document's requirements, checked.
struct PreflightCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "preflight", abstract: "Check the source document's requirements on a cluster.")

    @OptionGroup var target: TargetOptions

    func run() throws {
        let t: Target
        do { t = try target.makeTarget() } catch {
            print("warren: \(error)")
            throw ExitCode(2)
        }
        let checks: [Cluster.PreflightCheck]
        do { checks = try t.backend.preflight() } catch {
            print("warren: preflight could not run: \(error)")
            throw ExitCode(1)
        }
        print(RunbookCatalog.renderPreflight(checks))
        if checks.contains(where: { $0.outcome == .fail }) { throw ExitCode(1) }
    }
}

import Cluster
