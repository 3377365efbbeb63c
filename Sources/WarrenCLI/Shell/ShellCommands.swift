import Cluster
import Foundation
import Lua
import Runbook
import Sessions

extension Shell {
    /// Runs a shell command. Returns nil when the line is not a command (it is Lua), true to exit.
    func handleCommand(_ line: String) -> Bool? {
        let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard let first = words.first else { return false }
        guard Shell.commandNames.contains(first) else { return nil }
        // `status = 1` or `nodes.x` is Lua that happens to use a command's name.
        if words.count > 1, let c = words[1].first, "=.:([".contains(c) { return nil }
        let args = Array(words.dropFirst())
        switch first {
        case "exit", "quit": return true
        case "help": terminal.write(help())
        case "status": show { ClusterTables.status(try target.backend.status(), queues: try target.backend.queues(type: nil)) }
        case "nodes": show { ClusterTables.nodes(try target.backend.nodes(), members: try target.backend.status().members) }
        case "queues":
            var type: QueueType?
            if let t = args.first {
                guard let qt = QueueType(rawValue: t) else {
                    terminal.write("queues: unknown type '\(t)' (classic, quorum or stream)\n")
                    failed = true
                    return false
                }
                type = qt
            }
            show { ClusterTables.queues(try target.backend.queues(type: type), shortNames: shortNames) }
        case "runbooks": terminal.write(RunbookCatalog.render(library) + "\n")
        case "preflight": show { RunbookCatalog.renderPreflight(try target.backend.preflight()) + "\n" }
        case "sessions": listSessions()
        case "run", "plan": runbook(args, plan: first == "plan")
        case "resume": resume(args)
        default: return nil
        }
        return false
    }

    private func show(_ body: () throws -> String) {
        do { terminal.write(try body()) } catch {
            terminal.write("error: \(error)\n")
            failed = true
        }
    }

    func help() -> String {
        let width = Shell.commands.map(\.usage.count).max() ?? 0
        var out = "Commands:\n"
        for c in Shell.commands { out += "  " + c.usage.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + c.help + "\n" }
        out += """
            Lua (5.4, sandboxed): =expr prints an expression; any other line is a chunk.
              cluster.status() cluster.nodes() cluster.node("n1") cluster.queues{type="quorum"}
              cluster.declare_queue{name=, type=} cluster.grow(node, "all") cluster.shrink(node) cluster.rebalance("quorum")
              cluster.feature_flags() cluster.enable_feature_flags() (every stable flag; or one: ("name"))
              n1:stop() n1:start() n1:drain() n1:revive() n1:await_running{timeout=60} n1:quorum_critical() n1:info()
            """
        if target.faults != nil {
            out += "\n  fault.kill(n1) fault.partition({n1}, {n2, n3}) fault.heal() fault.fail_next_boot(n2) fault.invariants()"
        }
        return out + "\nTab completes commands, runbooks, Lua names and fields (cluster., n1:), node and queue names in quotes.\n"
    }

    private func listSessions() {
        let store = SessionStore(directory: paths.sessions)
        let list = store.list().suffix(20)
        if list.isEmpty {
            terminal.write("no sessions yet\n")
            return
        }
        var rows = [["ID", "RUNBOOK", "TARGET", "OUTCOME", "RESUMABLE"]]
        for s in list { rows.append([s.id, s.runbook, s.target, s.outcome + (s.stoppedAt.map { " in \($0)" } ?? ""), s.resumable ? "yes" : "no"]) }
        terminal.write(ClusterTables.table(rows))
    }

    private func runOptions(_ args: [String]) throws -> (String, RunOptions) {
        var options = RunOptions()
        var name: String?
        for a in args {
            if a == "--yes" || a == "-y" {
                options.assumeYes = true
            } else if let eq = a.firstIndex(of: "="), name != nil {
                options.params[String(a[..<eq])] = String(a[a.index(after: eq)...])
            } else if name == nil {
                name = a
            } else {
                throw RunbookError.usage("unexpected '\(a)': give parameters as NAME=VALUE")
            }
        }
        guard let name else { throw RunbookError.usage("which runbook? (`runbooks` lists them)") }
        return (name, options)
    }

    /// Runs sessions from the shell; a resume of a session on this very target continues on it.
    private func runner() -> SessionRunner {
        let runner = SessionRunner(paths: paths, library: library, terminal: terminal) { [target] spec, dir in
            spec == target.spec ? target : try Targets.restore(spec, sessionDirectory: dir)
        }
        runner.interruptRequested = { LuaState.interruptRequested }
        return runner
    }

    private func runbook(_ args: [String], plan: Bool) {
        do {
            let (name, options) = try runOptions(args)
            let source = try library.find(name)
            let code = plan ? try runner().plan(source, on: target, options: options).exitCode
                : try runner().run(source, on: target, options: options).exitCode
            if code != 0 {
                terminal.write("(exit code \(code))\n")
                failed = true
            }
        } catch {
            terminal.write("error: \(Exit.status(for: error).message)\n")
            failed = true
        }
    }

    private func resume(_ args: [String]) {
        var options = RunOptions()
        options.assumeYes = args.contains("--yes")
        let id = args.first { !$0.hasPrefix("-") }
        do {
            switch try runner().resume(id, options: options, force: args.contains("--force")) {
            case .nothingToDo(let message): terminal.write(message + "\n")
            case .resumed(let outcome):
                if outcome.exitCode != 0 {
                    terminal.write("(exit code \(outcome.exitCode))\n")
                    failed = true
                }
            }
        } catch {
            terminal.write("error: \(Exit.status(for: error).message)\n")
            failed = true
        }
    }
}
