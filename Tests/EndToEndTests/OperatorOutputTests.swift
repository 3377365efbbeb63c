import Foundation
import Testing

/// What an operator reads: names from the cluster cannot drive the terminal, a runbook's bytes are
/// kept, simulated time says so, and the definitions backup is private to the session.
@Suite("Operator output, end to end")
struct OperatorOutputTests {
    /// A queue name with an escape sequence (clear screen), a carriage return and a bell.
    static let evil = "evil\u{1B}[2J\r\u{07}q"
    static let shown = #"evil\x1B[2J\x0D\x07q"#

    func hasControls(_ text: String) -> Bool {
        text.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n" && $0 != "\t") || (0x7F...0x9F).contains($0.value) }
    }

    @Test("control characters in a queue name are escaped in a run's output, in queues and in the recording; JSON keeps the name")
    func controlCharactersEscaped() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let sim = w.state + "/cluster.sim"
        let runbook = w.state + "/evil.lua"
        try """
            runbook { name = "evil", summary = "declares a queue whose name holds control characters" }
            step("declare", function()
              cluster.declare_queue{ name = "evil\\27[2J\\r\\7q", type = "quorum" }
              for _, q in ipairs(cluster.queues()) do
                if q.name:sub(1, 4) == "evil" then say("declared " .. q.name) end
              end
            end)
            """.write(toFile: runbook, atomically: true, encoding: .utf8)
        let run = try w.run(["run", runbook, "--sim-state", sim, "--yes"])
        #expect(run.code == 0, "\(run.output)")
        #expect(run.output.contains("declared " + Self.shown) && !hasControls(run.output), "\(run.output.debugDescription)")
        let cast = try String(contentsOfFile: w.state + "/sessions/\(try #require(w.sessions.last))/session.cast", encoding: .utf8)
        #expect(cast.contains(Self.shown.replacingOccurrences(of: "\\", with: "\\\\")), "the recording holds the escaped name")

        let queues = try w.run(["queues", "--sim-state", sim])
        #expect(queues.code == 0 && queues.output.contains(Self.shown) && !hasControls(queues.output), "\(queues.output.debugDescription)")
        let json = try w.run(["queues", "--sim-state", sim, "--format", "json"])
        let names = try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any]
        let rows = names?["queues"] as? [[String: Any]] ?? []
        #expect(rows.compactMap { $0["name"] as? String }.filter { $0.hasPrefix("evil") } == [Self.evil], "\(json.output)")
    }

    @Test("a line typed at the shell keeps bytes that are not UTF-8, and they show as \\xNN, never U+FFFD")
    func shellKeepsBytes() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let line: [UInt8] = Array("=#\"caf".utf8) + [0xE9] + Array("\", \"caf".utf8) + [0xE9] + Array("\"\n".utf8)
        let r = try w.run([], inputBytes: line)
        #expect(r.code == 0, "\(r.output)")
        #expect(r.output == "4\t\"caf\\xE9\"\n", "\(r.output.debugDescription)")
        #expect(!r.output.contains("\u{FFFD}"))
    }

    @Test("durations on the simulator are marked simulated")
    func simulatedDurations() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let r = try w.run(["run", "rolling-restart", "--sim", "3", "--yes"])
        #expect(r.code == 0, "\(r.output)")
        let timed = r.output.split(separator: "\n").filter { $0.contains(" ok (") || $0.hasPrefix("✔ [") }
        #expect(!timed.isEmpty && timed.allSatisfy { $0.hasSuffix(" simulated)") }, "\(timed)")
    }

    @Test("reset-node backs the definitions up into the session's directory, readable by the operator only")
    func definitionsBackup() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let r = try w.run(["run", "reset-node", "--sim", "3", "--param", "node=rabbit@n3", "--yes"])
        #expect(r.code == 0, "\(r.output)")
        let path = w.state + "/sessions/\(try #require(w.sessions.last))/definitions-backup.json"
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600, "\(path): \(String(mode ?? 0, radix: 8))")
        #expect(r.output.contains("definitions saved to \(path)"), "\(r.output)")
        #expect(!FileManager.default.fileExists(atPath: w.state + "/definitions-backup.json"), "nothing is written to the working directory")
    }
}
