import ArgumentParser

struct ShellCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "shell", abstract: "Open the warren shell.")
    func run() throws {}
}
