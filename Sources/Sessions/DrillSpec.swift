import Cluster
import Foundation
import Lua
import Runbook
import Simulator

/// A drill file that cannot be run as written (exit 2): names the file and, where it can, the line.
public struct DrillInputError: Error, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var message: String
    public init(file: String, line: Int?, _ message: String) {
        self.file = file
        self.line = line
        self.message = message
    }
    public var description: String { "\(file)\(line.map { ":\($0)" } ?? ""): \(message)" }
}

/// A fault a drill injects: one of the cluster faults, or a crash of warren itself.
public enum DrillFault: Equatable, Sendable, CustomStringConvertible {
    case cluster(Fault)
    /// warren itself crashes (the engine's `SimulatedCrash`); the drill then resumes from the journal.
    case crash

    public static var names: [String] { Fault.names + ["crash"] }

    var nodes: [String] {
        if case .cluster(let f) = self { return f.nodes }
        return []
    }

    public var description: String {
        switch self {
        case .cluster(let f): return f.description
        case .crash: return "crash"
        }
    }
}

/// When a scheduled fault fires (once).
public enum DrillTrigger: Equatable, Sendable {
    /// Before the step with this id runs.
    case before(String)
    /// After the n-th (1-based) successful-or-not call of a primitive matching these fields.
    case after(primitive: String?, node: String?, step: String?, nth: Int)
    /// After the setup runbook, before the drill's runbook starts.
    case start
    /// After the run stopped, before the drill resumes it (`resume = ...`): e.g. heal a partition.
    case resume
}

public struct DrillScheduledFault: Sendable {
    public var trigger: DrillTrigger
    public var fault: DrillFault
    public var line: Int?
}

/// A runbook run inside a drill (the setup, the main run, a resume).
public struct DrillRunSpec {
    public var runbook: String
    public var params: [String: String] = [:]
    /// Answers-file lines: "yes", "STEP-ID: no", "STEP-ID#unsafe: yes".
    public var answers: [String] = []
    /// Answer yes to confirmations the answers do not cover (never to unsafe ones). Default true.
    public var yes = true
    public var line: Int?
}

public struct DrillExpectation {
    public var completed: Bool?
    public var stoppedAt: String?
    public var error: String?
    public var invariants = true
    public var majorityLossOk = false
    public var converged: Bool?
    public var resumable: Bool?
}

/// A real cluster a drill runs on: a devcluster with a host per node (`warren devcluster up --hosts`).
public struct DrillDevcluster: Equatable, Sendable {
    public var hosts: Int
    public var spares: Int
    public init(hosts: Int, spares: Int) {
        self.hosts = hosts
        self.spares = spares
    }
}

/// A parsed drill file (see drills/README.md).
public final class DrillSpec {
    public let file: String
    public let source: String
    public var name: String
    // Target
    public var nodes = 3
    public var spares = 0
    public var formed = true
    public var seed: UInt64 = 1
    /// The release the simulated cluster runs (`version = "4.2.0"`).
    public var version = Simulator.defaultVersion
    public var partitionHandling = PartitionHandling.ignore
    public var demo = true
    public var queues: [(spec: QueueSpec, messages: Int)] = []
    /// `target = { devcluster = { hosts = 3 } }`: real RabbitMQ on a hosts devcluster; nil: simulated.
    public var devcluster: DrillDevcluster?
    // Runs
    public var setup: [DrillRunSpec] = []
    public var run: DrillRunSpec
    /// After a stop (not a crash): resume once more with these answers.
    public var resume: DrillRunSpec?
    public var faults: [DrillScheduledFault] = []
    public var expect = DrillExpectation()
    public var check: LuaFunction?
    /// Keeps `check` alive.
    let lua: LuaState

    init(file: String, source: String, name: String, run: DrillRunSpec, lua: LuaState) {
        self.file = file
        self.source = source
        self.name = name
        self.run = run
        self.lua = lua
    }

    /// The first line of the drill that mentions `value` as a quoted string (else as a word).
    public func line(of value: String) -> Int? { DrillSpec.line(of: value, in: source) }

    static func line(of value: String, in source: String) -> Int? {
        let lines = source.components(separatedBy: "\n")
        for needle in ["\"\(value)\"", "'\(value)'", value] {
            if let i = lines.firstIndex(where: { $0.contains(needle) }) { return i + 1 }
        }
        return nil
    }

    static func line(ofKey key: String, in source: String) -> Int? {
        let lines = source.components(separatedBy: "\n")
        let pattern = try? NSRegularExpression(pattern: "(^|[^A-Za-z0-9_])\(NSRegularExpression.escapedPattern(for: key))\\s*=")
        for (i, l) in lines.enumerated() {
            if pattern?.firstMatch(in: l, range: NSRange(l.startIndex..., in: l)) != nil { return i + 1 }
        }
        return nil
    }

    // MARK: Loading

    /// Evaluates a drill file in a sandboxed Lua state and reads its table.
    public static func load(path: String) throws -> DrillSpec {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DrillInputError(file: path, line: nil, "cannot read the drill file")
        }
        return try load(source: String(decoding: data, as: UTF8.self), file: path)
    }

    public static func load(source: String, file: String) throws -> DrillSpec {
        let lua = LuaState(memoryLimit: 16 << 20, instructionBudget: 20_000_000)
        lua.output = { _ in }
        var declared: LuaValue?
        lua.register("drill") { args in
            declared = args[0]
            return []
        }
        let returned: [LuaValue]
        do {
            returned = try lua.execute(source, chunkName: (file as NSString).lastPathComponent)
        } catch let e as LuaError {
            if case .syntax(_, let line, var message, _) = e {
                // "name.lua:3: '}' expected" -> "'}' expected" (the file and line are named already)
                if let line, let r = message.range(of: ":\(line): ") { message = String(message[r.upperBound...]) }
                throw DrillInputError(file: file, line: line, "the drill does not compile: \(message)")
            }
            throw DrillInputError(file: file, line: luaLine(e.description), "the drill failed while loading: \(e.description)")
        }
        guard case .table(let t)? = (returned.first.flatMap { $0.isNil ? nil : $0 }) ?? declared else {
            throw DrillInputError(file: file, line: nil, "a drill returns a table (return { runbook = ..., expect = ... }) or calls drill{ ... }")
        }
        return try Parser(file: file, source: source, lua: lua).parse(t)
    }

    static func luaLine(_ message: String) -> Int? {
        // "name.lua:12: message"
        let parts = message.split(separator: ":", maxSplits: 2)
        return parts.count >= 2 ? Int(parts[1]) : nil
    }

    struct Parser {
        let file: String
        let source: String
        let lua: LuaState

        func fail(_ message: String, key: String? = nil, value: String? = nil) -> DrillInputError {
            let line = value.flatMap { DrillSpec.line(of: $0, in: source) } ?? key.flatMap { DrillSpec.line(ofKey: $0, in: source) }
            return DrillInputError(file: file, line: line, message)
        }

        func checkKeys(_ t: LuaTable, _ allowed: [String], where context: String) throws {
            for k in t.keys where !allowed.contains(k) {
                var m = "unknown field '\(k)' in \(context)"
                if let near = nearest(k, in: allowed) { m += "; did you mean '\(near)'?" }
                m += " (known: \(allowed.joined(separator: ", ")))"
                throw fail(m, key: k)
            }
        }

        func string(_ v: LuaValue, _ key: String) throws -> String? {
            switch v {
            case .nil: return nil
            case .string(let s): return s
            case .int(let i): return String(i)
            case .double(let d): return String(d)
            case .bool(let b): return String(b)
            default: throw fail("'\(key)' must be a string, got \(v.typeName)", key: key)
            }
        }

        func bool(_ v: LuaValue, _ key: String) throws -> Bool? {
            switch v {
            case .nil: return nil
            case .bool(let b): return b
            default: throw fail("'\(key)' must be true or false, got \(v.typeName)", key: key)
            }
        }

        func int(_ v: LuaValue, _ key: String) throws -> Int? {
            switch v {
            case .nil: return nil
            case .int(let i): return Int(i)
            case .double(let d) where d == d.rounded(): return Int(d)
            default: throw fail("'\(key)' must be an integer, got \(v.typeName)", key: key)
            }
        }

        func strings(_ v: LuaValue, _ key: String) throws -> [String] {
            switch v {
            case .nil: return []
            case .string(let s): return [s]
            case .table(let t): return try t.array.map { try string($0, key) ?? "" }
            default: throw fail("'\(key)' must be a list of strings, got \(v.typeName)", key: key)
            }
        }

        func params(_ v: LuaValue) throws -> [String: String] {
            guard case .table(let t) = v else {
                if v.isNil { return [:] }
                throw fail("'params' must be a table of name = value", key: "params")
            }
            var out: [String: String] = [:]
            for (k, value) in t.fields {
                guard let name = k.stringValue else { throw fail("'params' keys must be names", key: "params") }
                out[name] = try string(value, name)
            }
            return out
        }

        /// Answers: a list of answers-file lines, and/or `["step-id"] = "yes"` fields.
        func answers(_ v: LuaValue) throws -> [String] {
            switch v {
            case .nil: return []
            case .string(let s): return s.split(separator: "\n").map(String.init)
            case .table(let t):
                var out = try t.array.map { try string($0, "answers") ?? "" }
                for (k, value) in t.fields.sorted(by: { ($0.key.stringValue ?? "") < ($1.key.stringValue ?? "") }) {
                    guard let step = k.stringValue else { continue }
                    let a: String
                    switch value {
                    case .bool(let b): a = b ? "yes" : "no"
                    default: a = try string(value, step) ?? ""
                    }
                    out.append("\(step): \(a)")
                }
                do { _ = try AnswerScript(text: out.joined(separator: "\n"), path: file) } catch {
                    throw fail("bad answers: \(error)", key: "answers")
                }
                return out
            default: throw fail("'answers' must be a list of strings or a table keyed by step id", key: "answers")
            }
        }

        func runSpec(_ t: LuaTable, defaultRunbook: String? = nil, context: String) throws -> DrillRunSpec {
            try checkKeys(t, ["runbook", "params", "answers", "yes"], where: context)
            guard let rb = try string(t["runbook"], "runbook") ?? defaultRunbook else {
                throw fail("\(context) needs runbook = \"NAME\"", key: context)
            }
            var r = DrillRunSpec(runbook: rb)
            r.params = try params(t["params"])
            r.answers = try answers(t["answers"])
            r.yes = try bool(t["yes"], "yes") ?? true
            r.line = DrillSpec.line(of: rb, in: source)
            return r
        }

        func parse(_ t: LuaTable) throws -> DrillSpec {
            try checkKeys(t, ["name", "description", "target", "runbook", "params", "answers", "yes", "setup", "faults",
                              "resume", "expect", "check"], where: "the drill")
            guard let rb = try string(t["runbook"], "runbook") else {
                throw fail("the drill names no runbook: add runbook = \"NAME\"", key: "runbook")
            }
            var run = DrillRunSpec(runbook: rb)
            run.params = try params(t["params"])
            run.answers = try answers(t["answers"])
            run.yes = try bool(t["yes"], "yes") ?? true
            run.line = DrillSpec.line(of: rb, in: source)
            let defaultName = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
            let spec = DrillSpec(file: file, source: source, name: try string(t["name"], "name") ?? defaultName, run: run, lua: lua)

            if case .table(let target) = t["target"], case .table(let dc) = target["devcluster"] {
                // Real RabbitMQ: the simulator's knobs (seed, version, formed...) do not apply.
                try checkKeys(target, ["devcluster", "partition_handling", "queues"], where: "a devcluster target")
                try checkKeys(dc, ["hosts", "spares"], where: "target.devcluster")
                let hosts = try int(dc["hosts"], "hosts") ?? 3, spares = try int(dc["spares"], "spares") ?? 0
                guard (1...9).contains(hosts), spares >= 0, hosts + spares <= 9 else {
                    throw fail("target.devcluster: 1 to 9 hosts in all, got \(hosts) + \(spares) spare(s)", key: "hosts")
                }
                spec.devcluster = DrillDevcluster(hosts: hosts, spares: spares)
                spec.nodes = hosts
                spec.spares = spares
                spec.demo = false
                try targetCommon(target, spec)
            } else if case .table(let target) = t["target"] {
                try checkKeys(target, ["nodes", "spares", "formed", "seed", "partition_handling", "cluster_name", "demo", "queues", "version", "devcluster"],
                              where: "target")
                if !target["devcluster"].isNil {
                    throw fail("target.devcluster must be a table { hosts = 3, spares = 0 }", key: "devcluster")
                }
                spec.nodes = try int(target["nodes"], "nodes") ?? 3
                spec.spares = try int(target["spares"], "spares") ?? 0
                guard (1...Simulator.maxNodes).contains(spec.nodes), spec.spares >= 0, spec.nodes + spec.spares <= Simulator.maxNodes else {
                    throw fail("target: 1 to \(Simulator.maxNodes) nodes in all, got \(spec.nodes) + \(spec.spares) spare(s)", key: "nodes")
                }
                spec.formed = try bool(target["formed"], "formed") ?? true
                spec.seed = UInt64(max(0, try int(target["seed"], "seed") ?? 1))
                if let v = try string(target["version"], "version") {
                    do { spec.version = try Simulator.release(v) } catch { throw fail("target.version: \(error)", value: v) }
                }
                spec.demo = try bool(target["demo"], "demo") ?? spec.formed
                try targetCommon(target, spec)
            } else if !t["target"].isNil {
                throw fail("'target' must be a table { nodes = 3, ... }", key: "target")
            }

            switch t["setup"] {
            case .nil: break
            case .table(let s) where s["runbook"].isNil && !s.array.isEmpty:
                for item in s.array {
                    guard case .table(let st) = item else { throw fail("setup: a list of { runbook = ..., answers = ... }", key: "setup") }
                    spec.setup.append(try runSpec(st, context: "setup"))
                }
            case .table(let s):
                spec.setup.append(try runSpec(s, context: "setup"))
            default: throw fail("'setup' must be a table { runbook = ..., answers = ... }", key: "setup")
            }

            switch t["resume"] {
            case .nil, .bool(false): break
            case .bool(true): spec.resume = DrillRunSpec(runbook: rb)
            case .table(let r): spec.resume = try runSpec(r, defaultRunbook: rb, context: "resume")
            default: throw fail("'resume' must be true or a table { answers = ..., yes = ... }", key: "resume")
            }

            if case .table(let fs) = t["faults"] {
                for f in fs.array {
                    guard case .table(let ft) = f else { throw fail("faults: each fault is a table { before = ..., fault = ... }", key: "faults") }
                    spec.faults.append(try fault(ft))
                }
            } else if !t["faults"].isNil {
                throw fail("'faults' must be a list of { before = STEP or after = {...}, fault = ... }", key: "faults")
            }

            guard case .table(let e) = t["expect"] else {
                throw fail("the drill has no expectations: add expect = { completed = true } or expect = { stopped_at = \"STEP\", error = \"...\" }", key: "expect")
            }
            try checkKeys(e, ["completed", "stopped_at", "error", "invariants", "majority_loss_ok", "converged", "resumable", "check"],
                          where: "expect")
            spec.expect.completed = try bool(e["completed"], "completed")
            spec.expect.stoppedAt = try string(e["stopped_at"], "stopped_at")
            spec.expect.error = try string(e["error"], "error")
            spec.expect.invariants = try bool(e["invariants"], "invariants") ?? true
            spec.expect.majorityLossOk = try bool(e["majority_loss_ok"], "majority_loss_ok") ?? false
            spec.expect.converged = try bool(e["converged"], "converged")
            spec.expect.resumable = try bool(e["resumable"], "resumable")
            if spec.expect.completed == true && spec.expect.stoppedAt != nil {
                throw fail("expect: completed = true and stopped_at contradict each other", key: "stopped_at")
            }
            if spec.expect.completed == nil && spec.expect.stoppedAt == nil && spec.expect.error == nil {
                throw fail("expect: say how the run ends: completed = true, or stopped_at = \"STEP\" (and error = \"...\")", key: "expect")
            }
            for (key, v) in [("check", e["check"]), ("check", t["check"])] {
                switch v {
                case .nil: continue
                case .function(let fn): spec.check = fn
                default: throw fail("'check' must be a function(state) returning true or false, \"why\"", key: key)
                }
            }
            return spec
        }

        /// What a simulated and a devcluster target both take: partition handling and queues.
        func targetCommon(_ target: LuaTable, _ spec: DrillSpec) throws {
            if let ph = try string(target["partition_handling"], "partition_handling") {
                guard let p = PartitionHandling(rawValue: ph) else {
                    throw fail("unknown partition_handling '\(ph)' (use \(PartitionHandling.allCases.map(\.rawValue).joined(separator: ", ")))", value: ph)
                }
                spec.partitionHandling = p
            }
            if case .table(let qs) = target["queues"] {
                for q in qs.array {
                    guard case .table(let qt) = q else { throw fail("target.queues: each queue is a table { name = ..., type = ... }", key: "queues") }
                    try checkKeys(qt, ["name", "type", "node", "group_size", "durable", "leader_locator", "messages"], where: "a queue")
                    guard let name = try string(qt["name"], "name") else { throw fail("target.queues: a queue needs a name", key: "queues") }
                    let typeName = try string(qt["type"], "type") ?? "quorum"
                    guard let type = QueueType(rawValue: typeName) else {
                        throw fail("queue '\(name)': unknown type '\(typeName)' (classic, quorum, stream)", value: typeName)
                    }
                    let locator = try string(qt["leader_locator"], "leader_locator").flatMap(LeaderLocator.init(rawValue:)) ?? .clientLocal
                    let qs = QueueSpec(name: name, type: type, durable: try bool(qt["durable"], "durable") ?? true,
                                       node: try string(qt["node"], "node"), initialGroupSize: try int(qt["group_size"], "group_size"),
                                       leaderLocator: locator)
                    spec.queues.append((qs, try int(qt["messages"], "messages") ?? 0))
                }
            }
        }

        func fault(_ ft: LuaTable) throws -> DrillScheduledFault {
            try checkKeys(ft, ["before", "after", "at", "fault"] + Fault.Parameter.allCases.map(\.rawValue), where: "a fault")
            guard let kind = try string(ft["fault"], "fault") else {
                throw fail("a fault needs fault = \"\(DrillFault.names.joined(separator: "|"))\"", key: "fault")
            }
            let line = DrillSpec.line(of: kind, in: source)
            let fault: DrillFault
            if kind == "crash" {
                fault = .crash
            } else {
                guard Fault.names.contains(kind) else {
                    var m = "unknown fault '\(kind)'"
                    if let near = nearest(kind, in: DrillFault.names) { m += "; did you mean '\(near)'?" }
                    throw DrillInputError(file: file, line: line, m + " (known: \(DrillFault.names.joined(separator: ", ")))")
                }
                var values: [Fault.Parameter: Fault.Value] = [:]
                for p in Fault.Parameter.allCases {
                    switch ft[p.rawValue] {
                    case .nil: continue
                    case .string(let v): values[p] = .string(v)
                    case .int(let i): values[p] = .number(Double(i))
                    case .double(let d): values[p] = .number(d)
                    case .bool(let b): values[p] = .bool(b)
                    case .table: values[p] = .strings(try strings(ft[p.rawValue], p.rawValue))
                    default: throw DrillInputError(file: file, line: line, "fault '\(kind)': '\(p.rawValue)' has the wrong type")
                    }
                }
                do {
                    fault = .cluster(try Fault.make(kind, values))
                } catch let r as Fault.Refusal {
                    throw DrillInputError(file: file, line: line, r.description)
                }
            }
            let trigger: DrillTrigger
            if let before = try string(ft["before"], "before") {
                trigger = .before(before)
            } else if case .table(let at) = ft["after"] {
                try checkKeys(at, ["primitive", "node", "step", "nth"], where: "a fault's after")
                trigger = .after(primitive: try string(at["primitive"], "primitive"), node: try string(at["node"], "node"),
                                 step: try string(at["step"], "step"), nth: max(1, try int(at["nth"], "nth") ?? 1))
            } else if case .string(let p) = ft["after"] {
                trigger = .after(primitive: p, node: nil, step: nil, nth: 1)
            } else if let at = try string(ft["at"], "at"), at == "start" || at == "resume" {
                trigger = at == "start" ? .start : .resume
            } else {
                throw DrillInputError(file: file, line: line, "fault '\(kind)' needs a time: before = \"STEP-ID\", after = { primitive = \"stop\", node = \"n2\" }, at = \"start\", or at = \"resume\"")
            }
            return DrillScheduledFault(trigger: trigger, fault: fault, line: line)
        }
    }
}
