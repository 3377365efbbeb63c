import Cluster
import Foundation
import Runbook
import Simulator
import Testing
@testable import Sessions

/// `report.html` opened in a real browser (Debian's chromium, headless): the lanes are drawn in
/// their states' colours, the marks are there, and no script error was raised.
@Suite("report.html in a headless browser", .enabled(if: HeadlessChromium.binary != nil,
                                                      "chromium is not installed: `apt-get install --no-install-recommends chromium` (CI installs it)"))
struct TimelineBrowserTests {
    /// A session on a simulated cluster with its canary: rabbit@n1 drained, stopped for a while,
    /// started and awaited, through the session runner as `warren run --canary` runs it.
    @Test("a session's report.html, as the run writes it, draws a lane per node in its states' colours, without script errors")
    func runWritesATimelineTheBrowserDraws() throws {
        let root = try makeScratchDirectory("warren-timeline")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let runbook = root + "/timeline-demo.lua"
        try """
            runbook { name = "timeline-demo", summary = "rabbit@n1 out of service for a while" }
            local n1 = cluster.node("n1")
            local function pause(seconds, what)
              local polls = 0
              wait_until(function() polls = polls + 1; return polls > seconds end, { timeout = seconds + 5, every = 1, what = what })
            end
            step{ id = "drain-n1", title = "drain rabbit@n1", run = function()
              confirm("Drain rabbit@n1?")
              n1:drain()
              pause(10, "its clients to move")
            end }
            step{ id = "stop-n1", title = "stop rabbit@n1", run = function()
              confirm("Stop rabbit@n1?")
              n1:stop()
              pause(15, "the maintenance window")
            end }
            step{ id = "start-n1", title = "start rabbit@n1", run = function()
              n1:start()
              n1:await_running{ timeout = 300 }
              gate.cluster_healthy{ timeout = 300 }
            end }
            """.write(toFile: runbook, atomically: true, encoding: .utf8)
        let simulator = Simulator(nodes: 3, seed: 1)
        try simulator.declareDemoSet()
        let sessions = try SimulatedSessions(root: root + "/state", simulator: simulator,
                                             library: RunbookLibrary(roots: [root]), terminal: ScriptedTerminal(keep: false))
        sessions.runner.canary = true
        var options = RunOptions()
        options.assumeYes = true
        let outcome = try sessions.run(try RunbookSource(path: runbook), options: options)
        #expect(outcome.exitCode == 0)
        let page = sessions.paths.session(outcome.session) + "/" + SessionStore.htmlReportFile

        let run = try HeadlessChromium.render(page, binary: try #require(HeadlessChromium.binary))
        let check = try drawn(run)
        #expect(check.lanes.map(\.node) == ["rabbit@n1", "rabbit@n2", "rabbit@n3"])
        #expect(check.steps == 3)
        #expect(check.questions == 2)
        #expect(check.canary?.series == 3)
        let n1 = try #require(check.lanes.first)
        #expect(n1.segments.map(\.state) == ["running", "drained", "stopped", "booting", "running"])
        #expect(check.lanes.dropFirst().allSatisfy { $0.segments.map(\.state) == ["unknown"] })
        try expectColours(check, in: run)
    }

    /// A journal with everything the timeline draws (all four states, quorum-critical windows, a
    /// canary gap) and node names that try to break out of the markup.
    @Test("hostile node names stay text, and windows, gaps and every state are drawn")
    func everythingDrawnAndEscaped() throws {
        let dir = try makeScratchDirectory("warren-timeline")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let page = dir + "/report.html"
        let entries = TimelineFixture.journal()
        try HTMLReport.write(to: page, entries: entries, sessionID: "20261203-101521-a121", redactor: Redactor())

        let run = try HeadlessChromium.render(page, binary: try #require(HeadlessChromium.binary))
        let check = try drawn(run)
        #expect(check.lanes.map(\.node) == TimelineFixture.shown)
        let timeline = Timeline(entries: entries)
        #expect(check.windows == timeline.critical.count)
        #expect(check.windows == 2)
        #expect(check.gaps == timeline.canary.filter { $0.failed > 0 }.count)
        #expect(check.gaps > 0)
        #expect(Set(check.lanes.flatMap { $0.segments.map(\.state) }) == ["running", "drained", "stopped", "booting", "unknown"])
        // A name that had become markup would have thrown 'injected': `drawn` found no script error.
        try expectColours(check, in: run)
    }

    @Test("a script error on the page, or a self-check that stops half-way, is caught")
    func brokenPageIsCaught() throws {
        let dir = try makeScratchDirectory("warren-timeline")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let page = dir + "/broken.html"
        var html = HTMLReport.render(entries: TimelineFixture.journal())
        html = html.replacingOccurrences(of: "<p id=\"drawn\"></p>", with: "<p id=\"drawn\"></p><script>document.getElementById('timeline').bogusCall();</script>")
        html = html.replacingOccurrences(of: "out.lanes.length + ' node lanes", with: "out.lanes.missing.length + ' node lanes")
        try html.write(toFile: page, atomically: true, encoding: .utf8)

        let run = try HeadlessChromium.render(page, binary: try #require(HeadlessChromium.binary))
        let status = run.status, errors = run.scriptErrors, completed = run.selfCheckCompleted
        let trapped = run.dom.contains("data-js-errors=\"2\"")
        #expect(status == 0, "chromium itself does not fail on a page's errors: \(run.log.suffix(2000))")
        #expect(errors.contains { $0.contains("bogusCall") }, "\(errors)")
        #expect(trapped, "\(errors)")
        #expect(!completed)
    }

    // MARK: Checks

    /// The page's self-check figures, once the page loaded without script errors.
    private func drawn(_ run: HeadlessChromium.Run) throws -> SelfCheck {
        let status = run.status, errors = run.scriptErrors, completed = run.selfCheckCompleted
        #expect(status == 0, "chromium exited \(status) (124: timed out): \(run.log.suffix(2000))")
        #expect(errors.isEmpty)
        #expect(completed, "the page's self-check did not finish")
        let json = try #require(run.selfCheckJSON, "no #warren-selfcheck in the page")
        let check = try JSONDecoder().decode(SelfCheck.self, from: json)
        #expect(check.dpr == 1)
        return check
    }

    /// Every lane segment wide enough to measure shows on top, in its state's colour (its edges
    /// left out: anti-aliasing).
    private func expectColours(_ check: SelfCheck, in run: HeadlessChromium.Run) throws {
        let image = try PNGImage(png: Array(try Data(contentsOf: URL(fileURLWithPath: run.screenshot))))
        var measured = 0
        for lane in check.lanes {
            for s in lane.segments where s.w >= 12 {
                #expect(s.visible, "\(lane.node): the \(s.state) segment is hidden")
                let state = try #require(Timeline.NodeState(rawValue: s.state))
                let hex = try #require(TimelineSVG.colors[state])
                let color = try #require(UInt32(hex.dropFirst(), radix: 16))
                let (hits, total) = image.count(x: s.x + 4, y: s.y + 4, w: s.w - 8, h: s.h - 8, color: color)
                #expect(total > 0 && Double(hits) >= 0.85 * Double(total),
                        "\(lane.node) \(s.state) at \(s.x),\(s.y) \(s.w)x\(s.h): \(hits) of \(total) pixels are \(hex)")
                measured += 1
            }
        }
        #expect(measured >= check.lanes.count, "too few segments wide enough to measure")
    }
}
