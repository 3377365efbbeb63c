import ArgumentParser

/// `warren`: the root command. With no subcommand it opens the shell on the embedded simulator.
public struct WarrenCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "warren",
        abstract: "Guided, recorded, resumable procedures for RabbitMQ clusters.",
        subcommands: [ShellCommand.self, DevclusterCommand.self],
        defaultSubcommand: ShellCommand.self
    )
    public init() {}
}
