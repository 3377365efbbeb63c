import Cluster
import Foundation

/// The one guard every primitive passes through, from a runbook or from the shell.
///
/// Before a primitive is sent: the run must still hold its cluster lock; a runbook's destructive
/// primitive needs a `confirm()` earlier in the same step; the quorum interlock refuses `stop`,
/// `stop_app`, `reset`, `force_reset` and `forget` on a quorum-critical node unless the call says
/// `{unsafe = true}`, which asks a separate confirmation (`--yes` never answers it; without a
/// terminal it is refused). A quorum check that cannot be answered counts as critical for a node
/// whose app may be running. At the shell on a real cluster every destructive call asks `[y/N]`
/// first, naming the node and the effect. Then the call is journaled (and synced) and shown.
///
/// After it: the target saves its state with the outcome (so a crash before the result is
/// journaled loses nothing: see ``PrimitiveCheckpoint``), then the result is journaled and shown.
public final class PrimitiveGuard: PrimitiveObserver {
    /// Who calls: a runbook's step, or a line typed at the shell.
    public enum Caller: Sendable {
        case runbook
        /// `confirmsChanges`: every destructive call asks the operator first (a real cluster).
        case shell(confirmsChanges: Bool)
    }

    public let backend: Backend
    let console: Console
    let journal: SessionJournal
    let questions: Questions
    let latch: RunLatch
    let caller: Caller
    /// The session, for checkpoints.
    let session: String
    /// Show the primitives a run would call, send none (a plan on a real cluster).
    var dryRun = false

    // Set by the engine as steps start and end.
    public internal(set) var step: String? {
        didSet {
            confirmedInStep = false
            changesInStep = []
        }
    }
    var confirmedInStep = false
    var discovering = false
    /// The changes this step made so far ("stop rabbit@n1"), for a summary when it stops.
    private(set) var changesInStep: [String] = []

    /// Why the run no longer holds its cluster lock (nil: it does).
    public var lockLost: (() -> String?)?
    /// Saves the target's state with a primitive's outcome, before the result is journaled.
    public var checkpoint: ((PrimitiveCheckpoint) throws -> Void)?
    /// Runs after each primitive's result is journaled (canary ticks, a drill's faults).
    /// Throwing ``SimulatedCrash`` stops the run as a crash of warren would.
    public var afterPrimitive: ((PrimitiveCall) throws -> Void)?

    /// Where a primitive under way is shown as a wait (see ``Waits``).
    public var waits: Waits?
    private var waitID: Int?

    private var lastCall: Int
    /// "step|primitive|node" of every primitive that succeeded, in earlier runs and this one.
    private(set) var completedCalls: Set<String>
    private var openLine = false

    public init(backend: Backend, console: Console, journal: SessionJournal, questions: Questions, latch: RunLatch,
                caller: Caller, session: String, resumed: SessionSummary? = nil) {
        self.backend = backend
        self.console = console
        self.journal = journal
        self.questions = questions
        self.latch = latch
        self.caller = caller
        self.session = session
        lastCall = resumed?.lastCallNumber ?? 0
        completedCalls = resumed?.completedCalls ?? []
    }

    /// Whether this step completed the primitive on the node (in an earlier attempt or this one).
    func previously(_ primitive: String, node: String) -> Bool {
        completedCalls.contains("\(step ?? "")|\(primitive)|\(node)")
    }

    // MARK: PrimitiveObserver

    public func willCall(_ call: PrimitiveCall) throws -> Bool {
        if let abort = latch.abort { throw abort }
        if call.kind == .read { return true }
        let what = call.node.map { "\(call.name) on \($0)" } ?? call.name
        if case .runbook = caller {
            guard let step else {
                if discovering || call.kind == .wait { return !discovering }
                throw latch.stop(.failed("refused: \(what) is called outside any step; changes belong in a step. Nothing was sent to the cluster"))
            }
            if call.kind == .destructive && !confirmedInStep {
                throw latch.stop(.failed("refused: step '\(step)' calls the destructive primitive \(what) without a confirm() before it in the same step. Nothing was sent to the cluster"))
            }
        }
        if let why = lockLost?() {
            throw latch.stop(.failed("stopped before \(what): \(why). Nothing was sent to the cluster"))
        }
        var asked = false
        if call.interlocked, let node = call.node, !PrimitiveGuard.drained(node, backend) {
            let critical = try quorumCritical(node, before: call)
            if !critical.isEmpty {
                let why = "\(node) is quorum-critical for \(critical.count) queue\(critical.count == 1 ? "" : "s") (\(RunbookEngine.list(critical))): \(call.name) would leave \(critical.count == 1 ? "it" : "them") without a majority"
                guard call.unsafe else {
                    // Journaled, so the report and the timeline show when the node was critical.
                    journal.append(.primitiveResult(.init(step: step, primitive: call.name, node: node,
                                                          args: call.args.isEmpty ? nil : call.args, outcome: "refused", message: why)))
                    throw latch.stop(.failed("refused: \(why). Nothing was sent to the cluster. Wait for their replicas, or pass {unsafe = true} (asks a separate confirmation)"))
                }
                closeLine()
                _ = try questions.confirm("UNSAFE: \(why). Proceed anyway?", step: step, unsafe: true,
                                          refusal: "the unsafe \(what) was not confirmed; nothing was sent to the cluster")
                asked = true
            }
        }
        if case .shell(let confirmsChanges) = caller, confirmsChanges, call.kind == .destructive, !asked {
            closeLine()
            let effect = call.effect.map { ": \($0)" } ?? ""
            _ = try questions.confirm("\(call.name) \(call.node ?? "")\(effect). Send it to \(backend.targetDescription)?",
                                      step: nil, refusal: "\(what) was not confirmed; nothing was sent to the cluster")
        }
        if dryRun {
            closeLine()
            console.write("  · would call \(what)\(call.args.isEmpty ? "" : " " + RunbookEngine.describe(call.args))\n")
            return false
        }
        lastCall += 1
        journal.append(.primitiveCall(.init(step: step, primitive: call.name, node: call.node,
                                            args: call.args.isEmpty ? nil : call.args, call: lastCall)))
        if let abort = latch.abort { throw abort }
        closeLine()
        console.write("  · \(call.node.map { "\($0) " } ?? "")\(call.name)\(call.args.isEmpty ? "" : " " + RunbookEngine.describe(call.args)) …")
        openLine = true
        waitID = waits?.begin("\(call.node.map { "\($0) " } ?? "")\(call.name)", limit: call.args["timeout"].flatMap(Double.init))
        return true
    }

    public func didCall(_ call: PrimitiveCall, error: Error?, duration: Double) {
        if call.kind == .read { return }
        if let id = waitID {
            waits?.end(id, ok: error == nil)
            waitID = nil
        }
        let outcome = error == nil ? "ok" : "failed"
        if error == nil {
            completedCalls.insert("\(step ?? "")|\(call.name)|\(call.node ?? "")")
            if call.kind == .change || call.kind == .destructive {
                changesInStep.append(([call.name] + (call.node.map { [$0] } ?? [])).joined(separator: " "))
            }
        }
        let message = error.map { "\($0)" }
        do {
            try checkpoint?(PrimitiveCheckpoint(session: session, call: lastCall, outcome: outcome, message: message))
        } catch {
            latch.stop(.failed("cannot save the target's state after \(call.name) (\(error)); stopping before anything else changes"))
        }
        journal.append(.primitiveResult(.init(step: step, primitive: call.name, node: call.node, outcome: outcome,
                                              message: message, duration: duration, call: lastCall,
                                              code: (error as? ClusterError).map { Int($0.code.rawValue) })))
        if openLine {
            console.write(error == nil ? " ok (\(RunbookEngine.duration(duration)))\n" : " FAILED\n    \(error!)\n")
            openLine = false
        }
        do {
            try afterPrimitive?(call)
        } catch is SimulatedCrash {
            latch.crashed = true
            latch.stop(.interrupted)
        } catch {
            latch.stop(.failed("after \(call.name): \(error)"))
        }
    }

    /// Ends a primitive's line left open (its outcome was not printed because output followed).
    func closeLine() {
        if openLine {
            console.write("\n")
            openLine = false
        }
    }

    // MARK: The quorum interlock

    /// The queues for which the node is quorum-critical. A check that cannot be answered counts
    /// as critical unless the node's app is known not to run (it then holds no running replica:
    /// there is nothing more to lose).
    private func quorumCritical(_ node: String, before call: PrimitiveCall) throws -> [String] {
        do {
            return try backend.quorumCritical(node)
        } catch {
            if let running = (try? backend.status())?.running, !running.contains(node) { return [] }
            let why = "cannot tell whether \(node) is quorum-critical before \(call.name) (\(error))"
            if call.unsafe { return ["(\(why))"] }
            throw latch.stop(.failed("refused: \(why). Nothing was sent to the cluster. Check `queues`, then try again"))
        }
    }

    /// A drained node passes the quorum interlock (rabbitmq.md section 3): its followers are
    /// already stopped and its leaders moved, so stopping it takes nothing more away. (Real
    /// 3.10.8 reports a drained node as quorum-critical through the management API.)
    public static func drained(_ node: String, _ backend: Backend) -> Bool {
        (try? backend.nodes())?.first { $0.name == node }?.underMaintenance ?? false
    }
}
