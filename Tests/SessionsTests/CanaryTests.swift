import Cluster
import Foundation
import Simulator
import Testing
@testable import Sessions

/// A transport that misbehaves on purpose: it fails to confirm some publishes, loses a confirmed
/// message, delivers one twice and delivers one it never confirmed.
private final class ScriptedTransport: CanaryTransport {
    var summary: String { "scripted" }
    var queue: [Int] = []
    var refuse: Set<Int> = []
    var lose: Set<Int> = []
    func prepare(queue: String) throws {}
    func publish(_ ids: [Int], queue: String) -> [Int] {
        for id in ids where !lose.contains(id) { self.queue.append(id) }
        return ids.filter { !refuse.contains($0) }
    }
    func consume(queue: String, max: Int) -> [Int] {
        defer { self.queue.removeAll() }
        return self.queue + self.queue.prefix(1)
    }
}

@Suite("Canary")
struct CanaryTests {
    @Test("lost counts exactly the confirmed messages that never came back, whatever else arrives")
    func exactLoss() {
        let t = ScriptedTransport()
        t.refuse = [2]      // published and delivered, but never confirmed
        t.lose = [4, 7]     // confirmed, never delivered
        var time = 0.0
        let canary = Canary(transport: t, clock: { time })
        canary.tick(messages: 5)   // ids 1-5
        time = 1
        canary.tick(messages: 5)   // ids 6-10
        let r = canary.finish(timeout: 0)
        #expect(r.published == 10)
        #expect(r.confirmed == 9)
        #expect(r.consumed == 8)    // 1,2,3,5,6,8,9,10: duplicates counted once
        #expect(r.lost == 2)
        #expect(r.failedPublishes == 1)
        #expect(r.longestGap == 1)
        #expect(r.line == "canary: published 10, confirmed 9, consumed 8, lost 2, longest gap 1.0 s")
    }

    @Test("Ctrl-C ends the wait for missing messages, and the report says the drain was cut short")
    func interruptedDrain() {
        let t = ScriptedTransport()
        t.lose = [4]
        let canary = Canary(transport: t, clock: { 0 })  // a clock that never reaches the deadline
        canary.tick(messages: 5)
        var asked = 0
        let r = canary.finish(timeout: 600, interrupted: { asked += 1; return asked > 1 })
        #expect(r.drainInterrupted && r.lost == 1)
        #expect(r.line.hasSuffix("lost 1, longest gap 0.0 s (drain stopped by Ctrl-C: messages still in the queue count as lost)"), "\(r.line)")
    }

    @Test("the canary samples its totals at most once a second of its clock, and once more when it finishes")
    func samples() {
        let t = ScriptedTransport()
        t.refuse = [8]
        var time = 10.0
        let canary = Canary(transport: t, clock: { time })
        var samples: [Canary.Sample] = []
        canary.onSample = { samples.append($0) }
        for step in [0.0, 0.4, 0.9, 1.0, 1.5, 3.0] {
            time = 10 + step
            canary.tick(messages: 5)
        }
        _ = canary.finish(timeout: 0)
        #expect(samples.map(\.clock) == [10, 11, 13, 13])
        #expect(samples.map(\.published) == [5, 20, 30, 30])
        #expect(samples.map(\.confirmed) == [5, 19, 29, 29])
    }

    @Test("on the simulator the canary's ids follow the queue's message counts")
    func simulated() throws {
        let sim = Simulator(nodes: 3, seed: 1)
        let canary = Canary(transport: SimulatedCanaryTransport(backend: sim), clock: { sim.now() })
        try canary.prepare()
        for _ in 0..<4 { canary.tick() }
        let r = canary.finish(timeout: 0)
        #expect(r.published == 20)
        #expect(r.confirmed == 20)
        #expect(r.consumed == 20)
        #expect(r.lost == 0)
    }
}
