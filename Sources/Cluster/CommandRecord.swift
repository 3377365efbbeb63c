/// One command the real backend ran (a CLI tool, a start/stop command, or an HTTP request), or a
/// pause between two polls of the broker (`wait`), as handed to ``RabbitMQBackend/onCommand`` for
/// the journal. Output is already redacted.
public struct CommandRecord: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable { case cli, shell, http, wait }
    public var kind: Kind
    /// The argument vector (for HTTP: method and URL; for a wait: what was waited for).
    public var argv: [String]
    /// The exit code (HTTP: the status code; -1 when the process timed out or the request failed).
    public var exitCode: Int32
    /// Wall-clock seconds.
    public var duration: Double
    /// Standard output and error (HTTP: the body), redacted, at most a few kilobytes.
    public var output: String
    public var timedOut: Bool

    public init(kind: Kind, argv: [String], exitCode: Int32, duration: Double, output: String, timedOut: Bool) {
        self.kind = kind
        self.argv = argv
        self.exitCode = exitCode
        self.duration = duration
        self.output = output
        self.timedOut = timedOut
    }
}
