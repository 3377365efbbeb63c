import Testing
@testable import Lua

@Suite("Typed errors")
struct ErrorTests {
    @Test("a syntax error names the chunk and line; an unfinished chunk is marked incomplete")
    func syntax() {
        let lua = LuaState()
        do { try lua.execute("x = 1\ny = = 2", chunkName: "rolling.lua") } catch let LuaError.syntax(chunk, line, message, incomplete) {
            #expect(chunk == "rolling.lua" && line == 2 && message.contains("rolling.lua:2:") && !incomplete)
        } catch { Issue.record("\(error)") }
        do { try lua.execute("function f()\n return 1", chunkName: "stdin") } catch let LuaError.syntax(_, _, _, incomplete) {
            #expect(incomplete)
        } catch { Issue.record("\(error)") }
    }

    @Test("a runtime error has the message and a traceback")
    func runtime() {
        let lua = LuaState()
        do { try lua.execute("local function f() error('bad thing') end\nf()", chunkName: "rb") } catch let LuaError.runtime(message, traceback, _) {
            #expect(message == "rb:1: bad thing")
            #expect(traceback.hasPrefix("stack traceback:") && traceback.contains("rb:2"))
        } catch { Issue.record("\(error)") }
    }

    @Test("rendering prints Lua literals")
    func rendering() throws {
        let lua = LuaState()
        let r = try lua.execute("return 1, 2.0, 'a\"b', {}, {1, 'x', {y = true}}, {['not id'] = 1, [10] = 2}, print", chunkName: "t")
        #expect(r.map { lua.render($0) } == ["1", "2.0", "\"a\\\"b\"", "{}", "{ 1, \"x\", { y = true } }", "{ [10] = 2, [\"not id\"] = 1 }", "<function>"])
    }
}
