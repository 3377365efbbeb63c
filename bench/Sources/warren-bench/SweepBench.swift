import Foundation
import Runbook
import Sessions

/// `warren-bench sweep [--nodes N] [--runbook NAME] [--repeat K]`: a full fault sweep of a runbook
/// on a simulated cluster (crash+resume, each node killed, refusal+resume, at every step boundary
/// and inside every step); prints each wall time and the median. Target: rolling-restart on 5
/// nodes in <= 10 s (release build).
func sweepBenchmarks(_ args: [String]) {
    var nodes = 5, runbook = "rolling-restart", repeats = 3
    var i = 0
    while i < args.count {
        let value = i + 1 < args.count ? args[i + 1] : ""
        switch args[i] {
        case "--nodes": nodes = Int(value) ?? nodes; i += 1
        case "--runbook": runbook = value; i += 1
        case "--repeat": repeats = max(1, Int(value) ?? repeats); i += 1
        default:
            FileHandle.standardError.write(Data("usage: warren-bench sweep [--nodes N] [--runbook NAME] [--repeat K]\n".utf8))
            exit(2)
        }
        i += 1
    }
    let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path
    let library = RunbookLibrary(roots: [package + "/runbooks"] + RunbookLibrary.standard().roots)
    var config = SweepConfig(runbook: runbook)
    config.nodes = nodes
    var times: [Double] = []
    var last: SweepReport?
    for k in 1...repeats {
        let start = Date()
        do {
            last = try Sweeper(library: library, config: config).run()
        } catch {
            print("sweep \(runbook) failed: \(error)")
            exit(1)
        }
        let t = Date().timeIntervalSince(start)
        times.append(t)
        print(String(format: "run %d: %.3f s (%d runs, %d violations)", k, t, last!.runs, last!.violations.count))
    }
    let median = times.sorted()[times.count / 2]
    print(String(format: "sweep %@ on sim:%d: median of %d = %.3f s wall (%d runs, %.1f ms per run; target <= 10 s)",
                 runbook, nodes, repeats, median, last!.runs, median * 1000 / Double(last!.runs)))
}
