import ArgumentParser
import Foundation
import Lua
import Runbook

/// `warren shell [--sim N | --inventory F]` (and `warren` alone): the interactive shell.
struct ShellCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shell",
        abstract: "Open the warren shell (default: a simulated 3-node cluster).")

    @OptionGroup var target: TargetOptions

    func run() throws {
        // Ctrl-C stops what runs (a chunk, a step, a command on the broker), not the shell;
        // SIGTERM and SIGHUP stop it and end the shell.
        LuaState.installInterruptHandler()
        let t = try target.makeTarget()
        let shell = try Shell(target: t, paths: StatePaths(), library: RunbookLibrary.standard())
        let code = shell.loop()
        if code != 0 { throw ExitCode(code) }
    }
}
