import Cluster
import Foundation
import Lua
import Runbook
import Simulator

/// How one drill went.
public struct DrillOutcome: Sendable {
    public var name: String
    public var file: String
    /// Empty when the drill passed.
    public var failures: [String] = []
    /// The drill could not be run as written (exit 2).
    public var inputError: DrillInputError?
    public var seconds: Double = 0
    /// What the runs showed, for --verbose and JUnit.
    public var log = ""
    /// How the drill's run ended: "completed", or "stopped at 'STEP': OUTCOME (exit N)"; nil when
    /// it did not run. A real drill and its simulator twin must end the same way.
    public var ending: String?

    public init(name: String, file: String, inputError: DrillInputError? = nil, seconds: Double = 0) {
        self.name = name
        self.file = file
        self.inputError = inputError
        self.seconds = seconds
    }

    public var passed: Bool { failures.isEmpty && inputError == nil }

    /// `PASS name (0.12s)` or `FAIL name: reason`.
    public var line: String {
        if let inputError { return "FAIL \(name): \(inputError.description)" }
        if passed { return "PASS \(name) (\(String(format: "%.2f", seconds))s)" }
        return "FAIL \(name): \(failures.joined(separator: "; "))"
    }
}

/// Runs drills (see drills/README.md): each in its own temporary state directory, with its own
/// journal, memory and saved simulator state, so a crash and resume work as they do for real.
public struct DrillRunner {
    public var library: RunbookLibrary
    /// Where drills with a devcluster target run (nil: they cannot run here).
    public var devclusters: DrillDevclusters?
    public init(library: RunbookLibrary, devclusters: DrillDevclusters? = nil) {
        self.library = library
        self.devclusters = devclusters
    }

    /// The drill files named: files as given, directories as every `*.lua` in them, sorted.
    public static func files(_ arguments: [String]) throws -> [String] {
        var out: [String] = []
        for a in arguments {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: a, isDirectory: &isDir) else {
                throw DrillInputError(file: a, line: nil, "no such drill file or directory")
            }
            if isDir.boolValue {
                let names = ((try? FileManager.default.contentsOfDirectory(atPath: a)) ?? []).filter { $0.hasSuffix(".lua") }.sorted()
                out += names.map { (a as NSString).appendingPathComponent($0) }
            } else {
                out.append(a)
            }
        }
        return out
    }

    public func run(file: String) -> DrillOutcome {
        let started = Date()
        let name = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
        do {
            let spec = try DrillSpec.load(path: file)
            return run(spec)
        } catch let e as DrillInputError {
            return DrillOutcome(name: name, file: file, inputError: e, seconds: Date().timeIntervalSince(started))
        } catch {
            return DrillOutcome(name: name, file: file, inputError: DrillInputError(file: file, line: nil, "\(error)"),
                                seconds: Date().timeIntervalSince(started))
        }
    }

    public func run(_ spec: DrillSpec) -> DrillOutcome {
        let started = Date()
        var outcome = DrillOutcome(name: spec.name, file: spec.file)
        let terminal = ScriptedTerminal(interactive: false)
        var root: String?
        do {
            root = try makeScratchDirectory("warren-drill")
            (outcome.failures, outcome.ending) = try execute(spec, root: root!, terminal: terminal)
        } catch let e as DrillInputError {
            outcome.inputError = e
        } catch {
            outcome.failures = ["\(error)"]
        }
        if let root { try? FileManager.default.removeItem(atPath: root) }
        outcome.log = terminal.text
        outcome.seconds = Date().timeIntervalSince(started)
        return outcome
    }

    private func input(_ spec: DrillSpec, _ line: Int?, _ message: String) -> DrillInputError {
        DrillInputError(file: spec.file, line: line, message)
    }

    private func find(_ spec: DrillSpec, _ r: DrillRunSpec) throws -> RunbookSource {
        do {
            return try library.find(r.runbook)
        } catch {
            throw input(spec, r.line, "\(error)")
        }
    }

    private func options(_ r: DrillRunSpec, spec: DrillSpec, root: String) throws -> RunOptions {
        var o = RunOptions()
        // "{STATE}" in a parameter: the drill's temporary state directory (e.g. reset-node's backup).
        o.params = r.params.mapValues { $0.replacingOccurrences(of: "{STATE}", with: root) }
        o.assumeYes = r.yes
        if !r.answers.isEmpty { o.answers = try AnswerScript(text: r.answers.joined(separator: "\n"), path: spec.file) }
        return o
    }

    /// Lists a runbook's steps on the current cluster (changes nothing), and checks the answers' step ids.
    private func discover(_ spec: DrillSpec, _ r: DrillRunSpec, source: RunbookSource, sessions: DrillCluster,
                          root: String) throws -> [String] {
        let steps: [String]
        do {
            steps = try sessions.discover(source, options: try options(r, spec: spec, root: root)).steps.map(\.id)
        } catch let e as RunbookError {
            throw input(spec, r.line, "runbook '\(r.runbook)': \(e.description)")
        }
        for a in r.answers {
            guard let colon = a.firstIndex(of: ":") else { continue }
            var key = a[..<colon].trimmingCharacters(in: .whitespaces)
            if key.hasSuffix("#unsafe") { key = String(key.dropLast(7)) }
            if !steps.contains(key) {
                throw input(spec, spec.line(of: key), unknownStep(key, runbook: r.runbook, steps: steps, what: "an answer"))
            }
        }
        return steps
    }

    private func unknownStep(_ id: String, runbook: String, steps: [String], what: String) -> String {
        var m = "\(what) names the step '\(id)', which runbook '\(runbook)' does not have"
        if let near = nearest(id, in: steps) { m += "; did you mean '\(near)'?" }
        return m + "; its steps are: \(steps.joined(separator: ", "))"
    }

    /// The simulated cluster a drill names, with its demo queues.
    private func simulatedCluster(_ spec: DrillSpec, root: String, terminal: ScriptedTerminal) throws -> SimulatedSessions {
        let sim = Simulator(nodes: spec.nodes, seed: spec.seed, clusterName: "sim", partitionHandling: spec.partitionHandling,
                            formed: spec.formed, spares: spec.spares, version: spec.version)
        do {
            if spec.demo { try sim.declareDemoSet() }
        } catch {
            throw input(spec, DrillSpec.line(ofKey: "demo", in: spec.source), "cannot declare the demo queues: \(error)")
        }
        try declareQueues(spec, on: sim)
        return try SimulatedSessions(root: root, simulator: sim, library: library, terminal: terminal)
    }

    /// Declares the drill's queues and publishes their messages; returns how many went into each.
    @discardableResult
    private func declareQueues(_ spec: DrillSpec, on backend: Backend) throws -> [String: Int] {
        var published: [String: Int] = [:]
        for (q, messages) in spec.queues {
            do {
                try backend.declareQueue(q)
                if messages > 0 { try backend.publish(queue: q.name, count: messages, mandatory: true) }
                published[q.name] = messages
            } catch {
                throw input(spec, spec.line(of: q.name), "cannot declare queue '\(q.name)': \(error)")
            }
        }
        return published
    }

    /// The devcluster a drill names, from the command line's ``DrillDevclusters``.
    private func realCluster(_ spec: DrillSpec, root: String, terminal: ScriptedTerminal) throws -> RealDrillSessions {
        guard let devclusters else {
            throw input(spec, DrillSpec.line(ofKey: "devcluster", in: spec.source),
                        "this drill runs on real RabbitMQ (target.devcluster): run it with `warren drill` as root, which makes the devcluster")
        }
        for f in spec.faults {
            if case .cluster(let fault) = f.fault, !devclusters.faults.contains(fault.name) {
                throw input(spec, f.line, "fault '\(fault.name)' cannot be made on a real devcluster (it can make: \(devclusters.faults.sorted().joined(separator: ", ")))")
            }
        }
        let target: ClusterTarget
        do { target = try devclusters.target(for: spec) } catch {
            throw DrillInputError(file: spec.file, line: nil, "no devcluster to run on: \(error)")
        }
        let sessions = try RealDrillSessions(root: root, target: target, library: library, terminal: terminal,
                                             restore: devclusters.restore)
        sessions.published = try declareQueues(spec, on: target.backend)
        return sessions
    }

    private func execute(_ spec: DrillSpec, root: String, terminal: ScriptedTerminal) throws -> (failures: [String], ending: String?) {
        let mainSource = try find(spec, spec.run)
        let setupSources = try spec.setup.map { try find(spec, $0) }
        let resumeSource = try spec.resume.map { try find(spec, $0) }

        // The cluster.
        let sessions: DrillCluster
        if spec.devcluster != nil {
            sessions = try realCluster(spec, root: root, terminal: terminal)
        } else {
            sessions = try simulatedCluster(spec, root: root, terminal: terminal)
        }
        // Nodes named by faults.
        let known = sessions.backend.nodeNames.map { $0.replacingOccurrences(of: "rabbit@", with: "") }
        func resolve(_ n: String) throws -> String {
            do { return try sessions.backend.resolve(n) } catch {
                throw input(spec, spec.line(of: n), "unknown node '\(n)'; the drill's cluster has: \(known.joined(separator: ", "))")
            }
        }
        var faults = spec.faults
        for i in faults.indices {
            if case .cluster(let f) = faults[i].fault { faults[i].fault = .cluster(try f.mapNodes(resolve)) }
            if case .after(let p, let n?, let s, let nth) = faults[i].trigger {
                faults[i].trigger = .after(primitive: p, node: try resolve(n), step: s, nth: nth)
            }
            if case .start = faults[i].trigger, case .crash = faults[i].fault {
                throw input(spec, faults[i].line, "a crash at = \"start\" would stop nothing: schedule it before a step or after a primitive")
            }
            if case .resume = faults[i].trigger {
                if case .crash = faults[i].fault {
                    throw input(spec, faults[i].line, "a crash at = \"resume\" would stop nothing: schedule it before a step or after a primitive")
                }
                if spec.resume == nil {
                    throw input(spec, faults[i].line, "a fault at = \"resume\" needs the drill to resume: add resume = true (or resume = { answers = ... })")
                }
            }
        }
        // Setup runs, on the same cluster and memory.
        for (k, r) in spec.setup.enumerated() {
            _ = try discover(spec, r, source: setupSources[k], sessions: sessions, root: root)
            let out = try sessions.run(setupSources[k], options: try options(r, spec: spec, root: root))
            if let e = out.result.error {
                return (["setup runbook '\(r.runbook)' did not complete: \(e.description)"], nil)
            }
        }

        // The drill's run.
        let steps = try discover(spec, spec.run, source: mainSource, sessions: sessions, root: root)
        for f in faults {
            switch f.trigger {
            case .before(let id) where !steps.contains(id):
                throw input(spec, spec.line(of: id) ?? f.line, unknownStep(id, runbook: spec.run.runbook, steps: steps, what: "a fault"))
            case .after(_, _, let s?, _) where !steps.contains(s):
                throw input(spec, spec.line(of: s) ?? f.line, unknownStep(s, runbook: spec.run.runbook, steps: steps, what: "a fault"))
            default: break
            }
        }
        if let s = spec.expect.stoppedAt, !steps.contains(s) {
            throw input(spec, spec.line(of: s), unknownStep(s, runbook: spec.run.runbook, steps: steps, what: "expect.stopped_at"))
        }

        var fired = Set<Int>()
        var counts = [Int: Int]()
        var currentStep: String?
        var failures: [String] = []
        /// Fires fault i; true when it is a crash of warren.
        func fire(_ i: Int) -> Bool {
            fired.insert(i)
            guard case .cluster(let f) = faults[i].fault else { return true }
            do { try sessions.inject(f) } catch {
                failures.append("fault '\(f)' (line \(faults[i].line ?? 0)) could not be injected: \(error)")
            }
            return false
        }
        for i in faults.indices { if case .start = faults[i].trigger { _ = fire(i) } }
        sessions.beforeStep = { id in
            currentStep = id
            var crash = false
            for i in faults.indices where !fired.contains(i) {
                if case .before(id) = faults[i].trigger { crash = fire(i) || crash }
            }
            if crash { throw SimulatedCrash() }
        }
        sessions.afterPrimitive = { call in
            var crash = false
            for i in faults.indices where !fired.contains(i) {
                guard case .after(let p, let n, let s, let nth) = faults[i].trigger else { continue }
                if let p, p != call.name { continue }
                if let n, n != call.node { continue }
                if let s, s != currentStep { continue }
                counts[i, default: 0] += 1
                if counts[i]! == nth { crash = fire(i) || crash }
            }
            if crash { throw SimulatedCrash() }
        }

        let baseline = sessions.invariants()
        var out = try sessions.run(mainSource, options: try options(spec.run, spec: spec, root: root))
        let session = out.session
        var crashes = 0
        var resumedOnce = false
        /// Where the runs before the last one stopped (not crashes): "restart-n2: failed (exit 1)".
        var stops: [(step: String, how: String, error: String)] = []
        while true {
            if out.result.crashed {
                crashes += 1
                if crashes > 20 { failures.append("warren crashed more than 20 times"); break }
                terminal.write("\n-- warren crashed (simulated); `warren resume` --\n")
                guard let next = try sessions.resume(session, options: try options(spec.run, spec: spec, root: root)) else { break }
                out = next
                continue
            }
            if out.result.error != nil, let r = spec.resume, resumeSource != nil, !resumedOnce {
                resumedOnce = true
                if case .usage? = out.result.error { break }
                if let e = out.result.error {
                    stops.append((SimulatedSessions.stoppedAt(sessions.journal(session)) ?? "?", "\(e.outcome) (exit \(e.exitCode))", e.description))
                }
                for i in faults.indices where !fired.contains(i) { if case .resume = faults[i].trigger { _ = fire(i) } }
                terminal.write("\n-- resuming --\n")
                guard let next = try sessions.resume(session, options: try options(r, spec: spec, root: root)) else { break }
                out = next
                continue
            }
            break
        }
        let result = out.result

        // Expectations.
        let completed = result.error == nil && !result.crashed
        let entries = sessions.journal(session)
        let stoppedAt = completed ? nil : SimulatedSessions.stoppedAt(entries)
        let errorText = result.error?.description ?? ""
        let how = completed ? "it completed" : "it stopped\(stoppedAt.map { " at step '\($0)'" } ?? ""): \(errorText)"
        let ending = (stops.map { "stopped at '\($0.step)': \($0.how); resumed" } + [completed ? "completed"
            : "stopped\(stoppedAt.map { " at '\($0)'" } ?? ""): \(result.error?.outcome ?? "crashed") (exit \(result.error?.exitCode ?? 1))"])
            .joined(separator: "; ")
        if case .usage? = result.error {
            throw input(spec, spec.run.line, "runbook '\(spec.run.runbook)': \(errorText)")
        }
        if spec.expect.completed == true && !completed { failures.append("expected the run to complete, but \(how)") }
        if spec.expect.completed == false && completed { failures.append("expected the run not to complete, but it completed") }
        if let want = spec.expect.stoppedAt {
            if completed {
                failures.append("expected the run to stop at step '\(want)', but it completed")
            } else if stoppedAt != want {
                failures.append("expected the run to stop at step '\(want)', but \(how)")
            }
        }
        if let want = spec.expect.error, !errorText.lowercased().contains(want.lowercased()) {
            failures.append(completed ? "expected an error mentioning '\(want)', but the run completed"
                                      : "expected the error to mention '\(want)', got: \(errorText)")
        }
        if let want = spec.expect.resumable {
            let resumable = !entries.isEmpty && SessionSummary(entries: entries).resumable
            if resumable != want { failures.append(want ? "expected the session to be resumable, it is not" : "expected the session to be finished, it is resumable") }
        }
        let twice = SimulatedSessions.stepsDoneTwice(entries)
        if !twice.isEmpty { failures.append("step(s) done more than once: \(twice.joined(separator: ", "))") }
        let inv = sessions.invariants()
        if spec.expect.invariants {
            let before = Set(baseline.majorityLosses.map(\.queue))
            let losses = inv.majorityLosses.filter { !before.contains($0.queue) }
            if !spec.expect.majorityLossOk && !losses.isEmpty {
                failures.append("invariant broken: quorum queue(s) lost their majority: " +
                                losses.map { "\($0.queue) (\(RunbookEngine.duration($0.seconds)))" }.joined(separator: ", "))
            }
            let lost = inv.lostMessages.filter { $0.value > (baseline.lostMessages[$0.key] ?? 0) }
            if !lost.isEmpty {
                failures.append("invariant broken: confirmed messages lost: " + lost.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))
            }
        }
        if let want = spec.expect.converged, inv.converged != want {
            failures.append(want ? "expected the cluster to converge, but: \(inv.convergenceProblems.joined(separator: "; "))"
                                 : "expected the cluster not to converge, but it did")
        }
        for i in faults.indices where !fired.contains(i) {
            failures.append("the fault '\(faults[i].fault)' (line \(faults[i].line.map(String.init) ?? "?")) never fired: its step or primitive was not reached")
        }
        if let check = spec.check {
            let state = DrillState.table(backend: sessions.backend, events: sessions.events, invariants: inv, completed: completed, stoppedAt: stoppedAt,
                                         error: result.error?.description, stops: stops.map { ($0.step, $0.error) }, journal: entries)
            do {
                let r = try check.call([state])
                let ok: Bool
                switch r.first {
                case .bool(let b)?: ok = b
                case nil, .nil?: ok = false
                default: ok = true
                }
                if !ok {
                    let why = r.count > 1 ? spec.lua.plainString(r[1]) : "check(state) returned \(r.first.map { spec.lua.plainString($0) } ?? "nothing")"
                    failures.append("check failed: \(why)")
                }
            } catch {
                failures.append("check raised an error: \(error)")
            }
        }
        return (failures, ending)
    }
}

/// The table a drill's `check(state)` receives.
enum DrillState {
    static func strings(_ list: [String]) -> LuaValue { .array(list.map { .string($0) }) }

    static func table(backend: Backend, events: [String], invariants inv: InvariantReport, completed: Bool, stoppedAt: String?, error: String?,
                      stops: [(step: String, error: String)], journal: [JournalEntry]) -> LuaValue {
        var status: [String: LuaValue] = [:]
        var nodes: [String: LuaValue] = [:]
        if let s = try? backend.status() {
            var nodeList: [LuaValue] = []
            for n in s.nodes {
                let t = LuaValue.map([
                    "name": .string(n.name), "state": .string(n.state.rawValue), "maintenance": .bool(n.underMaintenance),
                    "members": strings(n.members), "alarms": strings(n.alarms), "partitions": strings(n.partitions),
                    "replicas": .int(Int64(n.replicas)), "leaders": .int(Int64(n.leaders)),
                    "version": n.versions.map { .string($0.rabbitmq) } ?? .nil,
                ])
                nodeList.append(t)
                nodes[n.name] = t
                nodes[n.name.replacingOccurrences(of: "rabbit@", with: "")] = t
            }
            status = [
                "cluster_name": .string(s.clusterName), "members": strings(s.members), "running": strings(s.running),
                "partitions": .map(s.partitions.mapValues { strings($0) }), "alarms": .map(s.alarms.mapValues { strings($0) }),
                "maintenance": strings(s.maintenance), "healthy": .bool(s.healthy), "nodes": .array(nodeList),
            ]
        }
        var queues: [String: LuaValue] = [:]
        for q in (try? backend.queues(type: nil)) ?? [] {
            queues[q.name] = .map([
                "name": .string(q.name), "type": .string(q.type.rawValue), "leader": q.leader.map { .string($0) } ?? .nil,
                "members": strings(q.members), "online": strings(q.online), "messages": .int(Int64(q.messages)),
                "available": .bool(q.available), "durable": .bool(q.durable),
            ])
        }
        let invariants = LuaValue.map([
            "ok": .bool(inv.majorityLosses.isEmpty && inv.lostMessages.isEmpty),
            "majority_losses": .array(inv.majorityLosses.map { .map(["queue": .string($0.queue), "seconds": .double($0.seconds)]) }),
            "lost_messages": .map(inv.lostMessages.mapValues { .int(Int64($0)) }),
            "converged": .bool(inv.converged),
            "problems": strings(inv.convergenceProblems),
        ])
        var notes: [String: LuaValue] = [:]
        for n in ReportWriter.notes(journal) { notes[n.key] = .string(n.value) }
        var primitives: [String] = []
        var stepsDone: [String] = []
        for e in journal {
            switch e.event {
            case .primitiveResult(let r) where !r.isGate && r.recovered != true:
                primitives.append("\(r.primitive) \(r.node ?? "")".trimmingCharacters(in: .whitespaces))
            case .stepDone(let d): stepsDone.append(d.step)
            default: break
            }
        }
        return .map([
            "completed": .bool(completed),
            "stopped_at": stoppedAt.map { .string($0) } ?? .nil,
            "stops": .array(stops.map { .map(["step": .string($0.step), "error": .string($0.error)]) }),
            "error": error.map { .string($0) } ?? .nil,
            "status": .map(status),
            "nodes": .map(nodes),
            "queues": .map(queues),
            "invariants": invariants,
            "steps_done": strings(stepsDone),
            "primitives": strings(primitives),
            "notes": .map(notes),
            "events": strings(events),
        ])
    }
}

/// JUnit XML for CI.
public enum DrillJUnit {
    public static func render(_ outcomes: [DrillOutcome], suite: String = "warren drills") -> String {
        func esc(_ s: String) -> String {
            var out = ""
            for ch in s.unicodeScalars {
                switch ch {
                case "&": out += "&amp;"
                case "<": out += "&lt;"
                case ">": out += "&gt;"
                case "\"": out += "&quot;"
                case "'": out += "&apos;"
                default:
                    if ch.value < 0x20 && ch != "\n" && ch != "\t" && ch != "\r" { continue }
                    out.unicodeScalars.append(ch)
                }
            }
            return out
        }
        let failures = outcomes.filter { !$0.passed && $0.inputError == nil }.count
        let errors = outcomes.filter { $0.inputError != nil }.count
        let total = outcomes.reduce(0) { $0 + $1.seconds }
        var x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        x += "<testsuites tests=\"\(outcomes.count)\" failures=\"\(failures)\" errors=\"\(errors)\" time=\"\(String(format: "%.3f", total))\">\n"
        x += "  <testsuite name=\"\(esc(suite))\" tests=\"\(outcomes.count)\" failures=\"\(failures)\" errors=\"\(errors)\" time=\"\(String(format: "%.3f", total))\">\n"
        for o in outcomes {
            x += "    <testcase classname=\"drills\" name=\"\(esc(o.name))\" file=\"\(esc(o.file))\" time=\"\(String(format: "%.3f", o.seconds))\""
            if o.passed && o.ending == nil {
                x += "/>\n"
                continue
            }
            x += ">\n"
            // How the run ended: a real drill and its simulator twin are compared on it.
            if let ending = o.ending { x += "      <properties><property name=\"ending\" value=\"\(esc(ending))\"/></properties>\n" }
            if o.passed {
                x += "    </testcase>\n"
                continue
            }
            if let e = o.inputError {
                x += "      <error message=\"\(esc(e.description))\" type=\"input\"/>\n"
            } else {
                x += "      <failure message=\"\(esc(o.failures.joined(separator: "; ")))\" type=\"expectation\">\(esc(o.failures.joined(separator: "\n")))</failure>\n"
                let tail = o.log.split(separator: "\n").suffix(60).joined(separator: "\n")
                x += "      <system-out>\(esc(tail))</system-out>\n"
            }
            x += "    </testcase>\n"
        }
        x += "  </testsuite>\n</testsuites>\n"
        return x
    }
}
