import Cluster
import Foundation
import Lua

/// The engine's Lua API: `runbook{}`, `param`, `step`, `previously`, `confirm`, `ask`, `say`,
/// `note`, `memory.get/set`, `wait_until`, `gate.*`, beside the target's `cluster`, node methods
/// and `fault` (ClusterBindings).
extension RunbookEngine {
    func makeState() -> LuaState {
        let state = LuaState(memoryLimit: 64 << 20, instructionBudget: 200_000_000)
        state.output = { [unowned self] text in
            primitiveGuard.closeLine()
            console.write(text)
        }
        state.installRequire(roots: library.requireRoots)
        bindings.observer = primitiveGuard
        bindings.install(into: state)
        state.register("runbook") { [unowned self] args in try declare(args.table(0)); return [] }
        state.register("param") { [unowned self] args in
            let name = try args.string(0)
            guard let m = metadata else { throw RunbookError.failed("param('\(name)') before runbook{...}") }
            guard let spec = m.params.first(where: { $0.name == name }) else {
                throw LuaArgumentError("param('\(name)'): runbook '\(m.name)' declares no such parameter (it has: \(m.params.map(\.name).joined(separator: ", ")))")
            }
            return [(options.params[name] ?? spec.defaultValue).map { .string($0) } ?? .nil]
        }
        state.register("step") { [unowned self] args in try step(args) }
        // previously("stop", node): whether this step already completed that primitive, in an
        // earlier attempt (before a crash or interruption) or in this one. Lets a re-run step skip
        // what is done instead of doing it twice.
        state.register("previously") { [unowned self] args in
            let name = try args.string(0)
            let node = args[1].isNil ? "" : try bindings.node(args, 1)
            return [.bool(primitiveGuard.previously(name, node: node))]
        }
        state.register("confirm") { [unowned self] args in
            let text = try args.string(0)
            guard let step = primitiveGuard.step else {
                throw latch.stop(.failed("confirm(\"\(text)\") is outside any step; confirmations belong to the step whose changes they approve"))
            }
            primitiveGuard.closeLine()
            let yes = try questions.confirm(text, step: step, refusal: "confirmation refused at step '\(step)': \"\(text)\"")
            primitiveGuard.confirmedInStep = true
            return [.bool(yes)]
        }
        state.register("ask") { [unowned self] args in
            let text = try args.string(0)
            let choices = try args.table(1).array.compactMap { $0.stringValue }
            guard let step = primitiveGuard.step else { throw latch.stop(.failed("ask(\"\(text)\") is outside any step")) }
            guard !choices.isEmpty else { throw LuaArgumentError("ask: give at least one choice") }
            primitiveGuard.closeLine()
            return [.string(try questions.ask(text, choices: choices, step: step))]
        }
        state.register("say") { [unowned self] args in
            let text = args.values.map { state.plainString($0) }.joined(separator: " ")
            guard !discovering else { return [] }
            primitiveGuard.closeLine()
            console.write("  » \(text)\n")
            journal.append(.say(.init(step: primitiveGuard.step, text: text)))
            return []
        }
        state.register("note") { [unowned self] args in
            let key = try args.string(0), value = state.plainString(args[1])
            guard !discovering else { return [] }
            primitiveGuard.closeLine()
            console.write("  note: \(key) = \(value)\n")
            journal.append(.note(.init(step: primitiveGuard.step, key: key, value: value)))
            return []
        }
        state.register(table: "memory", [
            "get": { [unowned self] args in [memory.get(try args.string(0))] },
            "set": { [unowned self] args in
                guard !discovering, options.mode == .run else { return [] }
                try memory.set(args.string(0), args[1])
                return []
            },
        ])
        state.register("wait_until") { [unowned self] args in
            let fn = try args.function(0)
            let opts = try args.optionalTable(1)
            // The function returns whether the condition holds, and may return a second value:
            // what it saw (shown while waiting, and in the timeout's message).
            try waitUntil(what: opts["what"].stringValue ?? "the runbook's condition", timeout: opts["timeout"].doubleValue ?? 300,
                          every: opts["every"].doubleValue ?? 5) {
                let r = try fn.call([])
                let seen = r.count > 1 ? (r[1].stringValue ?? r[1].doubleValue.map { String($0) } ?? "") : ""
                guard let first = r.first else { return (false, seen) }
                if case .bool(false) = first { return (false, seen) }
                return (!first.isNil, seen)
            }
            return [true]
        }
        state.register(table: "gate", [
            "quorum_safe": { [unowned self] args in
                let node = try bindings.node(args, 0)
                try gateQuorumSafe(node, timeout: try args.optionalTable(1)["timeout"].doubleValue ?? 0)
                return []
            },
            "cluster_healthy": { [unowned self] args in
                let options = try args.optionalTable(0)
                let except = options["except"].isNil ? nil
                    : try bindings.node(from: options["except"], "bad option 'except' to 'cluster_healthy'")
                try gateClusterHealthy(timeout: options["timeout"].doubleValue ?? 300, except: except)
                return []
            },
            "node_running": { [unowned self] args in
                let node = try bindings.node(args, 0)
                try gateNodeRunning(node, timeout: try args.optionalTable(1)["timeout"].doubleValue ?? 300)
                return []
            },
        ])
        return state
    }
}
