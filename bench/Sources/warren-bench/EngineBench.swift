import Cluster
import Foundation
import Runbook
import Simulator

/// `warren-bench engine [DIR]`: 1,000 no-op steps with the journal on disk (in DIR, default a
/// temporary folder on the same disk as the state directory).
func engineBenchmarks(_ args: [String]) {
    let dir = args.first ?? NSTemporaryDirectory() + "warren-bench-\(getpid())"
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/noop.lua"
    try! """
        runbook { name = "noop", summary = "1,000 steps that do nothing" }
        for i = 1, 1000 do step("step " .. i, function() end) end
        """.write(toFile: path, atomically: true, encoding: .utf8)
    let source = try! RunbookSource(path: path)
    var n = 0
    let t = median(runs: 5) {
        n += 1
        let journal = try! JournalWriter(path: dir + "/journal-\(n).jsonl")
        let engine = RunbookEngine(source: source, backend: Simulator(nodes: 3), console: BufferConsole(), options: RunOptions(),
                                   library: RunbookLibrary(roots: [dir]), journal: journal, memory: try! MemoryStore(path: nil))
        let result = engine.run()
        precondition(result.error == nil && result.stepsDone == 1000)
    }
    report("1,000 no-op steps, journal on disk (median of 5)", String(format: "%.3f s", t), target: "<= 1 s")
}
