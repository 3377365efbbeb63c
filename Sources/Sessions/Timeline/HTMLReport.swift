import Cluster
import Foundation
import Runbook

/// Renders a session's `report.html`: one self-contained page (no fonts, scripts, styles or
/// images from anywhere else: it opens on a machine without network, or attached to a ticket)
/// with the session's timeline as inline SVG. `report.md` beside it has the step-by-step details.
///
/// The picture is static and needs no script. Two small inline scripts make the page check
/// itself: the first (before anything else) catches any script error and shows it at the top of
/// the page; the last measures what the browser drew, states it under the picture, and leaves the
/// figures as JSON in `#warren-selfcheck` (the test that opens the page in a headless browser
/// reads them).
public enum HTMLReport {
    public static func render(entries: [JournalEntry], nodes: [String] = [], invariants: InvariantReport? = nil,
                              sessionID: String? = nil, redactor: Redactor = Redactor()) -> String {
        let text = Markup(redactor: redactor)
        let timeline = Timeline(entries: entries, nodes: nodes, invariants: invariants)
        let svg = TimelineSVG(timeline: timeline, text: text)
        let summary = SessionSummary(entries: entries)
        let start = summary.start
        let runbook = start.mode == .shell ? "shell" : (start.runbook ?? start.path ?? "unknown runbook")
        let heading = runbook + (start.target.map { " on " + $0 } ?? "")

        var o = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
        o += "<title>warren: \(text(heading))\(sessionID.map { " (\(text($0)))" } ?? "")</title>\n"
        o += errorTrap
        o += style
        o += "</head><body>\n"
        o += "<h1>\(text(heading))</h1>\n<ul class=\"facts\">\n"
        if let sessionID { o += "<li>Session: \(text(sessionID))</li>\n" }
        o += "<li>Started: \(ReportWriter.dateTime(summary.startTime))</li>\n"
        o += "<li>Outcome: \(text(ReportWriter.outcomeText(summary, sessionID: sessionID)))</li>\n"
        if case .simulated = timeline.clock {
            o += "<li>Times are the simulator's virtual clock: the simulated cluster took this long, warren did not.</li>\n"
        }
        o += "</ul>\n<div class=\"scroll\">\n"
        o += svg.render()
        o += "</div>\n<p id=\"drawn\"></p>\n"
        o += details(timeline, text: text)
        o += "<p class=\"hint\">Hover over a mark for its details. The step-by-step account is report.md, beside this file.</p>\n"
        o += selfCheck
        o += "</body></html>\n"
        return o
    }

    /// Renders the page and writes it atomically (mode 0600) to `path`.
    /// - Throws: `SessionsError.cannotWrite`.
    public static func write(to path: String, entries: [JournalEntry], nodes: [String] = [], invariants: InvariantReport? = nil,
                             sessionID: String? = nil, redactor: Redactor) throws {
        try writeFileAtomically(path, render(entries: entries, nodes: nodes, invariants: invariants,
                                             sessionID: sessionID, redactor: redactor))
    }

    /// What the picture cannot place: the canary's totals and the simulator's majority losses.
    private static func details(_ timeline: Timeline, text: Markup) -> String {
        var o = "<ul class=\"facts\">\n"
        if let figures = timeline.canaryFigures {
            o += "<li>\(text(figures))</li>\n"
        }
        if !timeline.majorityLosses.isEmpty {
            let losses = timeline.majorityLosses.map { "\($0.queue) for \(ReportWriter.duration($0.seconds))" }
            o += "<li class=\"bad\">Majority lost (the simulator's invariants, which count how long, not when): \(text(losses.joined(separator: ", ")))</li>\n"
        }
        let open = timeline.critical.filter(\.open).compactMap(\.node)
        if !open.isEmpty {
            o += "<li>Still quorum-critical when the journal ends: \(text(open.joined(separator: ", ")))</li>\n"
        }
        return o + "</ul>\n"
    }

    private static let style = """
        <style>
        body{margin:0 16px 16px;background:#fff;color:#222;font:13px sans-serif}
        h1{font-size:18px;margin:12px 0 4px}
        .facts{margin:4px 0;padding-left:18px}
        .bad{color:#b71c1c}
        .scroll{overflow-x:auto}
        #js-errors{color:#b71c1c;white-space:pre-wrap}
        .hint{color:#666}
        </style>

        """

    /// First in the page, so that it sees errors in everything after it.
    private static let errorTrap = """
        <script>
        (function(){
          var errors = [];
          function record(message){
            errors.push(String(message));
            var root = document.documentElement;
            root.setAttribute('data-js-errors', String(errors.length));
            var pre = document.getElementById('js-errors');
            if (!pre) {
              pre = document.createElement('pre'); pre.id = 'js-errors';
              (document.body || root).insertBefore(pre, (document.body || root).firstChild);
            }
            pre.textContent = 'This page hit a script error; the picture itself needs no script:\\n' + errors.join('\\n');
          }
          window.addEventListener('error', function(e){ record('error: ' + e.message + ' @' + e.filename + ':' + e.lineno + ':' + e.colno); });
          window.addEventListener('unhandledrejection', function(e){ var r = e.reason; record('unhandledrejection: ' + (r && r.message ? r.message : r)); });
          var consoleError = console.error;
          console.error = function(){ record('console.error: ' + Array.prototype.join.call(arguments, ' ')); return consoleError.apply(console, arguments); };
        })();
        </script>

        """

    /// Last in the page: measures what was drawn, says it, and sets `data-selfcheck` last of all
    /// (a script that stopped half-way never sets it).
    private static let selfCheck = """
        <script>
        (function(){
          var svg = document.getElementById('timeline');
          var out = {lanes: [], steps: svg.querySelectorAll('g.mark.step').length,
                     questions: svg.querySelectorAll('g.mark.question').length,
                     windows: svg.querySelectorAll('g.critical rect.window').length,
                     gaps: svg.querySelectorAll('g.canary rect.gap').length,
                     canary: null, dpr: window.devicePixelRatio,
                     viewport: [window.innerWidth, window.innerHeight]};
          function box(r){ var b = r.getBoundingClientRect();
            return {x: Math.round(b.left), y: Math.round(b.top), w: Math.round(b.width), h: Math.round(b.height)}; }
          svg.querySelectorAll('g.lane').forEach(function(g){
            var counts = {}, segments = [];
            g.querySelectorAll('rect.seg').forEach(function(r){
              var state = r.getAttribute('data-state');
              counts[state] = (counts[state] || 0) + 1;
              var b = box(r), hit = document.elementFromPoint(b.x + b.w / 2, b.y + b.h / 2);
              segments.push({state: state, fill: getComputedStyle(r).fill, x: b.x, y: b.y, w: b.w, h: b.h,
                             visible: hit === r});
            });
            out.lanes.push({node: g.getAttribute('data-node'), counts: counts, segments: segments});
          });
          var rates = svg.querySelectorAll('g.canary path.rate');
          if (rates.length) {
            out.canary = {series: rates.length, length: Math.round(rates[0].getTotalLength()),
                          chart: box(svg.querySelector('g.canary rect.chart'))};
          }
          var data = document.createElement('script');
          data.type = 'application/json'; data.id = 'warren-selfcheck';
          data.textContent = JSON.stringify(out).replace(/</g, '\\\\u003c');  // no end tag inside, whatever a name holds
          document.body.appendChild(data);
          document.getElementById('drawn').textContent = 'Drawn: ' + out.lanes.length + ' node lanes, ' + out.steps + ' steps, ' +
            out.questions + ' questions, ' + out.windows + ' quorum-critical windows' +
            (out.canary ? ', canary rates with ' + out.gaps + ' gaps' : '') + '.';
          document.body.setAttribute('data-selfcheck', 'ok');
        })();
        </script>

        """
}
