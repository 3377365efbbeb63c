import ArgumentParser
import Cluster
import Foundation
import Lua
import Simulator

/// `warren snapshot [target] -o FILE`: a read-only copy of a cluster as a simulated cluster.
struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Copy a cluster, read-only, into a simulated cluster's state file (rehearse on it with --sim-state FILE).",
        discussion: """
            Reads the target (--inventory FILE for a real cluster; --sim N or --sim-state FILE for \
            a simulated one) and changes nothing there: its nodes and their state, versions, \
            alarms and maintenance; the members; the feature flags; the queues with their virtual \
            host, type, members, leader and message count (each message becomes a simulated one); \
            the policies; the partition handling (`rabbitmq-diagnostics environment` on each \
            running member: the management API does not report it). FILE is a simulated cluster \
            (state format 3), written whole or not at all; it holds no cookie, password or other \
            configuration.

            Then `warren run RUNBOOK --sim-state FILE`, `warren drill`, `warren shell --sim-state \
            FILE` rehearse on that copy. A run changes the copy as it would the cluster: copy FILE \
            first to rehearse again from the same state.

            Exit codes: 0 written; 1 the cluster could not be read (no file written); 2 usage, or \
            FILE's directory does not exist; 3 interrupted (no file written).
            """)

    @OptionGroup var target: TargetOptions

    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("Where to write the copy.", valueName: "FILE"))
    var output: String

    func run() throws {
        LuaState.installInterruptHandler()  // Ctrl-C stops a broker command at once: exit 3, nothing written
        let path = absolute(output)
        let dir = (path as NSString).deletingLastPathComponent
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw StateFileError(path: path, reason: "its directory \(dir) does not exist")
        }
        if let source = target.simState, !FileManager.default.fileExists(atPath: absolute(source)) {
            throw StateFileError(path: absolute(source), reason: "no simulated cluster is kept there (nothing to snapshot)")
        }
        let started = Date()
        let t = try target.makeTarget()
        let snap: ClusterSnapshot
        do {
            snap = try ClusterSnapshot.capture(t.backend, depth: .full)
        } catch let e as ClusterError where e.code == .interrupted {
            throw e
        } catch {
            throw SnapshotFailure(description: "cannot snapshot \(t.backend.targetDescription): \(Exit.status(for: error).message). No file was written")
        }
        let copy = try Simulator.copy(of: snap, seed: target.seed)
        try writeAtomically(Data(try copy.snapshot()), to: path)
        Output.write(Self.summary(snap, copy: copy, path: path, seconds: Date().timeIntervalSince(started)))
    }

    static func summary(_ snap: ClusterSnapshot, copy: Simulator, path: String, seconds: Double) -> String {
        let s = snap.status
        let others = s.nodes.filter { !s.members.contains($0.name) }.count
        var out = "Snapshot of cluster \(snap.clusterName) (\(snap.target)), read-only, in \(String(format: "%.1f", seconds)) s:\n"
        out += "  \(s.members.count) member\(s.members.count == 1 ? "" : "s") (\(s.running.count) running)"
        if others > 0 { out += ", \(others) other node\(others == 1 ? "" : "s") (spares)" }
        out += "; " + SnapshotComparison.versions(s) + "\n"
        let byType = QueueType.allCases.compactMap { t -> String? in
            let n = snap.queues.filter { $0.type == t }.count
            return n == 0 ? nil : "\(n) \(t.rawValue)"
        }
        out += "  \(snap.queues.count) queue\(snap.queues.count == 1 ? "" : "s")\(byType.isEmpty ? "" : " (\(byType.joined(separator: ", ")))"), "
        out += "\(snap.queues.reduce(0) { $0 + $1.messages }) messages; \(snap.policies?.count ?? 0) polic\(snap.policies?.count == 1 ? "y" : "ies")\n"
        let flags = snap.featureFlags ?? [:]
        let disabled = flags.filter { $0.value != .enabled }.map(\.key).sorted()
        out += "  feature flags: \(flags.count - disabled.count) of \(flags.count) enabled"
        out += disabled.isEmpty ? "" : " (disabled: \(disabled.joined(separator: ", ")))"
        out += "; partition handling \(copy.partitionHandling.rawValue)\n"
        for note in copy.copiedFrom?.notes ?? [] { out += "  note: \(note)\n" }
        out += "Written to \(path) (a simulated cluster, state format \(Simulator.stateFormat)).\n"
        out += "Rehearse on it: warren run RUNBOOK --sim-state \(path)   (each run changes it: copy it first to start again)\n"
        return out
    }
}

/// A snapshot that could not be taken: exit 1, nothing written.
struct SnapshotFailure: Error, CustomStringConvertible {
    var description: String
}
