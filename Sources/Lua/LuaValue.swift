/// A Lua value converted to Swift (or to be pushed to Lua).
public enum LuaValue {
    case `nil`
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case table(LuaTable)
    /// A Lua function kept alive for Swift to call back.
    case function(LuaFunction)
    /// A Swift object exposed as userdata of a registered type.
    case object(AnyObject, type: String)
    /// A value Swift does not convert (thread, light userdata, foreign userdata), described.
    case opaque(String)

    public var isNil: Bool { if case .nil = self { return true }; return false }

    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var boolValue: Bool? { if case .bool(let b) = self { return b }; return nil }
    public var intValue: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d.rounded() == d && abs(d) < 9.2e18: return Int64(d)
        default: return nil
        }
    }
    public var doubleValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }
    public var tableValue: LuaTable? { if case .table(let t) = self { return t }; return nil }

    /// Lua's type name for the value.
    public var typeName: String {
        switch self {
        case .nil: return "nil"
        case .bool: return "boolean"
        case .int, .double: return "number"
        case .string: return "string"
        case .table: return "table"
        case .function: return "function"
        case .object(_, let type): return type
        case .opaque(let d): return d
        }
    }

    /// An array table.
    public static func array(_ values: [LuaValue]) -> LuaValue { .table(LuaTable(array: values)) }
    /// A table with string keys (rendered and iterated in key order).
    public static func map(_ fields: [String: LuaValue]) -> LuaValue {
        .table(LuaTable(fields: fields.sorted { $0.key < $1.key }.map { (.string($0.key), $0.value) }))
    }
}

extension LuaValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByFloatLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(nilLiteral: ()) { self = .nil }
}

/// A Lua table: its sequence part (keys 1...n) and its other fields, in a stable order.
public struct LuaTable {
    public var array: [LuaValue]
    public var fields: [(key: LuaValue, value: LuaValue)]

    public init(array: [LuaValue] = [], fields: [(key: LuaValue, value: LuaValue)] = []) {
        self.array = array
        self.fields = fields
    }

    /// The field with this string key, or nil.
    public subscript(_ key: String) -> LuaValue {
        for (k, v) in fields { if case .string(let s) = k, s == key { return v } }
        return .nil
    }

    public var isEmpty: Bool { array.isEmpty && fields.isEmpty }
    /// String keys of the non-sequence part.
    public var keys: [String] { fields.compactMap { $0.key.stringValue } }
}
