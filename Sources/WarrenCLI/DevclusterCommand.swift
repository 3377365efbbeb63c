import ArgumentParser

struct DevclusterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "devcluster", abstract: "Real RabbitMQ nodes on loopback.")
    func run() throws {}
}
