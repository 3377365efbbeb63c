import ArgumentParser
import Cluster
import Foundation

/// `warren`: the root command. With no subcommand it opens the shell on the embedded simulator.
public struct WarrenCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "warren",
        abstract: "Guided, recorded, resumable procedures for RabbitMQ clusters.",
        discussion: """
            Exit codes: 0 done, 1 procedure failed or refused, 2 usage or input error, 3 interrupted (resumable).
            State lives in $WARREN_STATE (default $XDG_STATE_HOME/warren, else ~/.local/state/warren).
            """,
        version: "warren \(WarrenVersion.current)",
        subcommands: [ShellCommand.self, RunCommand.self, ResumeCommand.self, RunbooksCommand.self, PreflightCommand.self,
                      StatusCommand.self, NodesCommand.self, QueuesCommand.self, SnapshotCommand.self,
                      SessionsCommand.self, ReplayCommand.self, DrillCommand.self, SweepCommand.self, DevclusterCommand.self,
                      UpgradePlanCommand.self],
        defaultSubcommand: ShellCommand.self
    )
    public init() {}

    /// Runs warren. Commands throw; every error becomes a message and an exit code in one place
    /// (`Exit.status(for:)`); argument errors exit 2 (not ArgumentParser's 64).
    public static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let e as ExitCode {
            Foundation.exit(e.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {  // --help
                Output.write(fullMessage(for: error) + "\n")
                Foundation.exit(0)
            }
            if code == .validationFailure {  // ArgumentParser's usage errors
                Output.error(fullMessage(for: error) + "\n")
                Foundation.exit(Exit.usage)
            }
            let (message, status) = Exit.status(for: error)
            Output.error("warren: \(message)\n")
            Foundation.exit(status)
        }
    }
}
