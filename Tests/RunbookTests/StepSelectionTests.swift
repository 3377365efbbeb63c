import Cluster
import Foundation
@testable import Runbook
import Sessions
import Simulator
import Testing

/// `--start-at-step` and `--step`, as Ansible has them.
@Suite("Choosing the steps a run runs")
struct StepSelectionTests {
    @Test("--start-at-step skips the steps before it, journaled as skipped, and the rest runs")
    func startAtStep() throws {
        let drill = Drill()
        var options = RunOptions()
        options.startAtStep = "restart-n3"
        let result = try drill.run("rolling-restart", options: options)
        #expect(result.error == nil, "\(drill.lastConsole.text)")
        #expect(drill.doneSteps == ["restart-n3", "rebalance-quorum-queue-leaders"])
        #expect(drill.primitives.filter { $0.hasPrefix("stop ") } == ["stop rabbit@n3"])
        #expect(drill.lastConsole.text.contains("↷ [2/5] restart rabbit@n1: skipped (the run starts at step 'restart-n3')"))
        let skipped = drill.journal.compactMap { if case .stepSkipped(let s) = $0.event { return s.message } else { return nil } }
        #expect(skipped.count == 3 && skipped.allSatisfy { $0 == "skipped: --start-at-step restart-n3" })
    }

    @Test("--start-at-step with an unknown step names the runbook's steps and changes nothing")
    func unknownStep() throws {
        let drill = Drill()
        var options = RunOptions()
        options.startAtStep = "restart-n9"
        let result = try drill.run("rolling-restart", options: options)
        #expect(result.error?.exitCode == 2)
        #expect(result.error?.description.contains("has no such step; its steps: check-the-cluster-is-healthy-before-starting, restart-n1, restart-n2, restart-n3, rebalance-quorum-queue-leaders") == true,
                "\(result.error?.description ?? "")")
        #expect(drill.primitives.isEmpty)
    }

    @Test("--step asks before each step: skip skips it, continue runs the rest without asking, stop stops resumably")
    func stepByStep() throws {
        let drill = Drill()
        var options = RunOptions()
        options.confirmEachStep = true
        // Operator answers: run the health check, skip n1, run n2 (and confirm its restart), then continue.
        let console = ScriptedConsole(answers: ["yes", "skip", "yes", "yes", "continue", "yes"])
        let result = try drill.run("rolling-restart", yes: false, console: console, options: options)
        #expect(result.error == nil, "\(console.text)")
        #expect(drill.primitives.filter { $0.hasPrefix("stop ") } == ["stop rabbit@n2", "stop rabbit@n3"])
        #expect(console.asked.filter { $0.hasPrefix("? Run step") }.count == 4, "\(console.asked)")

        let second = Drill()
        let stopped = try second.run("rolling-restart", yes: false, console: ScriptedConsole(answers: ["yes", "stop"]), options: options)
        #expect(stopped.error?.outcome == "refused")
        #expect(second.doneSteps == ["check-the-cluster-is-healthy-before-starting"])
        #expect(second.primitives.isEmpty)
    }
}
