import Cluster
import Foundation
import Lua

/// How a primitive touches the cluster; decides confirmations, interlocks and plan behaviour.
public enum PrimitiveKind: Sendable {
    /// Reads only; not journaled.
    case read
    /// Waits for something (journaled; skipped in a dry plan).
    case wait
    /// Changes the cluster without taking anything away (start, join, grow...).
    case change
    /// Takes something away (stop, reset, forget, drain...): needs a confirmation in the same step.
    case destructive
}

/// A primitive about to be called, as the engine sees it.
public struct PrimitiveCall: Sendable {
    public var name: String
    public var node: String?
    public var args: [String: String]
    public var kind: PrimitiveKind
    /// Refused on a quorum-critical node unless `unsafe` (stop, stop_app, reset, force_reset, forget).
    public var interlocked: Bool
    public var unsafe: Bool
    /// What a destructive primitive does, in the words a confirmation shows.
    public var effect: String?

    public init(name: String, node: String? = nil, args: [String: String] = [:], kind: PrimitiveKind,
                interlocked: Bool = false, unsafe: Bool = false, effect: String? = nil) {
        self.name = name
        self.node = node
        self.args = args
        self.kind = kind
        self.interlocked = interlocked
        self.unsafe = unsafe
        self.effect = effect
    }
}

/// What the bindings ask of whoever runs the Lua code (the engine, or the shell).
public protocol PrimitiveObserver: AnyObject {
    /// Called before a primitive; throwing refuses it (nothing is sent to the cluster).
    /// Returning false skips it (a dry plan).
    func willCall(_ call: PrimitiveCall) throws -> Bool
    /// Called after the primitive, with its error if it failed.
    func didCall(_ call: PrimitiveCall, error: Error?, duration: Double)
}

/// A primitive that failed, as Lua code receives it: a table with `code` (the exit code the real
/// CLI gives for it: 69 unavailable or refused by the server, 64 usage, 75 timeout...),
/// `message`, `node` and `primitive`; `tostring(err)` is the message. The same on every backend,
/// so a runbook or a drill can branch on `err.code`.
public struct PrimitiveFailure: LuaErrorValue, CustomStringConvertible {
    public var primitive: String
    public var error: ClusterError
    public var luaMessage: String { error.message }
    public var luaFields: [String: LuaValue] {
        var fields: [String: LuaValue] = ["code": .int(Int64(error.code.rawValue)), "primitive": .string(primitive)]
        if let node = error.node { fields["node"] = .string(node) }
        return fields
    }
    public var description: String { error.message }
}

/// The node userdata: `cluster.node("n1")`, `node:stop()`, `node.name`, `node.short`.
final class NodeHandle {
    let name: String
    let short: String
    init(name: String, short: String) {
        self.name = name
        self.short = short
    }
}

/// Short names for nodes: the host part (`n1` of `rabbit@n1`) when unique among the target's
/// nodes, else the name part (`rabbit1` of `rabbit1@localhost`), else the full name.
public func shortNodeNames(_ names: [String]) -> [String: String] {
    func parts(_ n: String) -> (String, String) {
        let p = n.split(separator: "@", maxSplits: 1).map(String.init)
        return p.count == 2 ? (p[0], p[1]) : (n, n)
    }
    let hosts = names.map { parts($0).1 }, locals = names.map { parts($0).0 }
    var out: [String: String] = [:]
    for n in names {
        let (l, h) = parts(n)
        if hosts.filter({ $0 == h }).count == 1 { out[n] = h } else if locals.filter({ $0 == l }).count == 1 { out[n] = l } else { out[n] = n }
    }
    return out
}

/// Installs `cluster`, node objects and (where the target accepts faults) `fault` into a Lua state.
public final class ClusterBindings {
    public let backend: Backend
    let faults: FaultInjecting?
    let invariants: () -> InvariantReport?
    public weak var observer: PrimitiveObserver?
    /// Called after a fault is injected (the target saves its state: a fault is a change of the world).
    public var afterFault: (() throws -> Void)?

    /// - Parameters:
    ///   - faults: where `fault.*` injects faults (nil: no `fault` table).
    ///   - invariants: what `fault.invariants()` reports.
    public init(backend: Backend, faults: FaultInjecting? = nil, invariants: @escaping () -> InvariantReport? = { nil }) {
        self.backend = backend
        self.faults = faults
        self.invariants = invariants
    }

    /// The bindings of a target: its backend, faults and invariants.
    public convenience init(target: ClusterTarget) {
        self.init(backend: target.backend, faults: target.faults, invariants: { [weak target] in target?.invariants() })
    }

    static let nodeType = "node"

    public func install(into lua: LuaState) {
        lua.defineType(LuaObjectType(
            name: ClusterBindings.nodeType,
            methods: ClusterBindings.raisingFailures(nodeMethods()),
            field: { obj, key in
                guard let n = obj as? NodeHandle else { return nil }
                switch key {
                case "name": return .string(n.name)
                case "short": return .string(n.short)
                default: return nil
                }
            },
            describe: { ($0 as? NodeHandle)?.name ?? "node" }))
        lua.register(table: "cluster", ClusterBindings.raisingFailures(clusterFunctions()))
        if let faults {
            lua.register(table: "fault", faultFunctions(faults))
        }
    }

    // MARK: Calling primitives

    /// The functions, each raising a cluster error as a ``PrimitiveFailure`` named after it.
    static func raisingFailures(_ functions: [String: HostFunction]) -> [String: HostFunction] {
        Dictionary(uniqueKeysWithValues: functions.map { name, fn in
            (name, { args in
                do {
                    return try fn(args)
                } catch let e as ClusterError {
                    throw PrimitiveFailure(primitive: name, error: e)
                }
            } as HostFunction)
        })
    }

    /// Runs a primitive through the observer (journal, confirmations, interlocks, plan).
    func call<T>(_ name: String, node: String? = nil, args: [String: String] = [:], kind: PrimitiveKind,
                 interlocked: Bool = false, unsafe: Bool = false, skipped: T, _ body: () throws -> T) throws -> T {
        let c = PrimitiveCall(name: name, node: node, args: args, kind: kind, interlocked: interlocked, unsafe: unsafe,
                              effect: ClusterBindings.effects[name].map { $0.replacingOccurrences(of: "NODE", with: node ?? "the node")
                                  .replacingOccurrences(of: "FROM", with: args["from"] ?? "a member") })
        if let observer {
            guard try observer.willCall(c) else { return skipped }
        }
        let start = backend.now()
        do {
            let r = try body()
            observer?.didCall(c, error: nil, duration: backend.now() - start)
            return r
        } catch {
            observer?.didCall(c, error: error, duration: backend.now() - start)
            throw error
        }
    }

    /// What each destructive primitive does, as its confirmation says it.
    static let effects: [String: String] = [
        "stop": "stops NODE (its VM and RabbitMQ); its clients lose this node",
        "stop_app": "stops RabbitMQ on NODE (the VM stays up); its clients lose this node",
        "reset": "erases NODE's data (queues, messages, users) and takes it out of its cluster",
        "force_reset": "erases NODE's data without telling its peers",
        "force_boot": "NODE's next boot does not wait for its peers: changes made after it stopped are lost",
        "drain": "suspends NODE's listeners, closes its client connections and moves its quorum leaders away",
        "forget": "removes NODE from the cluster (run on FROM); its quorum queue replicas are removed",
        "shrink": "removes NODE's quorum queue replicas",
    ]

    func node(_ args: LuaArguments, _ i: Int) throws -> String {
        try node(from: args[i], "bad argument #\(i + 1) to '\(args.name)'")
    }

    /// The node a Lua value names (a node object or a node name); `what` starts the error message.
    func node(from value: LuaValue, _ what: @autoclosure () -> String) throws -> String {
        switch value {
        case .object(let o, _):
            guard let n = o as? NodeHandle else { throw LuaArgumentError("\(what()) (node expected)") }
            return n.name
        case .string(let s): return try backend.resolve(s)
        default: throw LuaArgumentError("\(what()) (node or node name expected, got \(value.typeName))")
        }
    }

    private lazy var shortNames = shortNodeNames(backend.nodeNames)

    /// A node object for Lua (`n1:stop()`).
    public func nodeValue(_ name: String) -> LuaValue {
        .object(NodeHandle(name: name, short: shortNames[name] ?? name), type: ClusterBindings.nodeType)
    }

    private func options(_ args: LuaArguments, _ i: Int) throws -> LuaTable {
        if case .table(let t) = args[i] { return t }
        if args[i].isNil { return LuaTable() }
        throw LuaArgumentError("bad argument #\(i + 1) to '\(args.name)' (options table expected, got \(args[i].typeName))")
    }

    // MARK: node methods

    private func nodeMethods() -> [String: HostFunction] {
        func simple(_ name: String, _ kind: PrimitiveKind, interlocked: Bool = false,
                    _ body: @escaping (String) throws -> Void) -> HostFunction {
            return { [unowned self] args in
                let n = try node(args, 0)
                let unsafe = try options(args, 1)["unsafe"].boolValue ?? false
                try call(name, node: n, kind: kind, interlocked: interlocked, unsafe: unsafe, skipped: ()) { try body(n) }
                return []
            }
        }
        let b = backend
        return [
            "ping": { [unowned self] args in [.bool(try backend.ping(node(args, 0)))] },
            "start": simple("start", .change) { try b.start($0) },
            "stop": simple("stop", .destructive, interlocked: true) { try b.stop($0) },
            "start_app": simple("start_app", .change) { try b.startApp($0) },
            "stop_app": simple("stop_app", .destructive, interlocked: true) { try b.stopApp($0) },
            "reset": simple("reset", .destructive, interlocked: true) { try b.reset($0) },
            "force_reset": simple("force_reset", .destructive, interlocked: true) { try b.forceReset($0) },
            "force_boot": simple("force_boot", .destructive) { try b.forceBoot($0) },
            "drain": simple("drain", .destructive) { try b.drain($0) },
            "revive": simple("revive", .change) { try b.revive($0) },
            "upgrade": { [unowned self] args in
                // node:upgrade("3.13.7"): installs the release on the stopped node.
                let n = try node(args, 0)
                let text = try args.string(1)
                let version: RabbitMQVersion
                do { version = try RabbitMQVersion(parsing: text) } catch { throw LuaArgumentError("upgrade: \(error)") }
                try call("upgrade", node: n, args: ["to": version.description], kind: .change, skipped: ()) {
                    try backend.upgrade(n, to: version)
                }
                return []
            },
            "join": { [unowned self] args in
                let n = try node(args, 0), seed = try node(args, 1)
                try call("join", node: n, args: ["seed": seed], kind: .change, skipped: ()) { try backend.join(n, seed: seed) }
                return []
            },
            "forget": { [unowned self] args in
                // executor:forget(target, {offline = true}): run on executor, forgetting target.
                let executor = try node(args, 0), target = try node(args, 1)
                let opts = try options(args, 2)
                let offline = opts["offline"].boolValue ?? false
                let unsafe = opts["unsafe"].boolValue ?? false
                try call("forget", node: target, args: ["from": executor, "offline": String(offline)], kind: .destructive,
                         interlocked: true, unsafe: unsafe, skipped: ()) {
                    try backend.forget(target, from: executor, offline: offline)
                }
                return []
            },
            "await_running": { [unowned self] args in
                let n = try node(args, 0)
                let timeout = try options(args, 1)["timeout"].doubleValue ?? 300
                try call("await_running", node: n, args: ["timeout": LuaRenderShort.number(timeout)], kind: .wait, skipped: ()) {
                    try backend.awaitRunning(n, timeout: timeout)
                }
                return []
            },
            "quorum_critical": { [unowned self] args in
                let queues = try backend.quorumCritical(node(args, 0))
                return [.bool(!queues.isEmpty), .array(queues.map { .string($0) })]
            },
            "await_online_quorum_plus_one": { [unowned self] args in
                let n = try node(args, 0)
                let timeout = try options(args, 1)["timeout"].doubleValue ?? 120
                try call("await_online_quorum_plus_one", node: n, args: ["timeout": LuaRenderShort.number(timeout)], kind: .wait,
                         skipped: ()) { try backend.awaitOnlineQuorumPlusOne(n, timeout: timeout) }
                return []
            },
            "health": { [unowned self] args in
                let checks = try backend.health(node(args, 0))
                var fields: [String: LuaValue] = ["ok": .bool(checks.allSatisfy(\.ok))]
                for c in checks { fields[c.name] = .map(["ok": .bool(c.ok), "detail": .string(c.detail)]) }
                return [.map(fields)]
            },
            "info": { [unowned self] args in
                let n = try node(args, 0)
                guard let info = try backend.nodes().first(where: { $0.name == n }) else { return [.nil] }
                return [ClusterBindings.lua(info)]
            },
            "state": { [unowned self] args in
                let n = try node(args, 0)
                return [.string(try backend.nodes().first(where: { $0.name == n })?.state.rawValue ?? "unknown")]
            },
            "queues": { [unowned self] args in
                let n = try node(args, 0)
                return [.array(try backend.queues(type: nil).filter { $0.members.contains(n) }.map(ClusterBindings.lua))]
            },
        ]
    }

    // MARK: cluster.*

    private func clusterFunctions() -> [String: HostFunction] {
        [
            "status": { [unowned self] _ in [ClusterBindings.lua(try backend.status())] },
            "nodes": { [unowned self] args in
                // Members of the cluster; {all = true}: every node the target knows (spares too).
                let all = try options(args, 0)["all"].boolValue ?? false
                let names = all ? backend.nodeNames : try backend.status().members
                return [.array(names.map(nodeValue))]
            },
            "node": { [unowned self] args in [nodeValue(try backend.resolve(args.string(0)))] },
            "queues": { [unowned self] args in
                let t = try options(args, 0)["type"].stringValue
                var type: QueueType?
                if let t {
                    guard let qt = QueueType(rawValue: t) else {
                        throw LuaArgumentError("unknown queue type '\(t)' (classic, quorum or stream)")
                    }
                    type = qt
                }
                return [.array(try backend.queues(type: type).map(ClusterBindings.lua))]
            },
            "preflight": { [unowned self] _ in
                [.array(try backend.preflight().map { .map(["name": .string($0.name), "outcome": .string($0.outcome.rawValue), "detail": .string($0.detail)]) })]
            },
            "export_definitions": { [unowned self] args in
                let path = try args.string(0)
                try call("export_definitions", args: ["path": path], kind: .change, skipped: ()) {
                    try backend.exportDefinitions(to: path)
                }
                return [.string(path)]
            },
            "grow": { [unowned self] args in
                let n = try node(args, 0)
                let s = try args.optionalString(1) ?? "all"
                guard let strategy = GrowStrategy(rawValue: s) else { throw LuaArgumentError("grow: strategy must be 'all' or 'even', got '\(s)'") }
                let grown = try call("grow", node: n, args: ["strategy": s], kind: .change, skipped: [String]()) {
                    try backend.grow(n, strategy: strategy)
                }
                return [.array(grown.map { .string($0) })]
            },
            "shrink": { [unowned self] args in
                let n = try node(args, 0)
                let shrunk = try call("shrink", node: n, kind: .destructive, skipped: [String]()) { try backend.shrink(n) }
                return [.array(shrunk.map { .string($0) })]
            },
            "rebalance": { [unowned self] args in
                // The broker decides which kinds it rebalances (3.10.8: all, classic, quorum;
                // stream is refused with 69).
                let kind = try args.optionalString(0) ?? "quorum"
                try call("rebalance", args: ["kind": kind], kind: .change, skipped: ()) { try backend.rebalance(kind) }
                return []
            },
            "declare_queue": { [unowned self] args in
                let t = try args.table(0)
                guard let name = t["name"].stringValue else { throw LuaArgumentError("declare_queue: 'name' is required") }
                let typeName = t["type"].stringValue ?? "quorum"
                guard let type = QueueType(rawValue: typeName) else { throw LuaArgumentError("declare_queue: unknown type '\(typeName)'") }
                var spec = QueueSpec(name: name, type: type)
                spec.durable = t["durable"].boolValue ?? true
                if !t["node"].isNil { spec.node = try node(LuaArguments([t["node"]], name: "declare_queue"), 0) }
                spec.initialGroupSize = t["group_size"].intValue.map { Int($0) }
                if let l = t["locator"].stringValue {
                    guard let loc = LeaderLocator(rawValue: l) else { throw LuaArgumentError("declare_queue: locator must be 'client-local' or 'balanced'") }
                    spec.leaderLocator = loc
                }
                try call("declare_queue", node: spec.node, args: ["name": name, "type": typeName], kind: .change, skipped: ()) {
                    try backend.declareQueue(spec)
                }
                return []
            },
            "publish": { [unowned self] args in
                // cluster.publish(queue, count, {mandatory = true}): how many were confirmed (and,
                // with mandatory, taken by the queue).
                let q = try args.string(0)
                let n = args[1].isNil ? 1 : Int(try args.number(1))
                let mandatory = try options(args, 2)["mandatory"].boolValue ?? false
                return [.int(Int64(try backend.publish(queue: q, count: n, mandatory: mandatory)))]
            },
            "consume": { [unowned self] args in
                let q = try args.string(0), n = try args.optionalString(1).flatMap { Int($0) } ?? 1
                return [.int(Int64(try backend.consume(queue: q, max: n)))]
            },
            "feature_flags": { [unowned self] _ in [.array(try backend.featureFlags().map(ClusterBindings.lua))] },
            // The release each running node reports, by node.
            "versions": { [unowned self] _ in [.map(try backend.nodeVersions().mapValues { .string($0.rabbitmq) })] },
            // "mnesia" or "khepri"; nil when no node can tell.
            "metadata_store": { [unowned self] _ in [(try backend.metadataStore()).map { .string($0.rawValue) } ?? .nil] },
            // Whether one rolling upgrade to a release can start now (UpgradeCheck); raises on input
            // that is wrong (not a release, unknown, older than the cluster).
            "upgrade_check": { [unowned self] args in [ClusterBindings.lua(try UpgradeCheck.run(to: args.string(0), backend: backend))] },
            "enable_feature_flags": { [unowned self] args in
                // No argument: every stable flag (`enable_feature_flag all`); a name: that flag only.
                let flag = try args.optionalString(0)
                try call("enable_feature_flags", args: ["flags": flag ?? "all"], kind: .change, skipped: ()) {
                    if let flag { try backend.enableFeatureFlag(flag) } else { try backend.enableAllFeatureFlags() }
                }
                return []
            },
            "now": { [unowned self] _ in [.double(backend.now())] },
            "target": { [unowned self] _ in [.string(backend.targetDescription)] },
        ]
    }

    // MARK: fault.*

    /// `fault.NAME(...)` for every fault of the catalog, its parameters in the catalog's order.
    private func faultFunctions(_ target: FaultInjecting) -> [String: HostFunction] {
        var out: [String: HostFunction] = [:]
        for kind in Fault.catalog {
            out[kind.name] = { [unowned self] args in
                var values: [Fault.Parameter: Fault.Value] = [:]
                for (i, p) in kind.parameters.enumerated() where !args[i].isNil {
                    switch p {
                    case .node: values[p] = .string(try node(args, i))
                    case .seconds: values[p] = .number(try args.number(i))
                    case .raised: values[p] = .bool(try args.bool(i))
                    case .alarm: values[p] = .string(try args.string(i))
                    case .a, .b:
                        values[p] = .strings(try args.table(i).array.map { try node(LuaArguments([$0], name: "fault.\(kind.name)"), 0) })
                    }
                }
                do {
                    try target.inject(try Fault.make(kind.name, values))
                } catch let r as Fault.Refusal {
                    throw LuaArgumentError(r.description)
                }
                try afterFault?()
                return []
            }
        }
        out["invariants"] = { [unowned self] _ in
            guard let r = invariants() else { return [.nil] }
            return [.map([
                "converged": .bool(r.converged),
                "safe": .bool(r.safe),
                "problems": .array(r.convergenceProblems.map { .string($0) }),
                "majority_losses": .array(r.majorityLosses.map { .map(["queue": .string($0.queue), "seconds": .double($0.seconds)]) }),
                "lost_messages": .map(r.lostMessages.mapValues { .int(Int64($0)) }),
            ])]
        }
        return out
    }

    // MARK: Conversions

    static func lua(_ s: ClusterStatus) -> LuaValue {
        .map([
            "name": .string(s.clusterName),
            "members": .array(s.members.map { .string($0) }),
            "running": .array(s.running.map { .string($0) }),
            "partitions": .map(s.partitions.mapValues { .array($0.map { .string($0) }) }),
            "alarms": .map(s.alarms.mapValues { .array($0.map { .string($0) }) }),
            "maintenance": .array(s.maintenance.map { .string($0) }),
            "healthy": .bool(s.healthy),
        ])
    }

    static func lua(_ n: NodeInfo) -> LuaValue {
        .map([
            "name": .string(n.name),
            "state": .string(n.state.rawValue),
            "maintenance": .bool(n.underMaintenance),
            "members": .array(n.members.map { .string($0) }),
            "alarms": .array(n.alarms.map { .string($0) }),
            "partitions": .array(n.partitions.map { .string($0) }),
            "replicas": .int(Int64(n.replicas)),
            "leaders": .int(Int64(n.leaders)),
            "version": n.versions.map { .string($0.rabbitmq) } ?? .nil,
        ])
    }

    static func lua(_ c: UpgradeCheck) -> LuaValue {
        var fields: [String: LuaValue] = [
            "from": .string(c.from.description),
            "to": .string(c.to.description),
            // "patch" or "series"; "none" when every node runs the release; "refused" (see problems).
            "kind": .string(c.from == c.to ? "none" : (c.hop?.kind.rawValue ?? "refused")),
            "mixed": .bool(c.versions.mixed),
            "store": .string(c.versions.metadataStore.rawValue),
            "nodes": .map(Dictionary(uniqueKeysWithValues: c.versions.nodes.map { ($0.name, LuaValue.string($0.rabbitmq.description)) })),
            "problems": .array(c.problems.map { .string($0) }),
            "disabled_flags": .array(c.disabledFlags.map { .string($0) }),
            "changes": .array((c.hop?.changes ?? []).map { .string($0.value) }),
        ]
        if let hop = c.hop { fields["source"] = .string(hop.source) }
        if let u = c.underWay {
            fields["under_way"] = .string(u.session)
            fields["under_way_text"] = .string(u.description)
        }
        return .map(fields)
    }

    static func lua(_ f: FeatureFlag) -> LuaValue {
        .map([
            "name": .string(f.name),
            "state": .string(f.state.rawValue),
            "stability": .string(f.stability.rawValue),
            "provided_by": .string(f.providedBy),
            "desc": .string(f.description),
        ])
    }

    static func lua(_ q: QueueInfo) -> LuaValue {
        .map([
            "name": .string(q.name),
            "vhost": .string(q.vhost),
            "type": .string(q.type.rawValue),
            "durable": .bool(q.durable),
            "leader": q.leader.map { .string($0) } ?? .nil,
            "members": .array(q.members.map { .string($0) }),
            "online": .array(q.online.map { .string($0) }),
            "messages": .int(Int64(q.messages)),
            "available": .bool(q.available),
        ])
    }
}

/// Short number formatting for journal arguments and output (`300`, `2.5`).
enum LuaRenderShort {
    static func number(_ d: Double) -> String {
        d.rounded() == d && abs(d) < 1e15 ? String(Int64(d)) : String(format: "%.3g", d)
    }
}
