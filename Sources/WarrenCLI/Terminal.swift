import Foundation
import LineEditor
import Lua
import Runbook
import Sessions

/// The process's terminal: standard output for output (a closed pipe is ignored), a line editor
/// (no history) for answers.
final class ProcessTerminal: Terminal {
    let isInteractive: Bool
    private lazy var editor = LineEditor(historyFile: nil)

    init() {
        isInteractive = isatty(0) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    }

    var size: (width: Int, height: Int) {
        var ws = winsize()
        if ioctl(1, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0 { return (Int(ws.ws_col), Int(ws.ws_row)) }
        return (100, 30)
    }

    /// Text from the session's console (escaped there) and the live wait line's own sequences.
    func write(_ text: String) { Output.raw(text) }

    func ask(_ prompt: String) -> ConsoleAnswer {
        let read = editor.readLine(prompt: prompt)
        // SIGTERM or SIGHUP at the prompt: the input was closed under it; that is an interruption.
        if LuaState.terminationSignal != nil { return .interrupted }
        switch read {
        case .line(let l): return .line(l)
        case .interrupted: return .interrupted
        case .endOfInput: return .unavailable
        }
    }
}
