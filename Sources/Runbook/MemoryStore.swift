import Cluster
import Foundation
import Lua

/// `memory.get/set`: values kept per cluster across sessions (e.g. the order of a full shutdown).
public final class MemoryStore {
    /// The JSON file; nil keeps values for this process only (plan runs).
    public let path: String?
    private var values: [String: JSONValue]

    public init(path: String?) throws {
        self.path = path
        values = [:]
        if let path, let data = FileManager.default.contents(atPath: path) {
            guard let obj = try? JSONDecoder().decode([String: JSONValue].self, from: data) else {
                throw RunbookError.usage("the cluster memory file '\(path)' is not a JSON object; move it away to start afresh")
            }
            values = obj
        }
    }

    public func get(_ key: String) -> LuaValue { values[key]?.lua ?? .nil }

    public func set(_ key: String, _ value: LuaValue) throws {
        values[key] = JSONValue(value)
        guard let path else { return }
        try StatePaths.ensureDirectory((path as NSString).deletingLastPathComponent)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try writeAtomically(try encoder.encode(values), to: path)
    }
}

/// A JSON value that converts to and from Lua values.
public enum JSONValue: Codable, Equatable, Sendable {
    case null, bool(Bool), int(Int64), double(Double), string(String), array([JSONValue]), object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    public init(_ v: LuaValue) {
        switch v {
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .table(let t) where t.fields.isEmpty: self = .array(t.array.map { JSONValue($0) })
        case .table(let t):
            var map: [String: JSONValue] = [:]
            for (i, x) in t.array.enumerated() { map[String(i + 1)] = JSONValue(x) }
            for (k, x) in t.fields {
                if let key = k.stringValue ?? k.intValue.map({ String($0) }) { map[key] = JSONValue(x) }
            }
            self = .object(map)
        default: self = .null
        }
    }

    public var lua: LuaValue {
        switch self {
        case .null: return .nil
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .array(let a): return .array(a.map(\.lua))
        case .object(let o): return .map(o.mapValues(\.lua))
        }
    }
}
