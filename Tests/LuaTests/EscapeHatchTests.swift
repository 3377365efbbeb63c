import Foundation
import Testing
@testable import Lua

/// The places where Lua code runs out of reach of the count hook: a message handler called for
/// an error the hook raised, a finalizer (run by the collector with hooks off), and the string
/// pattern matcher (C code that executes no Lua instruction).
@Suite("No escape from the budget and Ctrl-C")
struct EscapeHatchTests {
    func expectStopped(_ lua: LuaState, _ code: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let start = Date()
        do {
            try lua.execute(code, chunkName: "t")
            Issue.record("the chunk was not stopped", sourceLocation: sourceLocation)
        } catch let e as LuaError {
            guard case .budgetExceeded = e else { Issue.record("got \(e)", sourceLocation: sourceLocation); return }
        } catch {
            Issue.record("got \(error)", sourceLocation: sourceLocation)
        }
        #expect(Date().timeIntervalSince(start) < 30, sourceLocation: sourceLocation)
    }

    @Test("an xpcall message handler that loops forever is stopped by the budget")
    func loopingMessageHandler() throws {
        let lua = LuaState(instructionBudget: 2_000_000)
        expectStopped(lua, "return xpcall(error, function() while true do end end)")
        expectStopped(lua, "while true do xpcall(function() while true do end end, function() while true do end end) end")
        // An ordinary handler still runs for the chunk's own errors.
        let r = try lua.execute("return xpcall(error, function(m) return 'handled: ' .. m end, 'boom')", chunkName: "t")
        #expect(lua.plainString(r[0]) == "false" && lua.plainString(r[1]) == "handled: boom")
        let ok = try lua.execute("return xpcall(function(a, b) return a + b end, print, 2, 3)", chunkName: "t")
        #expect(lua.plainString(ok[0]) == "true" && lua.plainString(ok[1]) == "5")
    }

    @Test("an error value whose __tostring loops is not rendered after the budget stops the chunk")
    func loopingToString() throws {
        let lua = LuaState(instructionBudget: 2_000_000)
        expectStopped(lua, "error(setmetatable({}, { __tostring = function() while true do end end }))")
    }

    @Test("finalizers (__gc) are refused with a message that says why")
    func finalizersRefused() throws {
        let lua = LuaState(instructionBudget: 2_000_000)
        do {
            try lua.execute("setmetatable({}, { __gc = function() while true do end end })", chunkName: "t")
            Issue.record("a __gc metatable was accepted")
        } catch let e as LuaError {
            #expect(e.description.contains("__gc") && e.description.contains("Ctrl-C"), "\(e)")
        }
        // Other metatables still work.
        let r = try lua.execute("return setmetatable({}, { __index = function() return 7 end }).x", chunkName: "t")
        #expect(lua.plainString(r[0]) == "7")
    }

    @Test("a backtracking string pattern is stopped by the budget")
    func backtrackingPattern() throws {
        let lua = LuaState(instructionBudget: 20_000_000)
        expectStopped(lua, #"return string.find(("a"):rep(30), ("a?"):rep(30) .. ("a"):rep(30))"#)
        expectStopped(lua, #"return (("a"):rep(30)):match(("a?"):rep(30) .. ("a"):rep(30))"#)
        expectStopped(lua, #"return (("a"):rep(30)):gsub(("a?"):rep(30) .. ("a"):rep(30), "")"#)
        expectStopped(lua, #"for m in (("a"):rep(30)):gmatch(("a?"):rep(30) .. ("a"):rep(30)) do end"#)
        // pcall does not swallow it.
        expectStopped(lua, #"pcall(string.find, ("a"):rep(30), ("a?"):rep(30) .. ("a"):rep(30)) while true do end"#)
    }

    @Test("Ctrl-C stops a backtracking pattern within a second, and the state runs on")
    func interruptedPattern() throws {
        let lua = LuaState(instructionBudget: nil)
        let started = Date()
        let interrupter = Thread { [lua] in
            Thread.sleep(forTimeInterval: 0.2)
            lua.interrupt()
        }
        interrupter.start()
        do {
            try lua.execute(#"return string.find(("a"):rep(40), ("a?"):rep(40) .. ("a"):rep(40))"#, chunkName: "t")
            Issue.record("the pattern was not interrupted")
        } catch let e as LuaError {
            guard case .interrupted = e else { Issue.record("got \(e)"); return }
        }
        #expect(Date().timeIntervalSince(started) < 1.2, "stopped after \(Date().timeIntervalSince(started)) s")
        let r = try lua.execute("return 1 + 1", chunkName: "t")
        #expect(lua.plainString(r[0]) == "2")
    }

    @Test("the matcher keeps Lua's pattern semantics")
    func patternSemantics() throws {
        let lua = LuaState()
        let cases: [(String, String)] = [
            (#"return string.find("hello world", "o w")"#, "5\t7"),
            (#"return string.find("hello", "l+")"#, "3\t4"),
            (#"return string.find("a.b", ".", 1, true)"#, "2\t2"),
            (#"return string.find("abc", "b", -1)"#, "nil"),
            (#"return string.match("key = value", "(%w+)%s*=%s*(%w+)")"#, "key\tvalue"),
            (#"return string.match("  x", "^%s*()")"#, "3"),
            (#"return string.match("THE (quick) fox", "%((%a+)%)")"#, "quick"),
            (#"return string.match("f(a(b)c)d", "%b()")"#, "(a(b)c)"),
            (#"return string.match("THE (quick) fox", "%f[%a]%a+", 5)"#, "quick"),
            (#"return string.match("hello", "^(h)(e)")"#, "h\te"),
            (#"return string.match("2024-11-30", "(%d+)-(%d+)-(%d+)$")"#, "2024\t11\t30"),
            (#"return string.match("aaa", "a-b")"#, "nil"),
            (#"return string.match("xaaay", "a-y")"#, "aaay"),
            (#"return string.match("abba", "(a)(b)%2%1")"#, "a\tb"),
            (#"return string.gsub("hello world", "o", "0")"#, "hell0 w0rld\t2"),
            (#"return string.gsub("hello world", "(%w+)", "<%1>")"#, "<hello> <world>\t2"),
            (#"return string.gsub("abc", "%w", "%0%0")"#, "aabbcc\t3"),
            (#"return string.gsub("$name is $age", "%$(%w+)", { name = "ann", age = 7 })"#, "ann is 7\t2"),
            (#"return string.gsub("abc", "", "-")"#, "-a-b-c-\t4"),
            (#"return string.gsub("abc", "b", function(c) return c:upper() end)"#, "aBc\t1"),
            (#"return string.gsub("a,b,,c", ",", ";", 2)"#, "a;b;,c\t2"),
            (#"local t = {} for k, v in string.gmatch("a=1, b=2", "(%w+)=(%w+)") do t[#t+1] = k .. v end return table.concat(t, " ")"#, "a1 b2"),
            (#"local n = 0 for w in ("one two  three"):gmatch("%a+") do n = n + 1 end return n"#, "3"),
            (#"return ("[a]"):find("[", 1, true)"#, "1\t1"),
            (#"return ("x"):rep(3):gsub("[^%a]", "")"#, "xxx\t0"),
        ]
        for (code, expected) in cases {
            let r = try lua.execute(code, chunkName: "t")
            #expect(r.map { lua.plainString($0) }.joined(separator: "\t") == expected, "\(code)")
        }
        for bad in [#"return string.find("a", "[a")"#, #"return string.find("a", "%")"#, #"return string.gsub("a", "a", "%2")"#] {
            #expect(throws: LuaError.self, "\(bad)") { try lua.execute(bad, chunkName: "t") }
        }
    }
}
