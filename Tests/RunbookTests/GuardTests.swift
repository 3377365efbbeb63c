import Cluster
import Foundation
import WarrenTestSupport
import Lua
import Testing
@testable import Runbook
import Simulator

/// A console that answers from a list and keeps what it showed.
final class AnsweringConsole: Console {
    var text = ""
    var answers: [String]
    init(_ answers: [String]) { self.answers = answers }
    func write(_ t: String) { text += t }
    func ask(_ prompt: String) -> ConsoleAnswer {
        text += prompt
        return answers.isEmpty ? .unavailable : .line(answers.removeFirst())
    }
}

/// A simulated cluster whose quorum-critical check cannot be answered (as a real one times out),
/// everything else answered by the simulator.
final class UnansweredQuorumCheck: Backend {
    let sim: Simulator
    init(_ sim: Simulator) { self.sim = sim }
    var targetDescription: String { sim.targetDescription }
    var nodeNames: [String] { sim.nodeNames }
    func resolve(_ node: String) throws -> String { try sim.resolve(node) }
    func status() throws -> ClusterStatus { try sim.status() }
    func nodes() throws -> [NodeInfo] { try sim.nodes() }
    func queues(type: QueueType?) throws -> [QueueInfo] { try sim.queues(type: type) }
    func ping(_ node: String) throws -> Bool { try sim.ping(node) }
    func quorumCritical(_ node: String) throws -> [String] { throw ClusterError.timeout(node, "check_if_node_is_quorum_critical") }
    func awaitOnlineQuorumPlusOne(_ node: String, timeout: Double) throws { try sim.awaitOnlineQuorumPlusOne(node, timeout: timeout) }
    func health(_ node: String) throws -> [HealthCheck] { try sim.health(node) }
    func preflight() throws -> [PreflightCheck] { try sim.preflight() }
    func partitionHandlingByNode() throws -> [String: String] { try sim.partitionHandlingByNode() }
    func nodeVersions() throws -> [String: NodeVersions] { try sim.nodeVersions() }
    func featureFlags() throws -> [FeatureFlag] { try sim.featureFlags() }
    func enableFeatureFlag(_ name: String) throws { try sim.enableFeatureFlag(name) }
    func enableAllFeatureFlags() throws { try sim.enableAllFeatureFlags() }
    func policies() throws -> [Policy] { try sim.policies() }
    func metadataStore() throws -> MetadataStore? { try sim.metadataStore() }
    var upgradeUnderWay: (() -> UpgradeUnderWay?)?
    func upgrade(_ node: String, to version: RabbitMQVersion) throws { try sim.upgrade(node, to: version) }
    func start(_ node: String) throws { try sim.start(node) }
    func stop(_ node: String) throws { try sim.stop(node) }
    func startApp(_ node: String) throws { try sim.startApp(node) }
    func stopApp(_ node: String) throws { try sim.stopApp(node) }
    func awaitRunning(_ node: String, timeout: Double) throws { try sim.awaitRunning(node, timeout: timeout) }
    func reset(_ node: String) throws { try sim.reset(node) }
    func forceReset(_ node: String) throws { try sim.forceReset(node) }
    func forceBoot(_ node: String) throws { try sim.forceBoot(node) }
    func drain(_ node: String) throws { try sim.drain(node) }
    func revive(_ node: String) throws { try sim.revive(node) }
    func join(_ node: String, seed: String) throws { try sim.join(node, seed: seed) }
    func forget(_ target: String, from executor: String, offline: Bool) throws { try sim.forget(target, from: executor, offline: offline) }
    func grow(_ node: String, strategy: GrowStrategy) throws -> [String] { try sim.grow(node, strategy: strategy) }
    func shrink(_ node: String) throws -> [String] { try sim.shrink(node) }
    func rebalance(_ kind: String) throws { try sim.rebalance(kind) }
    func declareQueue(_ spec: QueueSpec) throws { try sim.declareQueue(spec) }
    func publish(queue: String, count: Int, mandatory: Bool) throws -> Int { try sim.publish(queue: queue, count: count, mandatory: mandatory) }
    func consume(queue: String, max: Int) throws -> Int { try sim.consume(queue: queue, max: max) }
    func exportDefinitions(to path: String) throws { try sim.exportDefinitions(to: path) }
    func now() -> Double { sim.now() }
    func sleep(_ seconds: Double) { sim.sleep(seconds) }
}

/// The shell's side of the one primitive guard: a Lua state wired to a guard as the shell wires it.
struct ShellRig {
    let lua = LuaState()
    let console: AnsweringConsole
    let journalPath: String
    let guardian: PrimitiveGuard
    let bindings: ClusterBindings
    let latch = RunLatch()

    init(backend: Backend, confirmsChanges: Bool, answers: [String]) throws {
        console = AnsweringConsole(answers)
        journalPath = TestDirectory.make("warren-guard", file: true) + ".jsonl"
        let journal = SessionJournal(writer: try JournalWriter(path: journalPath), clock: { backend.now() }, latch: latch)
        journal.append(.sessionStart(.init(mode: .shell, runbook: "shell")))
        let questions = Questions(console: console, journal: journal, latch: latch, mode: .shell)
        guardian = PrimitiveGuard(backend: backend, console: console, journal: journal, questions: questions, latch: latch,
                                  caller: .shell(confirmsChanges: confirmsChanges), session: "shell")
        bindings = ClusterBindings(backend: backend)
        bindings.observer = guardian
        bindings.install(into: lua)
        lua.setGlobal("n1", bindings.nodeValue("rabbit@n1"))
    }

    /// Runs a line, as the shell does (a refusal stops that line only); returns its error, if any.
    func line(_ code: String) -> String? {
        latch.reset()
        do {
            try lua.execute(code, chunkName: "stdin")
            return nil
        } catch {
            return "\(error)"
        }
    }

    var calls: [String] {
        ((try? JournalReader.read(journalPath)) ?? []).compactMap {
            if case .primitiveCall(let c) = $0.event { return "\(c.primitive) \(c.node ?? "")" } else { return nil }
        }
    }
}

@Suite("The primitive guard, as the shell uses it")
struct ShellGuardTests {
    @Test("on a real cluster a destructive call asks y/N naming the node and the effect; no sends nothing")
    func destructiveAsks() throws {
        let sim = Simulator(nodes: 3, seed: 7)
        try sim.declareDemoSet()
        let rig = try ShellRig(backend: sim, confirmsChanges: true, answers: ["n"])
        let error = rig.line("n1:drain()")
        #expect(error?.contains("not confirmed; nothing was sent") == true, "\(error ?? "no error")")
        #expect(rig.console.text.contains("drain rabbit@n1: suspends rabbit@n1's listeners"), "\(rig.console.text)")
        #expect(rig.console.text.contains("[y/N]"))
        #expect(rig.calls.isEmpty)
        #expect(try sim.nodes()[0].underMaintenance == false)

        let yes = try ShellRig(backend: sim, confirmsChanges: true, answers: ["y"])
        #expect(yes.line("n1:drain()") == nil)
        #expect(yes.calls == ["drain rabbit@n1"])
        #expect(try sim.nodes()[0].underMaintenance)
    }

    @Test("an empty answer is no, and an answer that is neither yes nor no is asked again")
    func answersChecked() throws {
        let sim = Simulator(nodes: 3, seed: 7)
        try sim.declareDemoSet()
        let rig = try ShellRig(backend: sim, confirmsChanges: true, answers: ["perhaps", ""])
        #expect(rig.line("n1:drain()")?.contains("not confirmed") == true)
        #expect(rig.console.text.contains("please answer y (yes) or n (no)"))
        #expect(rig.calls.isEmpty)
    }

    @Test("without a terminal a destructive call on a real cluster is refused")
    func noTerminalRefuses() throws {
        let sim = Simulator(nodes: 3, seed: 7)
        try sim.declareDemoSet()
        let rig = try ShellRig(backend: sim, confirmsChanges: true, answers: [])
        #expect(rig.line("n1:stop()")?.contains("nobody can answer") == true)
        #expect(rig.calls.isEmpty)
    }

    @Test("a quorum check that cannot be answered counts as critical: the stop is refused, or asked as unsafe")
    func unansweredCheckIsCritical() throws {
        let sim = Simulator(nodes: 3, seed: 7)
        try sim.declareDemoSet()
        let backend = UnansweredQuorumCheck(sim)
        let rig = try ShellRig(backend: backend, confirmsChanges: true, answers: ["n"])
        let plain = rig.line("n1:stop()")
        #expect(plain?.contains("cannot tell whether rabbit@n1 is quorum-critical") == true, "\(plain ?? "no error")")
        let unsafe = rig.line("n1:stop{ unsafe = true }")
        #expect(unsafe?.contains("unsafe stop on rabbit@n1 was not confirmed") == true, "\(unsafe ?? "no error")")
        #expect(rig.console.text.contains("UNSAFE"))
        #expect(rig.calls.isEmpty)
        #expect(try sim.ping("n1"))
    }

    @Test("on the simulator the shell does not ask for a plain destructive call, and the interlock still applies")
    func simulatorShell() throws {
        let sim = Simulator(nodes: 3, seed: 7)
        try sim.declareDemoSet()
        let rig = try ShellRig(backend: sim, confirmsChanges: false, answers: [])
        try sim.stop("n2")
        // n1 is now critical for the queues n2 also holds.
        #expect(rig.line("n1:stop()")?.contains("quorum-critical") == true)
        #expect(rig.line("n1:drain()") == nil)
        #expect(rig.calls == ["drain rabbit@n1"])
        // The refusal is journaled (nothing was sent: no call entry), for the report and the timeline.
        let refused = ((try? JournalReader.read(rig.journalPath)) ?? []).compactMap { e -> String? in
            if case .primitiveResult(let r) = e.event, r.outcome == "refused" { return "\(r.primitive) \(r.node ?? "") \(r.message ?? "")" }
            return nil
        }
        #expect(refused.count == 1 && refused[0].hasPrefix("stop rabbit@n1 rabbit@n1 is quorum-critical for"), "\(refused)")
    }
}

@Suite("The primitive guard, as runbooks use it")
struct RunbookGuardTests {
    @Test("a quorum check that cannot be answered refuses a runbook's stop of a running node")
    func unansweredCheckRefusesStop() throws {
        let d = Drill()
        let runbook = tempRunbook("""
            runbook { name = "stopper" }
            step("stop n1", function()
              confirm("Stop n1?")
              cluster.node("n1"):stop()
            end)
            """)
        let backend = UnansweredQuorumCheck(d.sim)
        let console = ScriptedConsole()
        let engine = RunbookEngine(source: runbook, backend: backend, console: BufferConsole(), options: {
            var o = RunOptions()
            o.assumeYes = true
            return o
        }(), library: RunbookLibrary(roots: [runbooksDirectory]), journal: nil, memory: try MemoryStore(path: nil))
        _ = console
        let r = engine.run()
        #expect(r.error?.description.contains("cannot tell whether rabbit@n1 is quorum-critical") == true, "\(r.error?.description ?? "")")
        #expect(try d.sim.ping("n1"))
    }
}
