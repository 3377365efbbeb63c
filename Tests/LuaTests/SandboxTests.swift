import Foundation
import Testing
@testable import Lua

/// Runs a chunk that must fail, and returns the error's text.
func failure(_ state: LuaState, _ source: String) -> String {
    do {
        let r = try state.execute(source, chunkName: "test")
        return "no error; returned \(r.map { state.render($0) })"
    } catch let e as LuaError {
        return e.description
    } catch {
        return "\(error)"
    }
}

@Suite("The sandbox refuses every escape with a clear error")
struct SandboxTests {
    let lua = LuaState()

    @Test("io.open is refused")
    func ioOpen() {
        #expect(failure(lua, "return io.open('/etc/passwd')").contains("'io' is not available"))
    }

    @Test("io.popen is refused")
    func ioPopen() {
        #expect(failure(lua, "return io.popen('id')").contains("'io' is not available"))
    }

    @Test("os.execute, os.exit and os.getenv are refused; os.time, os.clock and os.date work")
    func osFunctions() throws {
        #expect(failure(lua, "os.execute('true')").contains("'os.execute' is not available"))
        #expect(failure(lua, "os.exit(1)").contains("'os.exit' is not available"))
        #expect(failure(lua, "return os.getenv('HOME')").contains("'os.getenv' is not available"))
        let r = try lua.execute("return type(os.time()), type(os.clock()), os.date('!%Y', 0)", chunkName: "t")
        #expect(r.map { lua.plainString($0) } == ["number", "number", "1970"])
    }

    @Test("dofile and loadfile do not exist")
    func dofileLoadfile() {
        #expect(failure(lua, "dofile('/etc/passwd')").contains("'dofile' is not available"))
        #expect(failure(lua, "loadfile('/etc/passwd')").contains("'loadfile' is not available"))
    }

    @Test("load refuses binary chunks and binary mode")
    func loadBinary() throws {
        #expect(failure(lua, "return load('x=1', 'c', 'b')").contains("binary chunks are not allowed"))
        let r = try lua.execute("return load('\\27Lua junk')", chunkName: "t")
        #expect(r.count == 2 && r[0].isNil && lua.plainString(r[1]).contains("binary chunks are not allowed"))
        let ok = try lua.execute("local f = load('return 1 + 1'); return f()", chunkName: "t")
        #expect(lua.plainString(ok[0]) == "2")
    }

    @Test("string.dump then load is refused")
    func stringDump() {
        #expect(failure(lua, "return load(string.dump(function() end))").contains("'string.dump' is not available"))
        #expect(failure(lua, "return ('x'):dump()").contains("'string.dump' is not available"))
    }

    @Test("debug.sethook and the registry are out of reach")
    func debugAndRegistry() {
        #expect(failure(lua, "debug.sethook()").contains("'debug' is not available"))
        #expect(failure(lua, "return debug.getregistry()").contains("'debug' is not available"))
        #expect(failure(lua, "return package.loaded").contains("'package' is not available"))
    }

    @Test("require refuses native modules and paths outside the runbook path")
    func requireRefusals() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("warren-req-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("lib"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "return { twice = function(x) return 2 * x end }".write(to: dir.appendingPathComponent("lib/helpers.lua"), atomically: true, encoding: .utf8)
        lua.installRequire(roots: [dir.path])
        let r = try lua.execute("return require('lib.helpers').twice(21)", chunkName: "t")
        #expect(lua.plainString(r[0]) == "42")
        #expect(failure(lua, "require('../../etc/passwd')").contains("paths are not allowed"))
        #expect(failure(lua, "require('/etc/passwd')").contains("paths are not allowed"))
        #expect(failure(lua, "require('socket.core')").contains("only Lua source modules"))
        #expect(failure(lua, "require('lfs')").contains("no Lua module 'lfs.lua'"))
    }
}
