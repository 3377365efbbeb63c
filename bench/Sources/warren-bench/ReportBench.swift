import Foundation
import Runbook
import Sessions
import Simulator

/// `warren-bench report [DIR]`: a 1,000-step session on a simulated 3-node cluster with its canary
/// (each step gates, confirms, drains, stops, starts and awaits one node: about 13,000 journal
/// entries), then its reports written as the end of a run writes them (`report.md` and
/// `report.html` with the timeline, from the journal on disk); the median of 21.
func reportBenchmarks(_ args: [String]) {
    let dir = args.first ?? NSTemporaryDirectory() + "warren-bench-report-\(getpid())"
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/restarts.lua"
    try! """
        runbook { name = "restarts", summary = "1,000 steps, each restarting one node of three" }
        local nodes = cluster.nodes()
        for i = 1, 1000 do
          local node = nodes[(i - 1) % #nodes + 1]
          step{ id = "restart-" .. i, title = "restart " .. node.name, run = function()
            gate.quorum_safe(node, { timeout = 60 })
            confirm("Restart " .. node.name .. "?")
            node:drain(); node:stop(); node:start()
            node:await_running{ timeout = 300 }
            gate.cluster_healthy{ timeout = 300 }
          end }
        end
        """.write(toFile: path, atomically: true, encoding: .utf8)
    let simulator = Simulator(nodes: 3, seed: 1)
    try! simulator.declareDemoSet()
    let target = SimulatedTarget(spec: .sim(nodes: 3, seed: 1), simulator: simulator)
    let runner = SessionRunner(paths: StatePaths(root: dir + "/state"), library: RunbookLibrary(roots: [dir]),
                               terminal: NullTerminal()) { spec, sessionDirectory in
        try SimulatedTarget.restore(spec, sessionDirectory: sessionDirectory)
    }
    runner.canary = true
    var options = RunOptions()
    options.assumeYes = true
    let outcome = try! runner.run(try! RunbookSource(path: path), on: target, options: options)
    precondition(outcome.result.error == nil && outcome.result.stepsDone == 1000, "the 1,000-step session did not complete")
    let session = runner.paths.session(outcome.session)
    let entries = try! JournalReader.read(session + "/journal.jsonl")
    // At the end of a run the runner has the entries (read on resume, written since).
    let atEnd = median(runs: 21) { runner.writeReport(id: outcome.session, target: target, entries: entries) }
    let html = (try? FileManager.default.attributesOfItem(atPath: session + "/report.html")[.size] as? Int) ?? 0
    // `sessions show` of a session whose reports are missing reads the journal back first.
    let fromDisk = median(runs: 5) { runner.writeReport(id: outcome.session, target: target) }
    report("report.md + report.html at the end of a 1,000-step run (median of 21)", String(format: "%.1f ms", atEnd * 1000),
           target: "<= 200 ms")
    report("the same, reading the journal back first (median of 5)", String(format: "%.1f ms", fromDisk * 1000), target: "-")
    print("  \(entries.count) journal entries; report.html \(html / 1024) KiB")
}
