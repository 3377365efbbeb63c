import Cluster
import Foundation
import Runbook
import Sessions
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

/// `warren-bench recording [DIR]`: a rolling restart of a simulated 3-node cluster, journaled,
/// with and without its asciicast recording, alternated run by run; medians and their ratio.
func recordingBenchmarks(_ args: [String]) {
    let dir = args.first ?? NSTemporaryDirectory() + "warren-bench-rec-\(getpid())"
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let library = RunbookLibrary(roots: [FileManager.default.currentDirectoryPath + "/runbooks"])
    let source = try! library.find("rolling-restart")
    var options = RunOptions()
    options.assumeYes = true
    var n = 0
    func once(recorded: Bool) -> Double {
        n += 1
        let sim = Simulator(nodes: 3, seed: 1)
        try! sim.declareDemoSet()
        let recorder = recorded ? try! SessionRecorder(path: dir + "/\(n).cast", width: 100, height: 30, title: "bench", redactor: Redactor()) : nil
        let console = RecordingConsole(terminal: NullTerminal(), recorder: recorder, redactor: Redactor())
        let start = DispatchTime.now().uptimeNanoseconds
        let engine = RunbookEngine(source: source, backend: sim, console: console, options: options, library: library,
                                   journal: try! JournalWriter(path: dir + "/\(n).jsonl"), memory: try! MemoryStore(path: nil))
        precondition(engine.run().error == nil)
        recorder?.close()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
    var with: [Double] = [], without: [Double] = []
    for _ in 0..<41 {
        without.append(once(recorded: false))
        with.append(once(recorded: true))
    }
    let a = without.sorted()[20], b = with.sorted()[20]
    report("rolling-restart sim:3, not recorded (median of 41)", String(format: "%.2f ms", a * 1000), target: "-")
    report("the same, recorded to session.cast (median of 41)", String(format: "%.2f ms", b * 1000), target: "-")
    report("recording overhead", String(format: "%+.1f %%", (b / a - 1) * 100), target: "<= 5 %")
}

final class NullTerminal: Terminal {
    var isInteractive: Bool { false }
    var size: (width: Int, height: Int) { (100, 30) }
    func write(_ text: String) {}
    func ask(_ prompt: String) -> ConsoleAnswer { .unavailable }
}
