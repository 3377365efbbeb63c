import ArgumentParser
import Cluster
import Foundation
import RabbitMQ
import Runbook
import Sessions

/// `warren devcluster up|down|status`: real RabbitMQ nodes on loopback.
struct DevclusterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devcluster",
        abstract: "Real RabbitMQ nodes on loopback.",
        discussion: """
        Default directory: $WARREN_STATE/devcluster, else /tmp/warren-devcluster-<uid>. \
        Node K is rabbitK@localhost on ports base+K (AMQP), base+10000+K (management), \
        base+20000+K (distribution), base 5700 by default.
        """,
        subcommands: [Up.self, Down.self, Status.self]
    )

    struct DirOption: ParsableArguments {
        @Option(name: .long, help: "The devcluster's directory (default: $WARREN_STATE/devcluster, else /tmp/warren-devcluster-<uid>).")
        var dir: String?
        var path: String { dir ?? DevCluster.defaultDirectory() }
    }

    struct Up: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start N clustered nodes and write DIR/inventory.yaml.")
        @Option(name: .long, help: "Cluster members to start (1-9).") var nodes: Int = 3
        @Option(name: .long, help: "Spare nodes written to the inventory (spare: true), not started or clustered.") var spares: Int = 0
        @Option(name: .long, help: "Base port (node K: AMQP base+K, management base+10000+K, distribution base+20000+K).")
        var basePort: Int = DevCluster.defaultBasePort
        @Option(name: .long, help: "Node name prefix: nodes are PREFIX1@localhost, PREFIX2@localhost...") var prefix = "rabbit"
        @Flag(name: .long, help: "Print every command run, with its exit code and duration.") var verbose = false
        @OptionGroup var dir: DirOption

        /// Forms the cluster with warren's own form-cluster runbook (recorded as a session).
        static func formWithRunbook(_ backend: RabbitMQBackend, members: [String], dir: String) throws {
            let runner = Targets.runner(terminal: ProcessTerminal())
            let source = try runner.library.find("form-cluster")
            let target = InventoryTarget(spec: .inventory((dir as NSString).appendingPathComponent("inventory.yaml")), backend: backend)
            var options = RunOptions()
            options.assumeYes = true
            options.params = ["nodes": members.joined(separator: ",")]
            let outcome = try runner.run(source, on: target, options: options)
            guard outcome.exitCode == 0 else {
                throw DevCluster.Failure("the form-cluster runbook did not complete (exit \(outcome.exitCode)); see `warren sessions show \(outcome.session)`")
            }
        }

        func run() throws {
            let start = Date()
            let verbose = self.verbose
            let m = try DevCluster.up(nodes: nodes, spares: spares, dir: dir.path, basePort: basePort, prefix: prefix, log: { print($0) },
                                      onCommand: { r in
                if verbose { print(String(format: "  [%d %.2fs] %@", r.exitCode, r.duration, r.argv.joined(separator: " "))) }
            }, form: { backend, members in try Up.formWithRunbook(backend, members: members, dir: dir.path) })
            print(String(format: "up in %.1f s: %@", Date().timeIntervalSince(start), m.inventoryPath))
        }
    }

    struct Down: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop every node and remove the directory.")
        @OptionGroup var dir: DirOption
        func run() throws {
            try DevCluster.down(dir: dir.path) { print($0) }
            print("removed \(dir.path)")
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the nodes and their state.")
        @OptionGroup var dir: DirOption
        func run() throws {
            for line in try DevCluster.status(dir: dir.path) { print(line) }
        }
    }
}
