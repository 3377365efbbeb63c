import Cluster
import Foundation
import Runbook

/// Verification after a procedure: a session keeps a snapshot of its cluster from its start
/// (`snapshot-start.json`, before the runbook changes anything) and from its end
/// (`snapshot-end.json`, when its report is written), and its report's "Verification" section
/// shows what differs, with what the run did not do on purpose flagged (``SnapshotComparison``).
///
/// Both are verification snapshots: status, versions and queues, through the management API on
/// a real cluster (tens of milliseconds); no secret is in them. Sweeps, which record no
/// sessions, take none.
public enum SessionVerification {
    public static let startFile = "snapshot-start.json"
    public static let endFile = "snapshot-end.json"

    /// A snapshot, or why there is none.
    public enum Taken {
        case snapshot(ClusterSnapshot)
        case missing(String)
    }

    /// Takes and keeps the start snapshot.
    static func takeStart(_ target: ClusterTarget, directory: String) -> Taken {
        take(target, to: directory + "/" + startFile)
    }

    /// The start snapshot a session kept (a resumed session compares from its first start).
    static func readStart(directory: String) -> Taken {
        do {
            return .snapshot(try ClusterSnapshot.read(directory + "/" + startFile))
        } catch {
            return .missing("no snapshot from the session's start (\(error))")
        }
    }

    /// How long the end snapshot waits for replicas on running nodes to come online: a node just
    /// restarted lists its quorum replicas offline for a few seconds after its boot (seen on real
    /// 3.10.8 right after a rolling restart's last node), which is not a difference to report.
    static let settleSeconds = 30.0

    /// - Parameter settle: for the end snapshot, where to say that it waits (nil: it does not).
    static func take(_ target: ClusterTarget, to path: String, settle: ((String) -> Void)? = nil) -> Taken {
        var snap: ClusterSnapshot
        do {
            snap = try ClusterSnapshot.capture(target.backend, depth: .verification)
            let began = target.backend.now()
            if let settle, case let offline = replicasOffline(snap), !offline.isEmpty {
                settle("verification: waiting up to \(Int(settleSeconds)) s for replicas on running nodes to come online ("
                       + RunbookEngine.list(offline, max: 5) + ")\n")
                while !replicasOffline(snap).isEmpty, target.backend.now() - began < settleSeconds {
                    target.backend.sleep(1)
                    snap = try ClusterSnapshot.capture(target.backend, depth: .verification)
                }
            }
        } catch {
            return .missing("the cluster could not be read: \(target.redactor.redact("\(error)"))")
        }
        do {
            try writeAtomically(Data(target.redactor.redact(String(decoding: try snap.encoded(), as: UTF8.self)).utf8), to: path)
        } catch {
            return .missing("\(error)")
        }
        return .snapshot(snap)
    }

    /// Queues with a replica offline on a node whose app runs (and is not drained).
    static func replicasOffline(_ snap: ClusterSnapshot) -> [String] {
        let serving = Set(snap.status.running).subtracting(snap.status.maintenance)
        return snap.queues.filter { q in q.members.contains { serving.contains($0) && !q.online.contains($0) } }.map(\.name)
    }

    /// What the run did on purpose, from its journal: nodes it forgot or reset, nodes it left
    /// stopped, nodes it upgraded; the canary's queue is warren's own.
    public static func expectedChanges(_ entries: [JournalEntry]) -> ExpectedChanges {
        var expected = ExpectedChanges(ownQueues: [Canary.queue])
        for e in entries {
            guard case .primitiveResult(let r) = e.event, r.outcome == "ok", let node = r.node else { continue }
            switch r.primitive {
            case "forget", "reset", "force_reset": expected.removed.insert(node)
            case "stop", "stop_app": expected.leftStopped.insert(node)
            case "start", "start_app", "await_running": expected.leftStopped.remove(node)
            case "upgrade": expected.upgraded.insert(node)
            default: break
            }
        }
        return expected
    }

    /// The report's section.
    public static func markdown(start: Taken, end: Taken, entries: [JournalEntry]) -> String {
        var out = "\n## Verification\n\n"
        guard case .snapshot(let a) = start, case .snapshot(let b) = end else {
            for case .missing(let why) in [start, end] { out += "Not compared: \(line(why)).\n" }
            return out
        }
        let comparison = SnapshotComparison(start: a, end: b, expected: expectedChanges(entries))
        let unexpected = comparison.unexpected
        out += "The cluster at the start (\(ReportWriter.time(a.takenAt))) and at the end (\(ReportWriter.time(b.takenAt))), "
            + "from `\(startFile)` and `\(endFile)`: "
        out += unexpected.isEmpty ? "no unexpected difference.\n\n"
            : "\(unexpected.count) UNEXPECTED difference\(unexpected.count == 1 ? "" : "s").\n\n"
        out += ReportWriter.table(["", "Start", "End"], comparison.rows.map { [$0.what, $0.start, $0.end] })
        if !unexpected.isEmpty {
            out += "\n" + unexpected.map { "- UNEXPECTED: \(line($0.text))\n" }.joined()
        }
        let other = comparison.findings.filter { !$0.unexpected }
        if !other.isEmpty {
            out += "\nChanges the run made or expected:\n\n" + other.map { "- \(line($0.text))\n" }.joined()
        }
        return out
    }

    /// The section for a session whose report is drawn from its journal afterwards: from the
    /// snapshots it kept; nil when it kept none (a shell session, or one from before 0.14).
    static func markdown(directory: String, entries: [JournalEntry]) -> String? {
        guard FileManager.default.fileExists(atPath: directory + "/" + startFile) else { return nil }
        let end: Taken
        do {
            end = .snapshot(try ClusterSnapshot.read(directory + "/" + endFile))
        } catch {
            end = .missing("no snapshot from the session's end (\(error))")
        }
        return markdown(start: readStart(directory: directory), end: end, entries: entries)
    }

    static func line(_ s: String) -> String {
        String(String.UnicodeScalarView(s.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? " " : $0 }))
    }
}
