import Lua

/// `warren-bench lua`: 1,000,000 calls of a trivial host function from Lua.
func luaBenchmarks(_ args: [String]) {
    let lua = LuaState(instructionBudget: nil)
    var calls = 0
    lua.register("tick") { _ in calls += 1; return [] }
    let chunk = try! lua.load("for i = 1, 1000000 do tick(i) end", chunkName: "bench")
    let t = try! median(runs: 5) { _ = try lua.call(chunk, []) }
    report("1,000,000 host function calls from Lua (median of 5)", String(format: "%.3f s", t), target: "<= 0.5 s")
    precondition(calls == 5_000_000)
}
