import Text
import CLua
import CShims
#if canImport(Glibc)
import Glibc
#endif

/// A Lua function kept alive in the registry so that Swift can call it later.
public final class LuaFunction {
    let ref: Int32
    weak var state: LuaState?

    init(ref: Int32, state: LuaState) {
        self.ref = ref
        self.state = state
    }

    /// Calls the function in protected mode.
    @discardableResult
    public func call(_ args: [LuaValue] = []) throws -> [LuaValue] {
        guard let state else { throw LuaError.runtime(message: "the Lua state is closed", traceback: "", underlying: nil) }
        return try state.call(self, args)
    }

    deinit {
        if let state, let L = state.L { luaL_unref(L, warren_registryindex(), ref) }
    }
}

/// A userdata type: how Lua sees a Swift class (`node:stop()`, `node.name`, `tostring(node)`).
public struct LuaObjectType {
    public var name: String
    public var methods: [String: HostFunction]
    /// Read-only fields; nil when the object has no such field.
    public var field: (AnyObject, String) -> LuaValue?
    public var describe: (AnyObject) -> String

    public init(name: String, methods: [String: HostFunction] = [:],
                field: @escaping (AnyObject, String) -> LuaValue? = { _, _ in nil },
                describe: @escaping (AnyObject) -> String) {
        self.name = name
        self.methods = methods
        self.field = field
        self.describe = describe
    }
}

/// One sandboxed Lua 5.4 state with a memory cap and an instruction budget.
///
/// Lua errors never unwind through Swift: host functions return a marker and a C trampoline raises,
/// and Swift only calls Lua through `pcall`. Not thread-safe: use a state from one thread.
public final class LuaState {
    fileprivate(set) var L: OpaquePointer?
    private var functions: [(name: String, fn: HostFunction)] = []
    private var objects: [Int: AnyObject] = [:]
    private var nextObjectID = 1
    private var types: [String: (type: LuaObjectType, methods: [String: LuaFunction])] = [:]
    private var depth = 0
    /// The last Swift error a host function threw, kept to attach to the Lua error it became.
    private var lastHostError: (message: String, error: Error)?

    /// Where `print` writes.
    public var output: (String) -> Void = { print($0, terminator: "") }
    /// The memory cap in bytes.
    public let memoryLimit: Int
    /// Lua instructions allowed per top-level call (granularity 1000); nil: unlimited.
    public var instructionBudget: Int64? {
        didSet { limits.pointee.budget = instructionBudget ?? 0 }
    }

    private var limits: UnsafeMutablePointer<warren_limits> { warren_limits_of(L)! }

    /// - Parameters:
    ///   - memoryLimit: bytes the state may allocate (default 64 MiB).
    ///   - instructionBudget: Lua instructions per top-level call (default 200 million).
    public init(memoryLimit: Int = 64 << 20, instructionBudget: Int64? = 200_000_000) {
        LuaState.installDispatch
        self.memoryLimit = memoryLimit
        self.instructionBudget = instructionBudget
        L = nil
        L = warren_newstate(memoryLimit, Unmanaged.passUnretained(self).toOpaque())
        precondition(L != nil, "cannot allocate a Lua state")
        limits.pointee.budget = instructionBudget ?? 0
        limits.pointee.in_host = 1
        warren_open_sandbox(L)
        limits.pointee.in_host = 0
        warren_arm_hook(L)
        allowingAllocation {
            // Errors Swift raises as tables (`LuaErrorValue`): `tostring(err)` gives the message.
            luaL_newmetatable(L, LuaState.errorMetatable)
            pushHostFunction(name: "__tostring") { args in
                guard case .table(let t) = args[0] else { return ["error"] }
                return [t["message"]]
            }
            lua_setfield(L, -2, "__tostring")
            warren_pop(L, 1)
        }
        register("print") { [unowned self] args in
            self.output(args.values.map { self.plainString($0) }.joined(separator: "\t") + "\n")
            return []
        }
    }

    deinit { close() }

    static let errorMetatable = "warren.error"

    /// Closes the state; later calls fail.
    public func close() {
        guard let L else { return }
        let lim = warren_limits_of(L)
        lua_close(L)
        free(lim)
        self.L = nil
        objects.removeAll()
    }

    /// Swift objects currently referenced from Lua userdata (freed by Lua's garbage collector).
    var liveObjectCount: Int { objects.count }

    /// Bytes currently allocated by the state.
    public var memoryInUse: Int { L == nil ? 0 : Int(limits.pointee.used) }

    // MARK: Registration

    /// Defines a global function.
    public func register(_ name: String, _ fn: @escaping HostFunction) {
        setGlobal(name, pushing: { pushHostFunction(name: name, fn) })
    }

    /// Defines a global table of functions (a module such as `cluster`), merged into an existing one.
    public func register(table name: String, _ fns: [String: HostFunction]) {
        guard let L else { return }
        allowingAllocation {
            warren_pushglobaltable(L)
            lua_pushstring(L, name)
            lua_rawget(L, -2)
            if lua_type(L, -1) != LUA_TTABLE {
                warren_pop(L, 1)
                warren_newtable(L)
                lua_pushstring(L, name)
                lua_pushvalue(L, -2)
                lua_rawset(L, -4)
            }
            for (key, fn) in fns.sorted(by: { $0.key < $1.key }) {
                lua_pushstring(L, key)
                pushHostFunction(name: "\(name).\(key)", fn)
                lua_rawset(L, -3)
            }
            warren_pop(L, 2)
        }
    }

    /// Sets a global variable.
    public func setGlobal(_ name: String, _ value: LuaValue) {
        setGlobal(name, pushing: { push(value) })
    }

    /// Reads a global variable (without triggering the sandbox's refusal messages).
    public func global(_ name: String) -> LuaValue {
        guard let L else { return .nil }
        return allowingAllocation {
            warren_pushglobaltable(L)
            lua_pushstring(L, name)
            lua_rawget(L, -2)
            let v = value(at: -1)
            warren_pop(L, 2)
            return v
        }
    }

    private func setGlobal(_ name: String, pushing: () -> Void) {
        guard let L else { return }
        allowingAllocation {
            warren_pushglobaltable(L)
            lua_pushstring(L, name)
            pushing()
            lua_rawset(L, -3)
            warren_pop(L, 1)
        }
    }

    /// Defines a userdata type; push objects of it with `.object(obj, type: name)`.
    public func defineType(_ type: LuaObjectType) {
        guard let L else { return }
        allowingAllocation {
            var methodRefs: [String: LuaFunction] = [:]
            for (name, fn) in type.methods.sorted(by: { $0.key < $1.key }) {
                pushHostFunction(name: name, fn)
                methodRefs[name] = LuaFunction(ref: luaL_ref(L, warren_registryindex()), state: self)
            }
            types[type.name] = (type, methodRefs)
            luaL_newmetatable(L, "warren." + type.name)
            lua_pushstring(L, type.name)
            lua_setfield(L, -2, "__name")
            lua_pushstring(L, type.name)
            lua_setfield(L, -2, "__warren_type")
            let typeName = type.name
            pushHostFunction(name: "__index") { [unowned self] args in
                guard case .object(let obj, _) = args[0], let key = args[1].stringValue,
                      let entry = self.types[typeName] else { return [.nil] }
                if let m = entry.methods[key] { return [.function(m)] }
                if let v = entry.type.field(obj, key) { return [v] }
                throw LuaArgumentError("\(typeName) has no field or method '\(key)'")
            }
            lua_setfield(L, -2, "__index")
            pushHostFunction(name: "__tostring") { [unowned self] args in
                guard case .object(let obj, _) = args[0], let entry = self.types[typeName] else { return ["?"] }
                return [.string(entry.type.describe(obj))]
            }
            lua_setfield(L, -2, "__tostring")
            pushHostFunction(name: "__eq") { args in
                guard case .object(let a, _) = args[0], case .object(let b, _) = args[1] else { return [false] }
                return [.bool(a === b)]
            }
            lua_setfield(L, -2, "__eq")
            pushHostFunction(name: "__gc") { [unowned self] _ in
                // The userdata's id is read in `collect(at:)` below; arguments are converted first.
                return []
            }
            lua_setfield(L, -2, "__gc")
            warren_pop(L, 1)
        }
    }

    /// Names of the methods and fields of a userdata type (for completion).
    public func methodNames(ofType name: String) -> [String] {
        types[name].map { Array($0.methods.keys).sorted() } ?? []
    }

    // MARK: Running code

    /// Compiles a text chunk. The chunk name appears in error messages (`name:line:`).
    public func load(_ source: String, chunkName: String) throws -> LuaFunction {
        guard let L else { throw LuaError.runtime(message: "the Lua state is closed", traceback: "", underlying: nil) }
        return try allowingAllocation {
            // The source's own bytes: a literal that is not UTF-8 stays as it was written.
            let status = ByteText.bytes(source).withUnsafeBufferPointer { buf in
                buf.withMemoryRebound(to: CChar.self) { warren_load(L, $0.baseAddress, $0.count, "=" + chunkName) }
            }
            if status != LUA_OK {
                let message = rawString(at: -1) ?? "syntax error"
                warren_pop(L, 1)
                throw LuaState.syntaxError(chunk: chunkName, message: message)
            }
            return LuaFunction(ref: luaL_ref(L, warren_registryindex()), state: self)
        }
    }

    /// Compiles and runs a chunk; returns what it returns.
    @discardableResult
    public func execute(_ source: String, chunkName: String, args: [LuaValue] = []) throws -> [LuaValue] {
        try call(load(source, chunkName: chunkName), args)
    }

    /// Calls a Lua function in protected mode. At the top level (not from inside a host function)
    /// the instruction budget starts afresh and Ctrl-C is routed to this state.
    public func call(_ fn: LuaFunction, _ args: [LuaValue]) throws -> [LuaValue] {
        try call(fn, args, routesInterrupts: true)
    }

    /// `routesInterrupts: false` for the runtime's own set-up code (it must not claim a Ctrl-C
    /// meant for the chunk that follows).
    func call(_ fn: LuaFunction, _ args: [LuaValue], routesInterrupts: Bool) throws -> [LuaValue] {
        guard let L else { throw LuaError.runtime(message: "the Lua state is closed", traceback: "", underlying: nil) }
        let topLevel = depth == 0 && routesInterrupts
        if topLevel {
            warren_reset_limits(L)
            warren_set_interrupt_target(L)
            lastHostError = nil
        }
        depth += 1
        defer { depth -= 1 }
        let base = lua_gettop(L)
        let pushed: Bool = allowingAllocation {
            guard lua_checkstack(L, Int32(args.count + 2)) != 0 else { return false }
            lua_rawgeti(L, warren_registryindex(), lua_Integer(fn.ref))
            for a in args { push(a) }
            return true
        }
        guard pushed else { throw LuaError.runtime(message: "too many arguments", traceback: "", underlying: nil) }
        let status = warren_pcall(L, Int32(args.count), LUA_MULTRET)
        // A chunk that caught the runtime's stop (an xpcall handler ran it out) and returned
        // before the next instruction still stopped.
        if status == LUA_OK && !(topLevel && limits.pointee.kill != WARREN_KILL_NONE) {
            let results: [LuaValue] = allowingAllocation {
                let top = lua_gettop(L)
                return top > base ? (base + 1...top).map { value(at: $0) } : []
            }
            lua_settop(L, base)
            if topLevel { warren_set_interrupt_target(nil) }
            return results
        }
        let message = status == LUA_OK ? "" : allowingAllocation { rawString(at: -1) } ?? "error"
        lua_settop(L, base)
        let kill = limits.pointee.kill
        if topLevel {
            warren_set_interrupt_target(nil)
            if kill != WARREN_KILL_NONE {
                warren_reset_limits(L)
                warren_gc_collect(L)
            }
        }
        switch kill {
        case WARREN_KILL_BUDGET: throw LuaError.budgetExceeded(limit: instructionBudget ?? 0)
        case WARREN_KILL_MEMORY: throw LuaError.memoryExceeded(limit: memoryLimit)
        case WARREN_KILL_INTERRUPT: throw LuaError.interrupted
        default: break
        }
        if status == LUA_ERRMEM {
            throw LuaError.memoryExceeded(limit: memoryLimit)
        }
        let (text, traceback) = LuaState.splitTraceback(message)
        var underlying: Error?
        if let last = lastHostError, text.hasSuffix(last.message) { underlying = last.error }
        throw LuaError.runtime(message: text, traceback: traceback, underlying: underlying)
    }

    /// Whether Ctrl-C was pressed since the current top-level call began. Host functions that
    /// wait (on a cluster, on a timer) poll it and throw ``LuaError/interrupted``.
    public var interruptRequested: Bool { L.map { warren_interrupt_pending($0) != 0 } ?? false }
    /// Requests an interrupt of this state, as Ctrl-C does for the state that is running.
    public func interrupt() { if let L { warren_interrupt_state(L) } }

    /// Routes SIGINT, SIGTERM and SIGHUP to whichever state is running a top-level call (Ctrl-C
    /// stops a runaway chunk; SIGTERM and SIGHUP stop it as Ctrl-C does, and are remembered:
    /// ``terminationSignal``). A signal while none runs waits for the next top-level call, which
    /// it interrupts, unless ``discardWaitingInterrupt()`` drops it first. SIGPIPE is ignored.
    public static func installInterruptHandler() { warren_install_signal_handlers() }

    /// SIGTERM or SIGHUP, once one arrived (the process should end, resumably); nil before.
    public static var terminationSignal: Int32? {
        let s = warren_termination_signal()
        return s == 0 ? nil : s
    }

    /// Whether Ctrl-C was pressed for the call running now (or, between calls, since the last
    /// discard): what long waits in Swift (a CLI command, a poll) check to stop early.
    public static var interruptRequested: Bool { warren_interrupt_requested() != 0 }

    /// Drops a Ctrl-C that arrived while no call ran, e.g. before a new prompt.
    public static func discardWaitingInterrupt() { warren_discard_interrupt() }

    // MARK: Introspection for completion

    /// Keys of the global table, or of the table at a dotted path (`string`, `cluster`).
    public func keys(atPath path: [String]) -> [String] {
        guard let L else { return [] }
        return allowingAllocation {
            warren_pushglobaltable(L)
            for component in path {
                guard lua_type(L, -1) == LUA_TTABLE else { warren_pop(L, 1); return [] }
                lua_pushstring(L, component)
                lua_rawget(L, -2)
                warren_remove(L, -2)
            }
            if lua_type(L, -1) == LUA_TUSERDATA, let typeName = userdataTypeName(at: -1) {
                warren_pop(L, 1)
                return methodNames(ofType: typeName)
            }
            guard lua_type(L, -1) == LUA_TTABLE else { warren_pop(L, 1); return [] }
            var keys: [String] = []
            lua_pushnil(L)
            while lua_next(L, -2) != 0 {
                if lua_type(L, -2) == LUA_TSTRING, let k = rawString(at: -2) { keys.append(k) }
                warren_pop(L, 1)
            }
            warren_pop(L, 1)
            return keys.sorted()
        }
    }

    // MARK: Host dispatch

    private static let installDispatch: Void = {
        warren_set_dispatch { L, index in
            guard let L, let host = warren_host_of(L) else { return WARREN_HOST_ERROR }
            let state = Unmanaged<LuaState>.fromOpaque(host).takeUnretainedValue()
            return state.dispatch(L, Int(index))
        }
    }()

    private func pushHostFunction(name: String, _ fn: @escaping HostFunction) {
        functions.append((name, fn))
        warren_push_host_function(L, Int32(functions.count - 1))
    }

    private func dispatch(_ L: OpaquePointer, _ index: Int) -> Int32 {
        guard index >= 0, index < functions.count else { return 0 }
        let entry = functions[index]
        let n = lua_gettop(L)
        if entry.name == "__gc" {
            if n >= 1, let id = userdataID(at: 1) { objects[id] = nil }
            return 0
        }
        var args: [LuaValue] = []
        args.reserveCapacity(Int(n))
        if n > 0 { for i in 1...n { args.append(value(at: i, in: L)) } }
        do {
            let results = try entry.fn(LuaArguments(args, name: entry.name))
            guard lua_checkstack(L, Int32(results.count + 1)) != 0 else {
                lua_pushstring(L, "too many results")
                return WARREN_HOST_ERROR
            }
            for r in results { push(r, in: L) }
            return Int32(results.count)
        } catch let error as LuaErrorValue {
            lastHostError = (error.luaMessage, error)
            var fields = error.luaFields
            fields["message"] = .string(error.luaMessage)
            push(.map(fields), in: L)
            luaL_setmetatable(L, LuaState.errorMetatable)
            return WARREN_HOST_ERROR
        } catch let error as LuaError {
            // A Lua error coming back from a callback: raise it unchanged.
            lua_pushstring(L, error.description)
            return WARREN_HOST_ERROR
        } catch {
            let message = String(describing: error)
            lastHostError = (message, error)
            lua_pushstring(L, message)
            return WARREN_HOST_ERROR_AT
        }
    }

    /// Lets allocations exceed the cap while Swift pushes values (Swift must never see a Lua error).
    private func allowingAllocation<T>(_ body: () throws -> T) rethrows -> T {
        guard L != nil else { return try body() }
        limits.pointee.in_host += 1
        defer { limits.pointee.in_host -= 1 }
        return try body()
    }

    // MARK: Conversion

    func push(_ v: LuaValue) { push(v, in: L!) }

    private func push(_ v: LuaValue, in L: OpaquePointer, depth: Int = 0) {
        switch v {
        case .nil, .opaque: lua_pushnil(L)
        case .bool(let b): lua_pushboolean(L, b ? 1 : 0)
        case .int(let i): lua_pushinteger(L, i)
        case .double(let d): lua_pushnumber(L, d)
        case .string(let s):
            ByteText.bytes(s).withUnsafeBufferPointer { buf in
                _ = lua_pushlstring(L, buf.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }, buf.count)
            }
        case .table(let t):
            guard depth < 100, lua_checkstack(L, 3) != 0 else { lua_pushnil(L); return }
            lua_createtable(L, Int32(clamping: t.array.count), Int32(clamping: t.fields.count))
            for (i, item) in t.array.enumerated() {
                push(item, in: L, depth: depth + 1)
                lua_rawseti(L, -2, lua_Integer(i + 1))
            }
            for (k, item) in t.fields where !k.isNil {
                push(k, in: L, depth: depth + 1)
                push(item, in: L, depth: depth + 1)
                lua_rawset(L, -3)
            }
        case .function(let f):
            lua_rawgeti(L, warren_registryindex(), lua_Integer(f.ref))
        case .object(let obj, let type):
            let id = nextObjectID
            nextObjectID += 1
            objects[id] = obj
            let raw = warren_newuserdata(L, MemoryLayout<Int>.size)!
            raw.storeBytes(of: id, as: Int.self)
            luaL_setmetatable(L, "warren." + type)
        }
    }

    /// The value at a stack index, converted.
    func value(at idx: Int32) -> LuaValue { value(at: idx, in: L!) }

    private func value(at idx: Int32, in L: OpaquePointer) -> LuaValue {
        var seen = Set<UnsafeRawPointer>()
        return convert(lua_absindex(L, idx), in: L, seen: &seen, depth: 0)
    }

    private func convert(_ idx: Int32, in L: OpaquePointer, seen: inout Set<UnsafeRawPointer>, depth: Int) -> LuaValue {
        switch lua_type(L, idx) {
        case LUA_TNIL, LUA_TNONE: return .nil
        case LUA_TBOOLEAN: return .bool(lua_toboolean(L, idx) != 0)
        case LUA_TNUMBER:
            if lua_isinteger(L, idx) != 0 { return .int(warren_tointegerx(L, idx, nil)) }
            return .double(warren_tonumberx(L, idx, nil))
        case LUA_TSTRING: return .string(rawString(at: idx, in: L) ?? "")
        case LUA_TFUNCTION:
            lua_pushvalue(L, idx)
            return .function(LuaFunction(ref: luaL_ref(L, warren_registryindex()), state: self))
        case LUA_TUSERDATA:
            if let id = userdataID(at: idx, in: L), let obj = objects[id], let type = userdataTypeName(at: idx, in: L) {
                return .object(obj, type: type)
            }
            return .opaque("userdata")
        case LUA_TTABLE:
            guard let ptr = lua_topointer(L, idx) else { return .nil }
            if seen.contains(ptr) || depth > 64 || lua_checkstack(L, 4) == 0 { return .opaque("cycle") }
            seen.insert(ptr)
            defer { seen.remove(ptr) }
            var pairs: [(LuaValue, LuaValue)] = []
            lua_pushnil(L)
            while lua_next(L, idx) != 0 {
                let k = convert(lua_absindex(L, -2), in: L, seen: &seen, depth: depth + 1)
                let v = convert(lua_absindex(L, -1), in: L, seen: &seen, depth: depth + 1)
                pairs.append((k, v))
                warren_pop(L, 1)
            }
            return .table(LuaTable.from(pairs: pairs))
        case LUA_TTHREAD: return .opaque("thread")
        default: return .opaque("userdata")
        }
    }

    private func rawString(at idx: Int32) -> String? { rawString(at: idx, in: L!) }

    private func rawString(at idx: Int32, in L: OpaquePointer) -> String? {
        guard lua_type(L, idx) == LUA_TSTRING || lua_type(L, idx) == LUA_TNUMBER else { return nil }
        var len = 0
        guard let p = warren_tostringx(L, idx, &len) else { return nil }
        return ByteText.string(UnsafeRawBufferPointer(start: p, count: len))
    }

    private func userdataID(at idx: Int32, in L: OpaquePointer? = nil) -> Int? {
        let L = L ?? self.L!
        guard userdataTypeName(at: idx, in: L) != nil, let p = lua_touserdata(L, idx) else { return nil }
        return p.load(as: Int.self)
    }

    private func userdataTypeName(at idx: Int32, in L: OpaquePointer? = nil) -> String? {
        let L = L ?? self.L!
        guard lua_type(L, idx) == LUA_TUSERDATA, lua_getmetatable(L, idx) != 0 else { return nil }
        lua_pushstring(L, "__warren_type")
        lua_rawget(L, -2)
        let name = lua_type(L, -1) == LUA_TSTRING ? rawString(at: -1, in: L) : nil
        warren_pop(L, 2)
        return name
    }

    /// The text `print` and `tostring` show for a value.
    public func plainString(_ v: LuaValue) -> String {
        switch v {
        case .nil: return "nil"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return LuaRender.number(d)
        case .string(let s): return s
        case .table: return "table"
        case .function: return "function"
        case .object(let o, let type): return types[type]?.type.describe(o) ?? type
        case .opaque(let d): return d
        }
    }

    /// Renders a value as a Lua literal (tables readably, objects by their description).
    public func render(_ v: LuaValue) -> String {
        LuaRender.render(v) { [unowned self] obj, type in self.types[type]?.type.describe(obj) ?? type }
    }

    // MARK: Errors

    static func syntaxError(chunk: String, message: String) -> LuaError {
        // "chunk:LINE: message near <eof>"
        var line: Int?
        let prefix = chunk + ":"
        if message.hasPrefix(prefix) {
            let rest = message.dropFirst(prefix.count)
            line = Int(rest.prefix { $0.isNumber })
        }
        return .syntax(chunk: chunk, line: line, message: message, incomplete: message.hasSuffix("<eof>"))
    }

    static func splitTraceback(_ message: String) -> (String, String) {
        guard let r = message.firstRange(of: "\nstack traceback:") else { return (message, "") }
        return (String(message[..<r.lowerBound]), String(message[message.index(after: r.lowerBound)...]))
    }
}

extension LuaTable {
    /// Builds a table from Lua pairs: keys 1...n become the array part, the rest fields in a stable order.
    static func from(pairs: [(LuaValue, LuaValue)]) -> LuaTable {
        var ints: [Int64: LuaValue] = [:]
        var others: [(key: LuaValue, value: LuaValue)] = []
        for (k, v) in pairs {
            if case .int(let i) = k { ints[i] = v } else { others.append((k, v)) }
        }
        var array: [LuaValue] = []
        var i: Int64 = 1
        while let v = ints[i] { array.append(v); ints[i] = nil; i += 1 }
        for (k, v) in ints { others.append((.int(k), v)) }
        others.sort { LuaRender.keyOrder($0.key, $1.key) }
        return LuaTable(array: array, fields: others)
    }
}
