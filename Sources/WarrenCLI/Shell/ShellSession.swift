import Cluster
import Foundation
import LineEditor
import Runbook
import Sessions

/// The recording of a shell session: a journal of the primitives typed, and a cast.
final class ShellSession {
    let id: String
    let directory: String
    let journal: JournalWriter
    let recorder: SessionRecorder?
    let target: Target
    let paths: StatePaths

    init?(target: Target, paths: StatePaths) {
        self.target = target
        self.paths = paths
        id = SessionStore.makeID()
        directory = paths.session(id)
        do {
            try StatePaths.ensureDirectory(directory)
            try writeAtomically(try JSONEncoder().encode(target.spec), to: directory + "/target.json")
            journal = try JournalWriter(path: directory + "/journal.jsonl", redact: { [r = target.redactor] in r.redact($0) })
            try journal.append(JournalEntry(kind: .sessionStart, clock: target.backend.now(), runbook: "shell",
                                            target: target.backend.targetDescription,
                                            cluster: try? target.backend.status().clusterName))
        } catch {
            return nil
        }
        var ws = winsize()
        let size = ioctl(1, UInt(TIOCGWINSZ), &ws) == 0 && ws.ws_col > 0 ? (Int(ws.ws_col), Int(ws.ws_row)) : (100, 30)
        recorder = try? SessionRecorder(path: directory + "/session.cast", width: size.0, height: size.1,
                                        title: "warren shell on \(target.backend.targetDescription)", redactor: target.redactor)
    }

    func append(_ entry: JournalEntry) { try? journal.append(entry) }

    func close() {
        append(JournalEntry(kind: .sessionEnd, clock: target.backend.now(), outcome: "done"))
        recorder?.close()
        if let entries = try? JournalReader.read(directory + "/journal.jsonl") {
            try? ReportWriter.write(to: directory + "/report.md", entries: entries, finalStatus: try? target.backend.status(),
                                    queues: try? target.backend.queues(type: nil), invariants: target.simulator?.invariants(),
                                    sessionID: id, redactor: target.redactor)
        }
    }
}

/// Output of the shell: redacted, shown, recorded. Questions go through the line editor.
final class ShellTerminal: Terminal {
    let editor: LineEditor
    let recorder: SessionRecorder?
    let redactor: Redactor

    init(editor: LineEditor, recorder: SessionRecorder?, redactor: Redactor) {
        self.editor = editor
        self.recorder = recorder
        self.redactor = redactor
    }

    var isInteractive: Bool { editor.isInteractive }

    var size: (width: Int, height: Int) {
        var ws = winsize()
        if ioctl(1, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0 { return (Int(ws.ws_col), Int(ws.ws_row)) }
        return (100, 30)
    }

    func write(_ text: String) {
        let clean = redactor.redact(text)
        FileHandle.standardOutput.write(Data(clean.utf8))
        recorder?.output(clean)
    }

    /// Records what the terminal showed without printing it (the editor echoed it already).
    func record(_ text: String) { recorder?.output(redactor.redact(text)) }

    func ask(_ prompt: String) -> ConsoleAnswer {
        guard editor.isInteractive else { return .unavailable }
        switch editor.readLine(prompt: prompt) {
        case .line(let l): return .line(l)
        case .interrupted: return .interrupted
        case .endOfInput: return .unavailable
        }
    }
}

/// Primitives typed at the shell: shown with their outcome, journaled, and guarded like a
/// runbook's (the quorum interlock; on a real cluster, a y/N before anything destructive).
final class ShellObserver: PrimitiveObserver {
    let target: Target
    let terminal: ShellTerminal
    let session: ShellSession?
    private var open = false

    init(target: Target, terminal: ShellTerminal, session: ShellSession?) {
        self.target = target
        self.terminal = terminal
        self.session = session
    }

    private func confirm(_ question: String) -> Bool {
        terminal.record("? \(question) [y/N] ")
        guard case .line(let a) = terminal.ask("? \(question) [y/N] ") else { return false }
        terminal.record(a + "\n")
        return ["y", "yes"].contains(a.lowercased().trimmingCharacters(in: .whitespaces))
    }

    func willCall(_ call: PrimitiveCall) throws -> Bool {
        if call.kind == .read { return true }
        let what = call.node.map { "\(call.name) on \($0)" } ?? call.name
        if call.interlocked, let node = call.node, !RunbookEngine.drained(node, target.backend) {
            let critical = (try? target.backend.quorumCritical(node)) ?? []
            if !critical.isEmpty {
                let why = "\(node) is quorum-critical for \(RunbookEngine.list(critical)): \(call.name) would leave \(critical.count == 1 ? "it" : "them") without a majority"
                guard call.unsafe else {
                    throw RunbookError.failed("refused: \(why). Nothing was sent. Pass {unsafe = true} to override (asks for confirmation)")
                }
                guard confirm("UNSAFE: \(why). Proceed?") else { throw RunbookError.refused("\(what) not confirmed; nothing was sent") }
            }
        }
        if call.kind == .destructive && target.simulator == nil && !call.unsafe {
            guard confirm("\(what) on the real cluster \(target.backend.targetDescription)?") else {
                throw RunbookError.refused("\(what) not confirmed; nothing was sent")
            }
        }
        session?.append(JournalEntry(kind: .primitive, clock: target.backend.now(), primitive: call.name, phase: "call",
                                     node: call.node, args: call.args.isEmpty ? nil : call.args))
        terminal.write("  · \(call.node.map { "\($0) " } ?? "")\(call.name)\(call.args.isEmpty ? "" : " " + RunbookEngine.describe(call.args)) …")
        open = true
        return true
    }

    func didCall(_ call: PrimitiveCall, error: Error?, duration: Double) {
        if call.kind == .read { return }
        session?.append(JournalEntry(kind: .primitive, clock: target.backend.now(), primitive: call.name, phase: "result",
                                     node: call.node, outcome: error == nil ? "ok" : "failed", message: error.map { "\($0)" },
                                     duration: duration))
        if open {
            terminal.write(error == nil ? " ok (\(RunbookEngine.duration(duration)))\n" : " failed\n")
            open = false
        }
        if let path = target.spec.simState { try? target.saveSimulator(to: path) }
    }
}
