/// A Swift function callable from Lua. Throwing raises a Lua error with the error's description
/// (prefixed with the calling line), which `pcall` in the chunk can catch.
public typealias HostFunction = (LuaArguments) throws -> [LuaValue]

/// The arguments of a host function call, with checked accessors whose errors read like Lua's.
public struct LuaArguments {
    public let values: [LuaValue]
    /// The function's name, for error messages.
    public let name: String

    public init(_ values: [LuaValue], name: String) {
        self.values = values
        self.name = name
    }

    public var count: Int { values.count }

    /// The argument at a 0-based position, or nil when absent.
    public subscript(_ i: Int) -> LuaValue { i < values.count ? values[i] : .nil }

    func bad(_ i: Int, _ expected: String) -> LuaArgumentError {
        LuaArgumentError("bad argument #\(i + 1) to '\(name)' (\(expected) expected, got \(self[i].typeName))")
    }

    public func string(_ i: Int) throws -> String {
        switch self[i] {
        case .string(let s): return s
        case .int(let n): return String(n)
        default: throw bad(i, "string")
        }
    }

    public func optionalString(_ i: Int) throws -> String? { self[i].isNil ? nil : try string(i) }

    public func int(_ i: Int) throws -> Int {
        guard let n = self[i].intValue, let v = Int(exactly: n) else { throw bad(i, "integer") }
        return v
    }

    public func number(_ i: Int) throws -> Double {
        guard let d = self[i].doubleValue else { throw bad(i, "number") }
        return d
    }

    public func bool(_ i: Int) throws -> Bool {
        guard case .bool(let b) = self[i] else { throw bad(i, "boolean") }
        return b
    }

    public func table(_ i: Int) throws -> LuaTable {
        guard case .table(let t) = self[i] else { throw bad(i, "table") }
        return t
    }

    /// A table argument, or an empty one when absent.
    public func optionalTable(_ i: Int) throws -> LuaTable { self[i].isNil ? LuaTable() : try table(i) }

    public func function(_ i: Int) throws -> LuaFunction {
        guard case .function(let f) = self[i] else { throw bad(i, "function") }
        return f
    }

    /// A userdata argument of the given Swift class.
    public func object<T: AnyObject>(_ i: Int, as type: T.Type, typeName: String) throws -> T {
        guard case .object(let o, _) = self[i], let t = o as? T else { throw bad(i, typeName) }
        return t
    }
}
