import Cluster
import Foundation
import Runbook

/// The operator's terminal (or a pipe).
public protocol Terminal: AnyObject {
    /// Whether a person can answer questions (stdin is a terminal).
    var isInteractive: Bool { get }
    var size: (width: Int, height: Int) { get }
    func write(_ text: String)
    /// Shows `prompt` and reads one answer.
    func ask(_ prompt: String) -> ConsoleAnswer
}

/// A session's console: redacts, shows on the terminal, and records into the session's cast.
public final class RecordingConsole: Console {
    let terminal: Terminal
    let recorder: SessionRecorder?
    let redactor: Redactor
    /// Shows what the session waits for; all output goes through it (nil: output goes straight
    /// to the terminal and the recording).
    var display: WaitDisplay?

    public init(terminal: Terminal, recorder: SessionRecorder?, redactor: Redactor) {
        self.terminal = terminal
        self.recorder = recorder
        self.redactor = redactor
    }

    public func write(_ text: String) {
        let clean = redactor.redact(text)
        if let display { return display.write(clean) }
        terminal.write(clean)
        recorder?.output(clean)
    }

    /// A display of the session's waits on this console's terminal and recording.
    func makeWaitDisplay(journal: ((JournalEvent) -> Void)?, step: @escaping () -> String?) -> WaitDisplay {
        let d = WaitDisplay(terminal: { [terminal, redactor] in terminal.write(redactor.redact($0)) }, live: terminal.isInteractive,
                            width: { [terminal] in terminal.size.width },
                            record: recorder.map { r in { [redactor] in r.output(redactor.redact($0)) } },
                            journal: journal, step: step)
        display = d
        return d
    }

    public func ask(_ prompt: String) -> ConsoleAnswer {
        let clean = redactor.redact(prompt)
        guard terminal.isInteractive else {
            write(prompt)
            return .unavailable
        }
        recorder?.output(clean)
        let answer = terminal.ask(clean)
        switch answer {
        case .line(let l): recorder?.input(redactor.redact(l) + "\n")
        case .interrupted: recorder?.output("^C\n")
        case .unavailable: recorder?.output("\n")
        }
        return answer
    }
}

/// A terminal that shows nothing, keeps the text, and answers from a closure (nil: no answer):
/// what drills, sweeps and tests run sessions with.
public final class ScriptedTerminal: Terminal {
    public private(set) var text = ""
    public var keep: Bool
    public var answer: (String) -> String?
    public let isInteractive: Bool
    public var size: (width: Int, height: Int) { (100, 30) }

    /// - Parameter interactive: whether questions may be asked (answered by `answer`).
    public init(keep: Bool = true, interactive: Bool = true, answer: @escaping (String) -> String? = { _ in nil }) {
        self.keep = keep
        self.isInteractive = interactive
        self.answer = answer
    }

    public func write(_ t: String) { if keep { text += t } }

    public func ask(_ prompt: String) -> ConsoleAnswer {
        write(prompt)
        guard let a = answer(prompt) else { return .unavailable }
        write(a + "\n")
        return .line(a)
    }

    /// The last lines shown, for a failure message.
    public func tail(_ n: Int = 12) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: true).suffix(n).joined(separator: "\n")
    }
}
