import Foundation

/// One run of Debian's chromium, headless, on a page: the DOM after its scripts ran (`--dump-dom`),
/// a screenshot, and the browser's log (where uncaught errors show as `CONSOLE` lines).
///
/// The binary is called directly (the `/usr/bin/chromium` wrapper adds flags that depend on the
/// machine), without a sandbox (tests run as root in CI), once per page, under `timeout`: a page
/// that never finishes loading must not hang the test run. Outputs go to files, not pipes (a DOM
/// larger than a pipe's buffer would block the browser).
struct HeadlessChromium {
    static let candidates = ["/usr/lib/chromium/chromium", "/usr/bin/chromium"]

    /// The browser, when it is installed.
    static let binary: String? = candidates.first { FileManager.default.isExecutableFile(atPath: $0) }

    struct Run {
        var status: Int32
        var dom: String
        var log: String
        var screenshot: String

        /// Errors the page's trap recorded (`<pre id="js-errors">`), and uncaught errors in the log.
        var scriptErrors: [String] {
            var errors: [String] = []
            if dom.contains("data-js-errors=\"") {
                if let a = dom.range(of: "<pre id=\"js-errors\""), let gt = dom[a.upperBound...].range(of: ">"),
                   let b = dom[gt.upperBound...].range(of: "</pre>") {
                    errors.append("page: " + dom[gt.upperBound..<b.lowerBound])
                } else {
                    errors.append("page: errors recorded, text missing")
                }
            }
            errors += log.split(separator: "\n").filter { $0.contains("CONSOLE") && $0.contains("Uncaught") }.map { "log: " + $0 }
            return errors
        }

        /// Whether the page's self-check ran to its last statement.
        var selfCheckCompleted: Bool {
            dom.range(of: #"<body[^>]*\sdata-selfcheck="ok""#, options: .regularExpression) != nil
        }

        /// The self-check's figures (`<script type="application/json" id="warren-selfcheck">`: a
        /// script's text is serialised raw, so it is JSON as written).
        var selfCheckJSON: Data? {
            guard let a = dom.range(of: "<script type=\"application/json\" id=\"warren-selfcheck\">"),
                  let b = dom[a.upperBound...].range(of: "</script>") else { return nil }
            return Data(dom[a.upperBound..<b.lowerBound].utf8)
        }
    }

    /// Opens the page at a fixed size (scale 1, sRGB: CSS pixels are screenshot pixels and fill
    /// colours come out exact).
    static func render(_ page: String, binary: String, width: Int = 1200, height: Int = 900) throws -> Run {
        let dir = NSTemporaryDirectory() + "warren-chromium-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let screenshot = dir + "/shot.png", dom = dir + "/dom.html", log = dir + "/log.txt"
        for file in [dom, log] {
            guard FileManager.default.createFile(atPath: file, contents: nil) else { throw CocoaError(.fileWriteUnknown) }
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        p.arguments = ["-k", "5", "60", binary, "--headless", "--no-sandbox", "--enable-logging=stderr", "--v=0",
                       "--virtual-time-budget=2000", "--force-device-scale-factor=1", "--force-color-profile=srgb",
                       "--hide-scrollbars", "--window-size=\(width),\(height)", "--screenshot=\(screenshot)", "--dump-dom",
                       URL(fileURLWithPath: page).absoluteString]
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: dom))
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try p.run()
        p.waitUntilExit()
        return Run(status: p.terminationStatus,
                   dom: (try? String(contentsOfFile: dom, encoding: .utf8)) ?? "",
                   log: (try? String(contentsOfFile: log, encoding: .utf8)) ?? "",
                   screenshot: screenshot)
    }
}

/// What the page's self-check measured (see `HTMLReport`).
struct SelfCheck: Decodable {
    struct Segment: Decodable {
        var state: String
        var x: Int, y: Int, w: Int, h: Int
        var visible: Bool
    }
    struct Lane: Decodable {
        var node: String
        var counts: [String: Int]
        var segments: [Segment]
    }
    struct Canary: Decodable {
        var series: Int
        var length: Int
    }
    var lanes: [Lane]
    var steps: Int
    var questions: Int
    var windows: Int
    var gaps: Int
    var canary: Canary?
    var dpr: Double
}
