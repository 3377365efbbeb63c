import Cluster
import Text

/// Where a run shows what it does and asks the operator.
public protocol Console: AnyObject {
    /// Shows text (already newline-terminated where a line ends).
    func write(_ text: String)
    /// Asks the operator for a line of input after showing `prompt`.
    func ask(_ prompt: String) -> ConsoleAnswer
}

public enum ConsoleAnswer: Equatable, Sendable {
    case line(String)
    /// Nothing can be asked: no terminal, or end of input.
    case unavailable
    /// Ctrl-C at the prompt.
    case interrupted
}

/// A console that collects output and cannot ask (plans, tests, drills).
public final class BufferConsole: Console {
    public private(set) var text = ""
    public var echo: ((String) -> Void)?
    public init(echo: ((String) -> Void)? = nil) { self.echo = echo }
    public func write(_ text: String) {
        let text = PrintableText.escapingControls(text)
        self.text += text
        echo?(text)
    }
    public func ask(_ prompt: String) -> ConsoleAnswer {
        write(prompt)
        return .unavailable
    }
}
