import Simulator
import WarrenCLI

/// `warren-bench view`: the shell's status, nodes and queues views of a 3-node simulated cluster,
/// from the backend calls to the rendered text.
func viewBenchmarks(_ args: [String]) {
    let sim = Simulator(nodes: 3, seed: 1)
    try! sim.declareDemoSet()
    var text = ""
    let t = try! median(runs: 2001) {
        let status = try sim.status(), queues = try sim.queues(type: nil)
        text = ClusterTables.status(status, queues: queues) + ClusterTables.nodes(try sim.nodes(), members: status.members)
            + ClusterTables.queues(queues, shortNames: [:])
    }
    precondition(text.contains("rabbit@n3"))
    report("status + nodes + queues views, 3 nodes (median of 2001)", String(format: "%.3f ms", t * 1000), target: "<= 5 ms")
}
