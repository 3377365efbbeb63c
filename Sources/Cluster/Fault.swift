/// A fault injected into a cluster: by `fault.NAME(...)` in Lua, by a drill's `faults`, by a sweep.
///
/// The list of faults is defined here once ([`Fault.catalog`](x-source-tag://Fault.catalog)); the
/// Lua bindings and the drill parser both build faults from it by name. A target that cannot
/// inject a fault refuses it with a message saying why (``FaultInjecting/inject(_:)``).
public enum Fault: Equatable, Sendable, CustomStringConvertible {
    /// The node's VM is killed at once (no graceful stop; it does not count as stopped last).
    case kill(node: String)
    /// The node's next boot fails.
    case failNextBoot(node: String)
    /// The node's boots take this many extra seconds.
    case slowBoot(node: String, seconds: Double)
    /// Two sides of the cluster cannot reach each other (both directions).
    case partition(a: [String], b: [String])
    /// Every partition is removed.
    case heal
    /// The node loses its data directory (its disk was replaced); it is stopped.
    case loseDisk(node: String)
    /// A resource alarm (`memory` or `disk`) is raised or cleared on the node.
    case alarm(node: String, kind: String, raised: Bool)
    /// The node gets a different Erlang cookie: it can no longer reach its peers or the CLI.
    case changeCookie(node: String)
    /// The node gets the cluster's cookie back.
    case restoreCookie(node: String)
    /// The node's next `upgrade` fails, as a failing inventory `upgrade:` command does.
    case failNextUpgrade(node: String)
    /// The node's outgoing packets are delayed (netem delay); `heal` removes it. Only a devcluster
    /// with hosts has a network to slow down.
    case delay(node: String, seconds: Double)

    /// One parameter of a fault: its key in a drill's table, and what it holds.
    public enum Parameter: String, Sendable, CaseIterable {
        case node, seconds, a, b, alarm, raised

        var help: String {
            switch self {
            case .node: return "node = \"n1\""
            case .seconds: return "seconds = N"
            case .a: return "a = {\"n1\"}"
            case .b: return "b = {\"n2\", \"n3\"}"
            case .alarm: return "alarm = \"memory\"|\"disk\""
            case .raised: return "raised = true|false"
            }
        }
    }

    /// A kind of fault: its name and its parameters, in the order `fault.NAME(...)` takes them.
    public struct Kind: Sendable {
        public var name: String
        public var parameters: [Parameter]
        /// Parameters that may be left out (with their default).
        public var optional: Set<Parameter> = []
        public var summary: String
    }

    /// Every fault there is. (x-source-tag://Fault.catalog)
    public static let catalog: [Kind] = [
        Kind(name: "kill", parameters: [.node], summary: "kill the node's VM at once"),
        Kind(name: "fail_next_boot", parameters: [.node], summary: "the node's next boot fails"),
        Kind(name: "slow_boot", parameters: [.node, .seconds], summary: "the node's boots take SECONDS longer"),
        Kind(name: "partition", parameters: [.a, .b], summary: "nodes in A and nodes in B cannot reach each other"),
        Kind(name: "heal", parameters: [], summary: "remove every partition"),
        Kind(name: "lose_disk", parameters: [.node], summary: "the node loses its data directory and stops"),
        Kind(name: "alarm", parameters: [.node, .alarm, .raised], optional: [.alarm, .raised],
             summary: "raise (or clear) a memory or disk alarm on the node"),
        Kind(name: "change_cookie", parameters: [.node], summary: "give the node a different Erlang cookie"),
        Kind(name: "restore_cookie", parameters: [.node], summary: "give the node the cluster's cookie back"),
        Kind(name: "fail_next_upgrade", parameters: [.node], summary: "the node's next upgrade command fails (nothing is installed)"),
        Kind(name: "delay", parameters: [.node, .seconds], summary: "delay the node's outgoing packets by SECONDS (heal removes it; devcluster with hosts)"),
    ]

    public static var names: [String] { catalog.map(\.name) }

    /// A value given for a parameter.
    public enum Value: Equatable, Sendable {
        case string(String)
        case strings([String])
        case number(Double)
        case bool(Bool)
    }

    /// Why a fault could not be built or injected.
    public struct Refusal: Error, CustomStringConvertible, Sendable {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// Builds the fault `name` from its parameters' values.
    /// - Throws: ``Refusal`` naming the unknown fault, or the missing or mistyped parameter.
    public static func make(_ name: String, _ values: [Parameter: Value]) throws -> Fault {
        guard let kind = catalog.first(where: { $0.name == name }) else {
            throw Refusal("unknown fault '\(name)' (known: \(names.joined(separator: ", ")))")
        }
        func usage() -> String {
            "fault '\(name)' takes " + (kind.parameters.isEmpty ? "no parameters"
                : kind.parameters.map { kind.optional.contains($0) ? "[\($0.help)]" : $0.help }.joined(separator: ", "))
        }
        func string(_ p: Parameter) throws -> String? {
            switch values[p] {
            case nil: return nil
            case .string(let s)?: return s
            default: throw Refusal("\(usage()): '\(p.rawValue)' must be a name")
            }
        }
        func node() throws -> String {
            guard let n = try string(.node) else { throw Refusal("\(usage()): 'node' is missing") }
            return n
        }
        func side(_ p: Parameter) throws -> [String] {
            switch values[p] {
            case .strings(let s)? where !s.isEmpty: return s
            case .string(let s)?: return [s]
            default: throw Refusal("\(usage()): '\(p.rawValue)' must be a non-empty list of nodes")
            }
        }
        switch name {
        case "kill": return .kill(node: try node())
        case "fail_next_boot": return .failNextBoot(node: try node())
        case "slow_boot":
            guard case .number(let s)? = values[.seconds], s.isFinite, s >= 0 else {
                throw Refusal("\(usage()): 'seconds' must be a number of seconds, 0 or more")
            }
            return .slowBoot(node: try node(), seconds: s)
        case "partition": return .partition(a: try side(.a), b: try side(.b))
        case "heal": return .heal
        case "lose_disk": return .loseDisk(node: try node())
        case "alarm":
            let kind = try string(.alarm) ?? "memory"
            guard kind == "memory" || kind == "disk" else { throw Refusal("\(usage()): alarm '\(kind)' is neither memory nor disk") }
            var raised = true
            switch values[.raised] {
            case nil: break
            case .bool(let b)?: raised = b
            default: throw Refusal("\(usage()): 'raised' must be true or false")
            }
            return .alarm(node: try node(), kind: kind, raised: raised)
        case "change_cookie": return .changeCookie(node: try node())
        case "fail_next_upgrade": return .failNextUpgrade(node: try node())
        case "delay":
            guard case .number(let s)? = values[.seconds], s.isFinite, s > 0, s <= 10 else {
                throw Refusal("\(usage()): 'seconds' must be a delay of more than 0 and at most 10 seconds")
            }
            return .delay(node: try node(), seconds: s)
        default: return .restoreCookie(node: try node())
        }
    }

    /// The fault's name in the catalog.
    public var name: String {
        switch self {
        case .kill: return "kill"
        case .failNextBoot: return "fail_next_boot"
        case .slowBoot: return "slow_boot"
        case .partition: return "partition"
        case .heal: return "heal"
        case .loseDisk: return "lose_disk"
        case .alarm: return "alarm"
        case .changeCookie: return "change_cookie"
        case .restoreCookie: return "restore_cookie"
        case .failNextUpgrade: return "fail_next_upgrade"
        case .delay: return "delay"
        }
    }

    /// The nodes the fault names.
    public var nodes: [String] {
        switch self {
        case .kill(let n), .failNextBoot(let n), .slowBoot(let n, _), .loseDisk(let n), .alarm(let n, _, _),
             .changeCookie(let n), .restoreCookie(let n), .failNextUpgrade(let n), .delay(let n, _): return [n]
        case .partition(let a, let b): return a + b
        case .heal: return []
        }
    }

    /// The same fault with its node names replaced (e.g. short names resolved to full ones).
    public func mapNodes(_ f: (String) throws -> String) rethrows -> Fault {
        switch self {
        case .kill(let n): return .kill(node: try f(n))
        case .failNextBoot(let n): return .failNextBoot(node: try f(n))
        case .slowBoot(let n, let s): return .slowBoot(node: try f(n), seconds: s)
        case .partition(let a, let b): return .partition(a: try a.map(f), b: try b.map(f))
        case .heal: return .heal
        case .loseDisk(let n): return .loseDisk(node: try f(n))
        case .alarm(let n, let k, let r): return .alarm(node: try f(n), kind: k, raised: r)
        case .changeCookie(let n): return .changeCookie(node: try f(n))
        case .restoreCookie(let n): return .restoreCookie(node: try f(n))
        case .failNextUpgrade(let n): return .failNextUpgrade(node: try f(n))
        case .delay(let n, let s): return .delay(node: try f(n), seconds: s)
        }
    }

    public var description: String {
        switch self {
        case .slowBoot(let n, let s): return "slow_boot \(n) \(s)s"
        case .partition(let a, let b): return "partition [\(a.joined(separator: ","))] | [\(b.joined(separator: ","))]"
        case .alarm(let n, let k, let r): return "alarm \(n) \(k)\(r ? "" : " cleared")"
        case .delay(let n, let s): return "delay \(n) \(Int((s * 1000).rounded())) ms"
        default: return ([name] + nodes).joined(separator: " ")
        }
    }
}

/// A target that faults can be injected into.
public protocol FaultInjecting: AnyObject {
    /// Injects the fault. Throws ``Fault/Refusal`` when this target cannot (saying why), or a
    /// ``ClusterError`` for an unknown node.
    func inject(_ fault: Fault) throws
}
