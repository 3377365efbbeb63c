import Foundation
import Testing
import Runbook
@testable import Sessions

@Suite("Sweeps")
struct SweepTests {
    @Test("a sweep of rolling-restart on 3 simulated nodes reports no violation")
    func rollingRestartIsSafe() throws {
        var config = SweepConfig(runbook: "rolling-restart")
        config.nodes = 3
        let report = try Sweeper(library: drillLibrary, config: config).run()
        #expect(!report.violated, "\(report.render())")
        #expect(report.baseline == .ok)
        // 5 steps: 5 boundaries, 4 with a primitive inside; crash, 3 kills, refuse.
        #expect(report.points.count == 9)
        #expect(report.faults.map(\.label) == ["crash", "kill-n1", "kill-n2", "kill-n3", "refuse"])
        let crash = report.cells.map { $0[0] }, refuse = report.cells.map { $0[4] }
        #expect(crash.allSatisfy { $0 == .ok }, "a crash then resume completes everywhere")
        #expect(refuse.allSatisfy { $0 == .ok }, "a refusal then resume completes everywhere")
        let text = report.render()
        #expect(text.contains("unsafe confirmations (#unsafe) are answered yes automatically"))
        #expect(text.contains("inside restart-n2"))
        #expect(text.contains("0 VIOL"))
    }

    @Test("a sweep of a deliberately unsafe runbook reports the majority loss")
    func unsafeRunbookViolates() throws {
        let dir = makeTempDir()
        let path = dir + "/unsafe-stop-two.lua"
        try """
            runbook { name = "unsafe-stop-two", summary = "stops two nodes with no gate" }
            local nodes = cluster.nodes()
            step("stop two nodes", function()
              confirm("Stop two nodes?")
              nodes[2]:stop{ unsafe = true }
              nodes[3]:stop{ unsafe = true }
            end)
            step("start them again", function()
              nodes[2]:start()
              nodes[3]:start()
              nodes[2]:await_running{ timeout = 600 }
              nodes[3]:await_running{ timeout = 600 }
            end)
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let report = try Sweeper(library: drillLibrary, config: SweepConfig(runbook: path)).run()
        #expect(report.violated)
        #expect(report.baseline == .viol)
        #expect(report.violations.contains { $0.contains("stop rabbit@n3 in step 'stop-two-nodes' left") && $0.contains("without a majority") },
                "\(report.render())")
        #expect(report.render().contains("VIOL"))
    }

    @Test("full-shutdown takes the cluster down on purpose: its majority losses are no violation")
    func fullShutdownAllowed() throws {
        let report = try Sweeper(library: drillLibrary, config: SweepConfig(runbook: "full-shutdown")).run()
        #expect(report.majorityLossAllowed)
        #expect(!report.violated, "\(report.render())")
    }

    @Test("full-startup sweeps on the cluster a full-shutdown left")
    func fullStartupWithSetup() throws {
        var config = SweepConfig(runbook: "full-startup")
        config.setup = "full-shutdown"
        let report = try Sweeper(library: drillLibrary, config: config).run()
        #expect(!report.violated, "\(report.render())")
        #expect(report.baseline == .ok)
    }
}
