import Cluster
import Foundation
import Runbook

/// The recording of a shell session, and the guard its primitives pass through: a session
/// directory with a journal (every primitive typed, with its confirmations) and a cast. A shell
/// session is listed by `warren sessions` but never resumed.
public final class ShellSession {
    public let id: String
    public let directory: String
    public let target: ClusterTarget
    public let recorder: SessionRecorder?
    /// The guard of the primitives typed at the shell.
    public let primitiveGuard: PrimitiveGuard
    /// The bindings (cluster, node methods, faults) to install into the shell's Lua state.
    public let bindings: ClusterBindings
    /// Set when a refusal or a failure stopped what a line ran (even inside a `pcall`).
    public let latch = RunLatch()
    private let journal: SessionJournal
    private let owner: SessionOwner

    /// Opens the session.
    /// - Parameters:
    ///   - console: where the shell shows output and asks confirmations (its line editor).
    ///   - size: the terminal's size, for the recording.
    /// - Throws: when the session directory or journal cannot be written.
    public init(runner: SessionRunner, target: ClusterTarget, console: Console, size: (width: Int, height: Int)) throws {
        self.target = target
        id = SessionStore.makeID()
        directory = runner.paths.session(id)
        try StatePaths.ensureDirectory(directory)
        try writeAtomically(try JSONEncoder().encode(target.spec), to: directory + "/target.json")
        owner = SessionOwner.claim(directory)
        // Not attached to the directory: a shell session is never resumed, so a simulated cluster
        // is saved only where it is kept on purpose (`--sim-state`).
        let writer = try JournalWriter(path: directory + "/journal.jsonl", redact: { [r = target.redactor] in r.redact($0) })
        writer.beforeWrite = { try target.persist() }
        journal = SessionJournal(writer: writer, clock: { target.backend.now() }, latch: latch)
        let identity = target.identity()
        journal.append(.sessionStart(.init(mode: .shell, runbook: "shell", target: target.backend.targetDescription,
                                           cluster: identity.name, clusterID: identity.id)))
        recorder = try? SessionRecorder(path: directory + "/session.cast", width: size.width, height: size.height,
                                        title: "warren shell on \(target.backend.targetDescription)", redactor: target.redactor)
        let questions = Questions(console: console, journal: journal, latch: latch, mode: .shell)
        primitiveGuard = PrimitiveGuard(backend: target.backend, console: console, journal: journal, questions: questions,
                                        latch: latch, caller: .shell(confirmsChanges: target.confirmsShellChanges), session: id)
        primitiveGuard.checkpoint = { try target.persist(checkpoint: $0) }
        bindings = ClusterBindings(target: target)
        bindings.afterFault = { try target.persist() }
        bindings.observer = primitiveGuard
        target.commandLog = { [journal] record in
            journal.append(.command(.init(tool: record.kind.rawValue, commandLine: record.argv.joined(separator: " "),
                                          exitCode: String(record.exitCode),
                                          output: record.output.isEmpty ? nil : String(record.output.suffix(2000)),
                                          duration: record.duration)))
        }
        self.runner = runner
    }

    private let runner: SessionRunner

    /// Saves the target if a line changed it (a fault typed at the shell, time passing).
    public func persist() { try? target.persist() }

    /// What the shell waits for, shown on its terminal and recorded (see ``WaitDisplay``); all
    /// of the shell's output then goes through it.
    public private(set) var display: WaitDisplay?

    /// Starts showing the waits of the target and of the primitives typed at the shell.
    /// - Parameters:
    ///   - terminal: where output goes (already redacted).
    ///   - live: whether the terminal shows a live line.
    public func showWaits(terminal: @escaping (String) -> Void, live: Bool, width: @escaping () -> Int) -> WaitDisplay {
        let d = WaitDisplay(terminal: terminal, live: live, width: width, record: recorder.map { r in { r.output($0) } },
                            journal: { [journal] in journal.append($0) })
        display = d
        target.waits = d.waits
        primitiveGuard.waits = d.waits
        return d
    }

    /// Ends the session: its end entry, the report, the recording.
    public func close() {
        display?.stop()
        target.waits = nil
        journal.append(.sessionEnd(.init(outcome: "done")))
        target.commandLog = nil
        try? target.persist()
        recorder?.close()
        runner.writeReport(id: id, target: target, entries: journal.writer?.written)
        owner.release(directory)
    }
}
