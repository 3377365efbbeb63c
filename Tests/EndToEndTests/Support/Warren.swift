import Foundation
import WarrenTestSupport

/// Runs the built `warren` binary for end-to-end tests, each in its own state directory.
struct Warren {
    let executable: String
    let state: String
    let packageRoot: String

    init(file: StaticString = #filePath) throws {
        executable = try PseudoTerminal.warrenExecutable(file: file)
        packageRoot = URL(fileURLWithPath: executable).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        state = NSTemporaryDirectory() + "warren-e2e-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
    }

    var environment: [String: String] {
        // EDITRC: the tests' own libedit settings file (absent unless a test writes it), never ~/.editrc.
        ["WARREN_STATE": state, "WARREN_RUNBOOKS": packageRoot + "/runbooks", "TERM": "xterm", "EDITRC": state + "/editrc"]
    }

    /// A terminal session of `warren ARGS`.
    func terminal(_ args: [String] = [], columns: UInt16 = 120) throws -> PseudoTerminal {
        try PseudoTerminal(executable: executable, arguments: args, environment: environment,
                           workingDirectory: state, columns: columns, rows: 40)
    }

    /// `warren ARGS` with stdin from `input` (not a terminal); returns exit code and output.
    @discardableResult
    func run(_ args: [String], input: String = "", inputBytes: [UInt8]? = nil, timeout: Double = 120,
             environment extra: [String: String] = [:]) throws -> (code: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }.merging(extra) { $1 }
        p.currentDirectoryURL = URL(fileURLWithPath: state)
        let stdin = Pipe(), stdout = Pipe()
        p.standardInput = stdin
        p.standardOutput = stdout
        p.standardError = stdout
        try p.run()
        stdin.fileHandleForWriting.write(Data(inputBytes ?? Array(input.utf8)))
        try stdin.fileHandleForWriting.close()
        let collected = Collected()
        let reader = Thread { collected.data = stdout.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(10_000) }
        if p.isRunning { p.terminate() }
        p.waitUntilExit()
        while !reader.isFinished { usleep(1_000) }
        return (p.terminationStatus, String(decoding: collected.data, as: UTF8.self))
    }

    /// Sessions recorded so far, oldest first: by their start entry's time (ids of one second do
    /// not sort by time), then by id.
    var sessions: [String] {
        let ids = (try? FileManager.default.contentsOfDirectory(atPath: state + "/sessions")) ?? []
        let started = Dictionary(uniqueKeysWithValues: ids.map { ($0, journal($0).first?["time"] as? Double ?? 0) })
        return ids.sorted { (started[$0]!, $0) < (started[$1]!, $1) }
    }

    /// A simulated cluster's saved state file, as JSON.
    func simState(_ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    func journal(_ session: String) -> [[String: Any]] {
        let text = (try? String(contentsOfFile: state + "/sessions/\(session)/journal.jsonl", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    func cleanUp() { try? FileManager.default.removeItem(atPath: state) }
}

final class Collected: @unchecked Sendable { var data = Data() }
