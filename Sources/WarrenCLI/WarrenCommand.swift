import ArgumentParser

/// `warren`: the root command. With no subcommand it opens the shell on the embedded simulator.
public struct WarrenCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "warren",
        abstract: "Guided, recorded, resumable procedures for RabbitMQ clusters.",
        discussion: """
            Exit codes: 0 done, 1 procedure failed or refused, 2 usage or input error, 3 interrupted (resumable).
            State lives in $WARREN_STATE (default $XDG_STATE_HOME/warren, else ~/.local/state/warren).
            """,
        subcommands: [ShellCommand.self, RunCommand.self, ResumeCommand.self, RunbooksCommand.self, PreflightCommand.self,
                      SessionsCommand.self, ReplayCommand.self, DrillCommand.self, SweepCommand.self, DevclusterCommand.self],
        defaultSubcommand: ShellCommand.self
    )
    public init() {}

    /// Runs warren: usage errors exit 2 (not ArgumentParser's 64), as the exit-code table says.
    public static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}

import Foundation
