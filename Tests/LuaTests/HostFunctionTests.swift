import Foundation
import Testing
@testable import Lua
import Text

struct Boom: Error, CustomStringConvertible { var description: String { "the node refused" } }

final class Counter { var n = 0; let name: String; init(_ name: String) { self.name = name } }

@Suite("Host functions, conversions and userdata")
struct HostFunctionTests {
    @Test("a Swift error becomes a catchable Lua error with its message and the calling line")
    func swiftError() throws {
        let lua = LuaState()
        lua.register("fail") { _ in throw Boom() }
        let r = try lua.execute("local ok, err = pcall(function() fail() end) return ok, err", chunkName: "rb")
        #expect(lua.plainString(r[0]) == "false")
        #expect(lua.plainString(r[1]) == "rb:1: the node refused")
        do {
            try lua.execute("\nfail()", chunkName: "rb")
        } catch let LuaError.runtime(message, traceback, underlying) {
            #expect(message == "rb:2: the node refused")
            #expect(traceback.contains("stack traceback"))
            #expect(underlying is Boom)
        }
    }

    @Test("a string that is not UTF-8 keeps its bytes: in a chunk's source, through a host function and back")
    func bytesKept() throws {
        let lua = LuaState()
        lua.register("echo") { args in args.values }
        // `return #"caf<E9>", echo("caf<E9>")` with the byte E9 written raw in the source.
        let source = ByteText.string(Array("return #\"caf".utf8) + [0xE9] + Array("\", string.byte(\"caf".utf8) + [0xE9]
                                     + Array("\", 4), echo(\"caf".utf8) + [0xE9] + Array("\")".utf8))
        let r = try lua.execute(source, chunkName: "t")
        #expect(r[0].intValue == 4 && r[1].intValue == 0xE9)
        #expect(ByteText.bytes(try #require(r[2].stringValue)) == Array("caf".utf8) + [0xE9])
        lua.setGlobal("s", r[2])
        #expect(try lua.execute("return #s, s:byte(4)", chunkName: "t").map(\.intValue) == [4, 0xE9])
    }

    @Test("values convert both ways: nil, booleans, integers, floats, strings, arrays, maps")
    func conversions() throws {
        let lua = LuaState()
        lua.register("echo") { args in args.values }
        let r = try lua.execute("return echo(nil, true, 42, 1.5, 'héllo', {1, 2, 3}, {a = 1, b = {c = 'd'}})", chunkName: "t")
        #expect(r.count == 7)
        #expect(r[0].isNil && r[1].boolValue == true && r[2].intValue == 42 && r[3].doubleValue == 1.5)
        #expect(r[4].stringValue == "héllo")
        #expect(r[5].tableValue?.array.compactMap { $0.intValue } == [1, 2, 3])
        #expect(r[6].tableValue?["b"].tableValue?["c"].stringValue == "d")
        lua.setGlobal("v", .map(["list": .array([1, 2]), "x": 2.5, "s": "q"]))
        let back = try lua.execute("return v.list[2] + v.x, v.s, #v.list", chunkName: "t")
        #expect(lua.plainString(back[0]) == "4.5" && back[1].stringValue == "q" && back[2].intValue == 2)
        #expect(lua.render(r[6]) == "{ a = 1, b = { c = \"d\" } }")
    }

    @Test("a Lua callback passed to Swift is called")
    func callbacks() throws {
        let lua = LuaState()
        var seen: [LuaValue] = []
        lua.register("each") { args in
            let f = try args.function(1)
            for v in try args.table(0).array { seen += try f.call([v]) }
            return []
        }
        try lua.execute("each({1, 2, 3}, function(x) return x * 10 end)", chunkName: "t")
        #expect(seen.compactMap { $0.intValue } == [10, 20, 30])
    }

    @Test("userdata methods and fields work, and tostring describes the object")
    func userdata() throws {
        let lua = LuaState()
        lua.defineType(LuaObjectType(
            name: "counter",
            methods: ["bump": { args in
                let c = try args.object(0, as: Counter.self, typeName: "counter")
                c.n += try args.int(1)
                return [.int(Int64(c.n))]
            }],
            field: { obj, key in key == "name" ? .string((obj as! Counter).name) : nil },
            describe: { "counter(\(($0 as! Counter).name))" }))
        let c = Counter("c1")
        lua.setGlobal("c", .object(c, type: "counter"))
        let r = try lua.execute("c:bump(2) return c:bump(3), c.name, tostring(c), c == c", chunkName: "t")
        #expect(r[0].intValue == 5 && r[1].stringValue == "c1" && r[2].stringValue == "counter(c1)" && r[3].boolValue == true)
        #expect(c.n == 5)
        #expect(failure(lua, "return c.nope").contains("counter has no field or method 'nope'"))
        #expect(failure(lua, "return c.bump(1)").contains("bad argument #1 to 'bump' (counter expected, got number)"))
    }

    @Test("100,000 host calls with tables, callbacks and userdata leave memory stable")
    func noLeaks() throws {
        let lua = LuaState(instructionBudget: nil)
        lua.defineType(LuaObjectType(name: "counter", describe: { _ in "counter" }))
        lua.register("make") { args in [.object(Counter("x"), type: "counter"), .map(["k": .array([1, 2, 3])]), args[0]] }
        let loop = "for i = 1, 100000 do local o, t, f = make(function() return i end) end collectgarbage_ok = true"
        try lua.execute(loop, chunkName: "t")
        // RSS is the whole test process's, and other suites run alongside: a leak grows it in every
        // window of 200,000 calls (by 20 MB at 100 bytes per call), their allocations only in some.
        var growths: [Int] = []
        for _ in 0..<3 {
            let before = residentKB()
            try lua.execute(loop, chunkName: "t")
            try lua.execute(loop, chunkName: "t")
            growths.append(residentKB() - before)
        }
        #expect(growths.min()! < 20 * 1024, "RSS grew in every window of 200,000 calls: \(growths) kB")
        #expect(lua.memoryInUse < 4 << 20)
        try lua.execute("collectgarbage_ok = nil", chunkName: "t")
        _ = try lua.execute("local t = {} for i = 1, 200000 do t[i] = i end", chunkName: "t")  // lets the GC run
        #expect(lua.liveObjectCount < 10_000, "Swift objects still referenced: \(lua.liveObjectCount)")
    }
}

func residentKB() -> Int {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
    return 0
}
