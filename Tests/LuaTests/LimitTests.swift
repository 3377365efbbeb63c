import Testing
@testable import Lua

@Suite("Instruction budget and memory cap")
struct LimitTests {
    @Test("while true do end stops at the budget, and the state runs normal code afterwards")
    func infiniteLoop() throws {
        let lua = LuaState(instructionBudget: 2_000_000)
        #expect(throws: LuaError.self) { try lua.execute("while true do end", chunkName: "t") }
        do { try lua.execute("while true do end", chunkName: "t") } catch let e as LuaError {
            guard case .budgetExceeded = e else { Issue.record("got \(e)"); return }
        }
        let r = try lua.execute("local s = 0 for i = 1, 100 do s = s + i end return s", chunkName: "t")
        #expect(lua.plainString(r[0]) == "5050")
    }

    @Test("pcall cannot swallow the budget")
    func pcallLoop() throws {
        let lua = LuaState(instructionBudget: 2_000_000)
        do {
            try lua.execute("while true do pcall(function() while true do end end) end", chunkName: "t")
            Issue.record("the loop was not stopped")
        } catch let e as LuaError {
            guard case .budgetExceeded = e else { Issue.record("got \(e)"); return }
        }
        let r = try lua.execute("return pcall(error, 'x')", chunkName: "t")
        #expect(lua.plainString(r[0]) == "false")
    }

    @Test("a table-growing memory bomb stops at the cap, and the state recovers")
    func memoryBomb() throws {
        let lua = LuaState(memoryLimit: 8 << 20, instructionBudget: nil)
        do {
            try lua.execute("local t = {} local i = 0 while true do i = i + 1 t[i] = string.rep('x', 64) .. i end", chunkName: "t")
            Issue.record("the bomb was not stopped")
        } catch let e as LuaError {
            guard case .memoryExceeded = e else { Issue.record("got \(e)"); return }
        }
        #expect(lua.memoryInUse < 8 << 20)
        let r = try lua.execute("local t = {} for i = 1, 1000 do t[i] = i end return #t", chunkName: "t")
        #expect(lua.plainString(r[0]) == "1000")
    }

    @Test("pcall cannot swallow the memory cap")
    func pcallMemory() throws {
        let lua = LuaState(memoryLimit: 8 << 20, instructionBudget: nil)
        do {
            try lua.execute("""
                local keep = {}
                while true do
                  pcall(function() local t = {} for i = 1, 1e9 do t[i] = string.rep('y', 100) .. i end end)
                  keep[#keep + 1] = 'survived'
                end
                """, chunkName: "t")
            Issue.record("not stopped")
        } catch let e as LuaError {
            guard case .memoryExceeded = e else { Issue.record("got \(e)"); return }
        }
    }

    @Test("an interrupt request stops a runaway chunk, and the next call runs")
    func interrupt() throws {
        let lua = LuaState(instructionBudget: nil)
        lua.register("ctrl_c") { [unowned lua] _ in lua.interrupt(); return [] }
        do {
            try lua.execute("ctrl_c() while true do end", chunkName: "t")
            Issue.record("not interrupted")
        } catch let e as LuaError {
            guard case .interrupted = e else { Issue.record("got \(e)"); return }
        }
        let r = try lua.execute("return 1 + 1", chunkName: "t")
        #expect(lua.plainString(r[0]) == "2")
    }
}
