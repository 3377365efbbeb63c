import Cluster
import Foundation
@testable import RabbitMQ
import Testing
import WarrenTestSupport

/// The shell on the real devcluster, driven through a pseudo-terminal as an operator types.
extension RealClusterTests {
    @Test("at the shell on a real cluster a destructive call asks y/N; answered n, nothing reaches the broker")
    func shellDestructiveCallAnsweredNo() throws {
        expectConverged()
        let state = TestDirectory.make("warren-real", file: true)
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: state) }
        let t = try PseudoTerminal(executable: DevClusterFixture.warrenBinary, arguments: ["shell", "--inventory", f.inventoryPath],
                                   environment: ["WARREN_STATE": state, "TERM": "xterm", "EDITRC": state + "/editrc"],
                                   workingDirectory: state, columns: 160, rows: 40)
        try t.expect("]> ", timeout: 60)
        t.send("\(short(n1)):stop()\r")
        let question = try t.expect("[y/N] ", timeout: 60)
        #expect(question.contains("stop \(n1): stops \(n1) (its VM and RabbitMQ)"), "\(question)")
        t.send("n\r")
        try t.expect("nothing was sent to the cluster", timeout: 60)
        try t.expect("]> ", timeout: 60)
        t.send("exit\r")
        #expect(try t.waitForExit(timeout: 60) == 0)
        // The journal has the question and the refusal, and no primitive call.
        let sessions = try FileManager.default.contentsOfDirectory(atPath: state + "/sessions")
        let text = try String(contentsOfFile: "\(state)/sessions/\(sessions[0])/journal.jsonl", encoding: .utf8)
        let entries = text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(entries.contains { $0["kind"] as? String == "confirm_answered" && $0["outcome"] as? String == "no" })
        #expect(!entries.contains { $0["kind"] as? String == "primitive" }, "\(text)")
        // And the broker agrees: n1 still runs, in every member's view.
        #expect(f.ctl(n1, ["ping"], tool: "rabbitmq-diagnostics").code == 0)
        expectConverged()
    }
}
