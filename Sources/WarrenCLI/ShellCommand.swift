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
        // Ctrl-C stops what runs (a chunk, a step, a command on the broker), not the shell.
        LuaState.installInterruptHandler()
        let t: Sessions.Target
        do {
            t = try target.makeTarget()
        } catch {
            FileHandle.standardError.write(Data("warren: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let shell = Shell(target: t, paths: StatePaths(), library: RunbookLibrary.standard())
        let code = shell.loop()
        if code != 0 { throw ExitCode(code) }
    }
}

import Sessions
