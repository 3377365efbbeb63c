/// Draws a ``Timeline`` as one static inline SVG: it renders with scripts off, and every mark has
/// a `<title>` tooltip with its details.
///
/// Lanes and the canary chart use solid fills and are drawn over the grid and the step lines, so
/// each lane segment shows in its own colour (the browser test measures them).
struct TimelineSVG {
    let timeline: Timeline
    let text: Markup

    /// Lane colours, one per state.
    static let colors: [Timeline.NodeState: String] = [
        .running: "#2e7d32", .booting: "#f9a825", .stopped: "#c62828", .drained: "#1565c0", .unknown: "#d9d9d9",
    ]
    static let stateOrder: [Timeline.NodeState] = [.running, .booting, .drained, .stopped, .unknown]
    static let canaryColors = (publish: "#00695c", confirm: "#6a1b9a", consume: "#ef6c00")

    // Layout, in CSS pixels.
    static let left = 190.0, right = 24.0
    static let stepsTop = 40.0, criticalTop = 58.0, criticalHeight = 14.0
    static let lanesTop = 82.0, laneHeight = 24.0, laneGap = 8.0
    static let canaryHeight = 110.0

    /// Wide enough that steps stay apart; a long session scrolls sideways.
    var plotWidth: Double { min(max(Double(timeline.steps.count) * 8, 900), 16000) }
    var lanesBottom: Double {
        TimelineSVG.lanesTop + Double(timeline.lanes.count) * (TimelineSVG.laneHeight + TimelineSVG.laneGap) - TimelineSVG.laneGap
    }
    var questionsY: Double { lanesBottom + 16 }
    var canaryTop: Double { questionsY + 24 }
    var hasCanary: Bool { !timeline.canary.isEmpty }
    var legendTop: Double { hasCanary ? canaryTop + TimelineSVG.canaryHeight + 26 : questionsY + 24 }
    var width: Double { TimelineSVG.left + plotWidth + TimelineSVG.right }
    var height: Double { legendTop + 40 }

    func x(_ t: Double) -> Double { TimelineSVG.left + t / timeline.end * plotWidth }

    static func n(_ v: Double) -> String { Markup.number(v) }

    func render() -> String {
        var o = ""
        o.reserveCapacity(4096 + timeline.steps.count * 600 + timeline.lanes.count * 4000)
        let w = TimelineSVG.n(width), h = TimelineSVG.n(height)
        o += "<svg id=\"timeline\" width=\"\(w)\" height=\"\(h)\" viewBox=\"0 0 \(w) \(h)\" font-family=\"sans-serif\" font-size=\"12\">\n"
        grid(&o)
        steps(&o)
        critical(&o)
        lanes(&o)
        questions(&o)
        resumes(&o)
        if hasCanary { canary(&o) }
        legend(&o)
        o += "</svg>\n"
        return o
    }

    // MARK: Axis

    private func grid(_ o: inout String) {
        let every = TimelineSVG.tickInterval(span: timeline.end, width: plotWidth)
        let bottom = TimelineSVG.n(hasCanary ? canaryTop + TimelineSVG.canaryHeight : questionsY)
        o += "<g class=\"axis\">\n<text x=\"\(TimelineSVG.n(TimelineSVG.left))\" y=\"12\" fill=\"#444\">\(axisTitle)</text>\n"
        var t = 0.0
        while t <= timeline.end + 1e-9 {
            let xs = TimelineSVG.n(x(t))
            o += "<line x1=\"\(xs)\" y1=\"30\" x2=\"\(xs)\" y2=\"\(bottom)\" stroke=\"#ececec\"/>"
            o += "<text x=\"\(xs)\" y=\"28\" text-anchor=\"middle\" fill=\"#666\">\(tickLabel(t))</text>\n"
            t += every
        }
        o += "</g>\n"
    }

    private var axisTitle: String {
        switch timeline.clock {
        case .simulated: return "simulated time since the session started (the simulator's virtual clock)"
        case .wall: return "time (UTC)"
        }
    }

    private func tickLabel(_ t: Double) -> String {
        switch timeline.clock {
        case .simulated: return TimelineSVG.elapsed(t)
        case .wall(let origin): return ReportWriter.time(origin + t)
        }
    }

    /// `45 s`, `4:30`, `1:04:30`.
    static func elapsed(_ t: Double) -> String {
        let s = Int(t.rounded())
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        if s < 60 { return "\(s) s" }
        if s < 3600 { return "\(s / 60):\(two(s % 60))" }
        return "\(s / 3600):\(two(s / 60 % 60)):\(two(s % 60))"
    }

    /// A round interval giving about one tick per 100 pixels.
    static func tickInterval(span: Double, width: Double) -> Double {
        let wanted = span / max(1, (width / 100).rounded(.down))
        let round: [Double] = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 21600, 43200, 86400]
        return round.first { $0 >= wanted } ?? (wanted / 86400).rounded(.up) * 86400
    }

    // MARK: Marks

    private func steps(_ o: inout String) {
        o += "<g class=\"steps\">\n"
        for (i, s) in timeline.steps.enumerated() {
            let xs = TimelineSVG.n(x(s.at)), xv = x(s.at)
            let color = s.outcome == nil || s.outcome == "done" || s.outcome == "done (already)" || s.outcome == "skipped" ? "#222" : "#c62828"
            var tip = "step \(i + 1): \(s.title ?? s.step) (\(s.step))"
            tip += " — " + (s.outcome ?? "no end recorded")
            if let until = s.until, until > s.at { tip += ", " + ReportWriter.duration(until - s.at) }
            if case .simulated = timeline.clock { tip += " of simulated time" }
            tip += ", at " + tickLabel(s.at)
            o += "<g class=\"mark step\" data-step=\"\(text(s.step))\"><title>\(text(tip))</title>"
            o += "<line x1=\"\(xs)\" y1=\"\(TimelineSVG.n(TimelineSVG.stepsTop + 10))\" x2=\"\(xs)\" y2=\"\(TimelineSVG.n(questionsY))\" stroke=\"#999\" stroke-dasharray=\"3 3\" pointer-events=\"none\"/>"
            o += "<path d=\"M\(TimelineSVG.n(xv - 5)),\(TimelineSVG.n(TimelineSVG.stepsTop)) L\(TimelineSVG.n(xv + 5)),\(TimelineSVG.n(TimelineSVG.stepsTop)) L\(xs),\(TimelineSVG.n(TimelineSVG.stepsTop + 9)) Z\" fill=\"\(color)\"/></g>\n"
        }
        o += "</g>\n"
    }

    private func critical(_ o: inout String) {
        let top = TimelineSVG.criticalTop, height = TimelineSVG.criticalHeight
        o += "<g class=\"critical\">\n<text x=\"\(TimelineSVG.n(TimelineSVG.left - 8))\" y=\"\(TimelineSVG.n(top + 11))\" text-anchor=\"end\" fill=\"#8a4b00\">quorum-critical</text>\n"
        for w in timeline.critical {
            let x0 = x(w.from), width = max(x(w.to) - x0, 3)
            let tip = "\(w.node ?? "a node") quorum-critical from \(tickLabel(w.from)) \(w.open ? "to the end of the journal" : "to \(tickLabel(w.to))"): \(w.evidence)"
            o += "<rect class=\"window\" data-node=\"\(text(w.node ?? ""))\" x=\"\(TimelineSVG.n(x0))\" y=\"\(TimelineSVG.n(top))\" width=\"\(TimelineSVG.n(width))\" height=\"\(TimelineSVG.n(height))\" fill=\"#ff8f00\"><title>\(text(tip))</title></rect>\n"
        }
        o += "</g>\n"
    }

    private func lanes(_ o: inout String) {
        for (i, lane) in timeline.lanes.enumerated() {
            let y = TimelineSVG.lanesTop + Double(i) * (TimelineSVG.laneHeight + TimelineSVG.laneGap)
            let node = text(lane.node)
            // A long name is cut to fit left of the lanes; its tooltip has it whole.
            let label = lane.node.count > 26 ? text(String(lane.node.prefix(25)) + "…") : node
            o += "<g class=\"lane\" data-node=\"\(node)\">\n<text x=\"\(TimelineSVG.n(TimelineSVG.left - 8))\" y=\"\(TimelineSVG.n(y + 16))\" text-anchor=\"end\"><title>\(node)</title>\(label)</text>\n"
            for s in lane.segments {
                let x0 = x(s.from), x1 = x(s.to)
                let tip = "\(lane.node): \(s.state.rawValue) from \(tickLabel(s.from)) to \(tickLabel(s.to)) (\(s.cause))"
                o += "<rect class=\"seg \(s.state.rawValue)\" data-state=\"\(s.state.rawValue)\" x=\"\(TimelineSVG.n(x0))\" y=\"\(TimelineSVG.n(y))\" width=\"\(TimelineSVG.n(max(x1 - x0, 0.5)))\" height=\"\(TimelineSVG.n(TimelineSVG.laneHeight))\" fill=\"\(TimelineSVG.colors[s.state]!)\"><title>\(text(tip))</title></rect>\n"
            }
            o += "</g>\n"
        }
    }

    private func questions(_ o: inout String) {
        let y = questionsY
        o += "<g class=\"questions\">\n"
        for q in timeline.questions {
            let xv = x(q.at)
            var tip = (q.unsafe ? "UNSAFE confirmation" : (q.choices == nil ? "confirmation" : "question"))
            if let step = q.step { tip += " in step \(step)" }
            tip += ": \(q.text)"
            if let choices = q.choices { tip += " [\(choices.joined(separator: ", "))]" }
            tip += " — " + (q.answer.map { "answered \($0)" + (q.source.map { " (\($0))" } ?? "") } ?? "no answer recorded")
            o += "<g class=\"mark question\"><title>\(text(tip))</title><path d=\"M\(TimelineSVG.n(xv)),\(TimelineSVG.n(y - 7)) L\(TimelineSVG.n(xv + 7)),\(TimelineSVG.n(y)) L\(TimelineSVG.n(xv)),\(TimelineSVG.n(y + 7)) L\(TimelineSVG.n(xv - 7)),\(TimelineSVG.n(y)) Z\" fill=\"\(q.unsafe ? "#c62828" : q.answer == "no" ? "#8e24aa" : "#6a1b9a")\"/></g>\n"
        }
        o += "</g>\n"
    }

    private func resumes(_ o: inout String) {
        guard !timeline.resumes.isEmpty else { return }
        o += "<g class=\"resumes\">\n"
        for t in timeline.resumes {
            let xs = TimelineSVG.n(x(t))
            o += "<g class=\"mark resume\"><title>resumed at \(tickLabel(t))</title><line x1=\"\(xs)\" y1=\"30\" x2=\"\(xs)\" y2=\"\(TimelineSVG.n(questionsY))\" stroke=\"#6a1b9a\" stroke-width=\"2\" pointer-events=\"none\"/><text x=\"\(TimelineSVG.n(x(t) + 4))\" y=\"\(TimelineSVG.n(questionsY + 4))\" fill=\"#6a1b9a\" font-size=\"10\">resumed</text></g>\n"
        }
        o += "</g>\n"
    }

    // MARK: Canary

    private func canary(_ o: inout String) {
        let top = canaryTop, bottom = canaryTop + TimelineSVG.canaryHeight
        let peak = max(timeline.canary.map { max($0.publish, $0.confirm, $0.consume) }.max() ?? 1, 1)
        func y(_ rate: Double) -> Double { bottom - rate / (peak * 1.1) * TimelineSVG.canaryHeight }
        o += "<g class=\"canary\">\n"
        o += "<text x=\"\(TimelineSVG.n(TimelineSVG.left - 8))\" y=\"\(TimelineSVG.n(top + 12))\" text-anchor=\"end\">canary msg/s</text>"
        o += "<text x=\"\(TimelineSVG.n(TimelineSVG.left - 8))\" y=\"\(TimelineSVG.n(top + 28))\" text-anchor=\"end\" fill=\"#666\" font-size=\"10\">peak \(TimelineSVG.n(peak))</text>\n"
        o += "<rect class=\"chart\" x=\"\(TimelineSVG.n(TimelineSVG.left))\" y=\"\(TimelineSVG.n(top))\" width=\"\(TimelineSVG.n(plotWidth))\" height=\"\(TimelineSVG.n(TimelineSVG.canaryHeight))\" fill=\"#fafafa\" stroke=\"#ccc\"/>\n"
        for gap in timeline.canary where gap.failed > 0 {
            let x0 = x(gap.from), width = max(x(gap.to) - x0, 2)
            let tip = "canary gap: \(gap.failed) publish\(gap.failed == 1 ? "" : "es") not confirmed between \(tickLabel(gap.from)) and \(tickLabel(gap.to))"
            o += "<rect class=\"gap\" x=\"\(TimelineSVG.n(x0))\" y=\"\(TimelineSVG.n(top))\" width=\"\(TimelineSVG.n(width))\" height=\"\(TimelineSVG.n(TimelineSVG.canaryHeight))\" fill=\"#ffcdd2\"><title>\(text(tip))</title></rect>\n"
        }
        let c = TimelineSVG.canaryColors
        series(&o, "publish", c.publish, dash: nil, y: { y($0.publish) })
        series(&o, "confirm", c.confirm, dash: "5 3", y: { y($0.confirm) })
        series(&o, "consume", c.consume, dash: "2 2", y: { y($0.consume) })
        o += "</g>\n"
    }

    /// One rate as a step line: flat over each interval between two samples.
    private func series(_ o: inout String, _ name: String, _ color: String, dash: String?,
                        y: (Timeline.CanaryInterval) -> Double) {
        var d = ""
        var lastEnd: Double?
        for iv in timeline.canary {
            let x0 = TimelineSVG.n(x(iv.from)), x1 = TimelineSVG.n(x(iv.to)), yv = TimelineSVG.n(y(iv))
            d += lastEnd == iv.from ? " V\(yv) H\(x1)" : " M\(x0),\(yv) H\(x1)"
            lastEnd = iv.to
        }
        o += "<path class=\"rate \(name)\" d=\"\(d.dropFirst())\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"\(dash.map { " stroke-dasharray=\"\($0)\"" } ?? "")><title>canary \(name) rate</title></path>\n"
    }

    // MARK: Legend

    private func legend(_ o: inout String) {
        let y = legendTop
        var lx = TimelineSVG.left
        o += "<g class=\"legend\">\n"
        for state in TimelineSVG.stateOrder {
            o += "<rect x=\"\(TimelineSVG.n(lx))\" y=\"\(TimelineSVG.n(y))\" width=\"12\" height=\"12\" fill=\"\(TimelineSVG.colors[state]!)\"/><text x=\"\(TimelineSVG.n(lx + 16))\" y=\"\(TimelineSVG.n(y + 10))\">\(state.rawValue)</text>\n"
            lx += 90
        }
        o += "<rect x=\"\(TimelineSVG.n(lx))\" y=\"\(TimelineSVG.n(y))\" width=\"12\" height=\"12\" fill=\"#ff8f00\"/><text x=\"\(TimelineSVG.n(lx + 16))\" y=\"\(TimelineSVG.n(y + 10))\">quorum-critical</text>\n"
        lx += 130
        o += "<path d=\"M\(TimelineSVG.n(lx)),\(TimelineSVG.n(y)) L\(TimelineSVG.n(lx + 10)),\(TimelineSVG.n(y)) L\(TimelineSVG.n(lx + 5)),\(TimelineSVG.n(y + 9)) Z\" fill=\"#222\"/><text x=\"\(TimelineSVG.n(lx + 16))\" y=\"\(TimelineSVG.n(y + 10))\">step (red: failed)</text>\n"
        lx += 140
        o += "<path d=\"M\(TimelineSVG.n(lx + 6)),\(TimelineSVG.n(y)) L\(TimelineSVG.n(lx + 12)),\(TimelineSVG.n(y + 6)) L\(TimelineSVG.n(lx + 6)),\(TimelineSVG.n(y + 12)) L\(TimelineSVG.n(lx)),\(TimelineSVG.n(y + 6)) Z\" fill=\"#6a1b9a\"/><text x=\"\(TimelineSVG.n(lx + 16))\" y=\"\(TimelineSVG.n(y + 10))\">question</text>\n"
        if hasCanary {
            lx = TimelineSVG.left
            let y2 = y + 20
            let c = TimelineSVG.canaryColors
            for (name, color) in [("publish", c.publish), ("confirm", c.confirm), ("consume", c.consume)] {
                o += "<line x1=\"\(TimelineSVG.n(lx))\" y1=\"\(TimelineSVG.n(y2 + 6))\" x2=\"\(TimelineSVG.n(lx + 14))\" y2=\"\(TimelineSVG.n(y2 + 6))\" stroke=\"\(color)\" stroke-width=\"2\"/><text x=\"\(TimelineSVG.n(lx + 18))\" y=\"\(TimelineSVG.n(y2 + 10))\">\(name) msg/s</text>\n"
                lx += 120
            }
            o += "<rect x=\"\(TimelineSVG.n(lx))\" y=\"\(TimelineSVG.n(y2))\" width=\"12\" height=\"12\" fill=\"#ffcdd2\"/><text x=\"\(TimelineSVG.n(lx + 16))\" y=\"\(TimelineSVG.n(y2 + 10))\">gap (publishes not confirmed)</text>\n"
        }
        o += "</g>\n"
    }
}
