// warren-bench rabbitmq [--inventory FILE] [--runs N]
//
// On a real cluster (the given inventory, or a 3-node devcluster started for the run and stopped
// afterwards): median wall time of `backend.status()` (management API first) against
// `rabbitmqctl cluster_status`, side by side, plus the backend's CLI-only path and queue listings.
import Foundation
import RabbitMQ

func rabbitmqBenchmarks(_ args: [String]) {
    var inventoryPath: String?
    var runs = 20
    var i = 0
    while i < args.count {
        switch args[i] {
        case "--inventory" where i + 1 < args.count: inventoryPath = args[i + 1]; i += 1
        case "--runs" where i + 1 < args.count: runs = max(1, Int(args[i + 1]) ?? runs); i += 1
        default:
            FileHandle.standardError.write(Data("usage: warren-bench rabbitmq [--inventory FILE] [--runs N]\n".utf8))
            exit(2)
        }
        i += 1
    }
    var startedDir: String?
    if inventoryPath == nil {
        let dir = "/tmp/warren-bench-devcluster-\(getuid())"
        if DevCluster.manifest(dir: dir) != nil { try? DevCluster.down(dir: dir) }
        do {
            print("starting a 3-node devcluster in \(dir) ...")
            let m = try DevCluster.up(nodes: 3, dir: dir, basePort: 5900, prefix: "wbench")
            inventoryPath = m.inventoryPath
            startedDir = dir
        } catch {
            FileHandle.standardError.write(Data("warren-bench rabbitmq: \(error)\n".utf8))
            exit(1)
        }
    }
    defer { if let d = startedDir { try? DevCluster.down(dir: d) } }

    do {
        let backend = try RabbitMQBackend(inventoryPath: inventoryPath!)
        let inv = backend.inventory
        let first = inv.nodes[0]
        var env = ProcessInfo.processInfo.environment
        for (k, v) in inv.cliEnv { env[k] = v }
        for (k, v) in first.env { env[k] = v }

        func rabbitmqctl(_ args: [String]) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: inv.cliPath + "/rabbitmqctl")
            p.arguments = ["-n", first.name] + args
            p.environment = env
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try? p.run()
            p.waitUntilExit()
        }

        func median(_ what: String, _ body: () throws -> Void) rethrows -> Double {
            try body() // warm-up
            var times: [Double] = []
            for _ in 0..<runs {
                let t = backend.now()
                try body()
                times.append(backend.now() - t)
            }
            times.sort()
            let m = times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
            let label = what.padding(toLength: 44, withPad: " ", startingAt: 0)
            print(label + String(format: " median %8.1f ms   (min %.1f, max %.1f)", m * 1000, times.first! * 1000, times.last! * 1000))
            return m
        }

        print("cluster \(inv.cluster), \(inv.nodes.count) nodes, \(runs) runs each")
        let api = try median("backend.status() (management API)") { _ = try backend.status() }
        let ctl = median("rabbitmqctl cluster_status") { rabbitmqctl(["cluster_status"]) }
        _ = median("rabbitmqctl cluster_status --formatter json") { rabbitmqctl(["cluster_status", "--formatter", "json"]) }
        _ = try median("backend.statusViaCLI() (CLI fallback)") { _ = try backend.statusViaCLI() }
        _ = try median("backend.queues() (management API)") { _ = try backend.queues(type: nil) }
        _ = try median("backend.queuesViaCLI() (CLI fallback)") { _ = try backend.queuesViaCLI() }
        print(String(format: "backend.status() is %.0fx faster than rabbitmqctl cluster_status", ctl / api))
    } catch {
        FileHandle.standardError.write(Data("warren-bench rabbitmq: \(error)\n".utf8))
        if let d = startedDir { try? DevCluster.down(dir: d) }
        exit(1)
    }
}
