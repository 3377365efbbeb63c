/// A failure of a cluster primitive, with the meaning, exit code and wording of the RabbitMQ CLI.
public struct ClusterError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The CLI tools' exit codes (sysexits).
    public enum Code: Int32, Codable, Sendable {
        /// 64: bad usage, or the command does not apply in the node's state.
        case usage = 64
        /// 65: bad input data.
        case dataError = 65
        /// 69: the node or service is unavailable, or a check failed.
        case unavailable = 69
        /// 70: internal software error, e.g. "cannot cluster node with itself".
        case software = 70
        /// 75: timed out.
        case timeout = 75
        /// 78: Erlang distribution failed.
        case distribution = 78
        /// 130 (128 + SIGINT): interrupted by the operator (Ctrl-C) before it finished.
        case interrupted = 130
    }

    public var code: Code
    /// What happened, in the CLI's words where the CLI has words for it.
    public var message: String
    /// The node the primitive was called on, if any.
    public var node: String?

    public init(_ code: Code, _ message: String, node: String? = nil) {
        self.code = code
        self.message = message
        self.node = node
    }

    public var description: String { message }

    /// An unknown node name; lists the known ones.
    public static func unknownNode(_ name: String, known: [String]) -> ClusterError {
        ClusterError(.usage, "unknown node '\(name)'; known nodes: \(known.joined(separator: ", "))")
    }

    /// The `rabbit` application must be stopped first (join_cluster, reset, force_reset).
    public static func appMustBeStopped(_ node: String) -> ClusterError {
        ClusterError(.usage, "this command requires the 'rabbit' app to be stopped on the target node", node: node)
    }

    /// The node's VM is not running or cannot be contacted.
    public static func nodeDown(_ node: String) -> ClusterError {
        ClusterError(.unavailable, "unable to perform an operation on node '\(node)'. Please see diagnostics information and suggestions below.\nthe node is not running or cannot be contacted", node: node)
    }

    public static func timeout(_ node: String?, _ what: String) -> ClusterError {
        ClusterError(.timeout, "timed out: \(what)", node: node)
    }
}
