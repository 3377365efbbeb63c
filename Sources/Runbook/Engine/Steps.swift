import Foundation
import Lua

/// `runbook{}` and `step`: the checkpointed units of a run.
extension RunbookEngine {
    func declare(_ t: LuaTable) throws {
        guard metadata == nil else { throw RunbookError.usage("runbook{...} is called twice") }
        let name = t["name"].stringValue ?? source.fileName
        var params: [ParamSpec] = []
        if case .table(let list) = t["params"] {
            for (i, p) in list.array.enumerated() {
                guard case .table(let pt) = p, let pname = pt["name"].stringValue else {
                    throw RunbookError.usage("runbook '\(name)': params[\(i + 1)] needs a name")
                }
                let def: String? = pt["default"].isNil ? nil : (pt["default"].stringValue ?? lua?.plainString(pt["default"]) ?? "\(pt["default"])")
                params.append(ParamSpec(name: pname, defaultValue: def, help: pt["help"].stringValue ?? "",
                                        required: pt["required"].boolValue ?? false))
            }
        }
        metadata = RunbookMetadata(name: name, summary: t["summary"].stringValue ?? "", params: params)
        for given in options.params.keys.sorted() where !params.contains(where: { $0.name == given }) {
            let takes = params.isEmpty ? "it takes no parameters" : "it takes: \(params.map(\.name).joined(separator: ", "))"
            throw latch.stop(.usage("unknown parameter '\(given)' for runbook '\(name)'; \(takes); nothing was changed"))
        }
        for p in params where p.required && p.defaultValue == nil && options.params[p.name] == nil {
            throw latch.stop(.usage("runbook '\(name)' needs the parameter '\(p.name)' (\(p.help)): add --param \(p.name)=VALUE; nothing was changed"))
        }
    }

    static func slug(_ title: String) -> String {
        var out = ""
        for ch in title.lowercased() {
            if ch.isLetter || ch.isNumber { out.append(ch) } else if !out.hasSuffix("-") && !out.isEmpty { out.append("-") }
        }
        while out.hasSuffix("-") { out.removeLast() }
        return out.isEmpty ? "step" : out
    }

    func step(_ args: LuaArguments) throws -> [LuaValue] {
        if let abort = latch.abort { throw abort }
        guard metadata != nil else { throw latch.stop(.usage("step() before runbook{...}: declare the runbook first")) }
        var id: String, title: String
        var run: LuaFunction, doneIf: LuaFunction?
        switch args[0] {
        case .string(let t):
            title = t
            id = RunbookEngine.slug(t)
            run = try args.function(1)
        case .table(let t):
            guard case .function(let r) = t["run"] else { throw LuaArgumentError("step{...}: 'run' must be a function") }
            run = r
            title = t["title"].stringValue ?? t["id"].stringValue ?? "step"
            id = t["id"].stringValue ?? RunbookEngine.slug(title)
            if case .function(let d) = t["done_if"] { doneIf = d }
        default:
            throw LuaArgumentError("step(title, function) or step{ id =, title =, run =, done_if = } expected")
        }
        if let current = primitiveGuard.step {
            throw latch.stop(.failed("step '\(id)' is declared inside step '\(current)'; steps cannot nest"))
        }
        if let other = seenSteps[id] {
            throw latch.stop(.usage("the step id '\(id)' is used twice (\"\(other)\" and \"\(title)\"); give each step a unique id; nothing was changed"))
        }
        seenSteps[id] = title
        declaredSteps.append((id, title))
        stepIndex += 1
        if discovering { return [] }
        let label = "[\(stepIndex)/\(max(totalSteps, stepIndex))] \(title)"

        if let resume, resume.stepsDone.contains(id) {
            console.write("↷ \(label): done in an earlier run\n")
            journal.append(.stepSkipped(.init(step: id, title: title)))
            result.stepsSkipped += 1
            return []
        }
        if resume == nil, let start = options.startAtStep, !reachedStart {
            if id != start {
                console.write("↷ \(label): skipped (the run starts at step '\(start)')\n")
                journal.append(.stepSkipped(.init(step: id, title: title, message: "skipped: --start-at-step \(start)")))
                result.stepsSkipped += 1
                return []
            }
            reachedStart = true
        }
        if options.confirmEachStep && !stepByStepEnded && options.mode == .run {
            switch try questions.ask("Run step \(label)?", choices: ["yes", "skip", "continue", "stop"], step: id) {
            case "skip":
                console.write("↷ \(label): skipped by the operator\n")
                journal.append(.stepSkipped(.init(step: id, title: title, message: "skipped by the operator (--step)")))
                result.stepsSkipped += 1
                return []
            case "continue":
                stepByStepEnded = true
            case "stop":
                throw latch.stop(.refused("stopped before step '\(id)' (--step)"))
            default:
                break
            }
        }
        do {
            try beforeStep?(id)
        } catch is SimulatedCrash {
            latch.crashed = true
            throw latch.stop(.interrupted)
        }
        if options.mode == .run, let doneIf, resume?.stoppedAt == id {
            let r = try doneIf.call([])
            if let first = r.first, first.boolValue ?? !first.isNil {
                console.write("↷ \(label): already done (its done_if says so)\n")
                journal.append(.stepDone(.init(step: id, title: title, outcome: "done_if")))
                result.stepsDone += 1
                return []
            }
        }
        console.write("\n▶ \(label)\n")
        journal.append(.stepStart(.init(step: id, title: title)))
        primitiveGuard.step = id
        let started = backend.now()
        do {
            _ = try run.call([])
        } catch {
            primitiveGuard.closeLine()
            result.changedInStoppedStep = primitiveGuard.changesInStep
            primitiveGuard.step = nil
            if latch.crashed { throw error }
            let e: RunbookError
            if let abort = latch.abort {
                e = abort
            } else if case LuaError.interrupted = error {
                e = .interrupted
            } else if lua?.interruptRequested ?? false {
                // Ctrl-C also reached the tool the primitive was running, which failed because of it.
                e = .interrupted
            } else if let le = error as? LuaError {
                e = .failed("step '\(id)' failed: \(le.description)")
            } else {
                e = .failed("step '\(id)' failed: \(error)")
            }
            latch.stop(e)
            switch e {
            case .interrupted, .refused:
                journal.append(.interrupted(.init(step: id, title: title, outcome: e.outcome, message: e.description)))
                console.write("■ \(label): \(e.outcome)\n")
            default:
                journal.append(.stepFailed(.init(step: id, title: title, outcome: e.outcome, message: e.description)))
                console.write("✘ \(label): \(e.description)\n")
            }
            throw e
        }
        primitiveGuard.closeLine()
        let changes = primitiveGuard.changesInStep
        primitiveGuard.step = nil
        if let abort = latch.abort {  // a refusal swallowed by pcall inside the step still stops the run
            result.changedInStoppedStep = changes
            throw abort
        }
        let duration = backend.now() - started
        journal.append(.stepDone(.init(step: id, title: title, outcome: "done", duration: duration)))
        console.write("✔ \(label) (\(RunbookEngine.duration(duration)))\n")
        result.stepsDone += 1
        return []
    }
}
