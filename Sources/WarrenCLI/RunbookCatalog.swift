import Cluster
import Foundation
import Lua
import Runbook

/// Runbook listings and preflight tables, shared by the commands and the shell.
enum RunbookCatalog {
    /// Each runbook's name and summary, read from its `runbook{...}` without running it.
    static func metadata(_ library: RunbookLibrary) -> [(name: String, summary: String)] {
        library.names().map { name in
            guard let source = try? library.find(name) else { return (name, "") }
            return (name, summary(of: source) ?? "(no summary)")
        }
    }

    static func summary(of source: RunbookSource) -> String? {
        declaration(of: source)?["summary"].stringValue
    }

    /// The names of the runbook's parameters (`params = { { name = ... } }`).
    static func parameters(of source: RunbookSource) -> [String] {
        declaration(of: source)?["params"].tableValue?.array.compactMap { $0.tableValue?["name"].stringValue } ?? []
    }

    /// The table the runbook gives `runbook{...}`, read without running anything after it.
    static func declaration(of source: RunbookSource) -> LuaTable? {
        let lua = LuaState(memoryLimit: 8 << 20, instructionBudget: 1_000_000)
        var declared: LuaTable?
        lua.register("runbook") { args in
            declared = try args.table(0)
            throw LuaArgumentError("declared")  // stop here: nothing else runs
        }
        _ = try? lua.execute(source.content, chunkName: source.fileName)
        return declared
    }

    static func render(_ library: RunbookLibrary) -> String {
        let list = metadata(library)
        guard !list.isEmpty else { return "No runbooks found in: \(library.roots.joined(separator: ", "))" }
        let width = list.map(\.name.count).max() ?? 0
        return list.map { $0.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.summary }.joined(separator: "\n")
    }

    static func renderPreflight(_ checks: [PreflightCheck]) -> String {
        let width = checks.map(\.name.count).max() ?? 0
        return checks.map { c in
            let mark = c.outcome == .pass ? "ok  " : c.outcome == .warn ? "WARN" : "FAIL"
            return "\(mark)  \(c.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(c.detail)"
        }.joined(separator: "\n")
    }
}
