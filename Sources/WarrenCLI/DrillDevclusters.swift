import Cluster
import Foundation
import Lua
import RabbitMQ
import Sessions

/// Drills whose target is a devcluster (`target = { devcluster = { hosts = 3 } }`) run on real
/// RabbitMQ, in network namespaces with ssh, as an operator's runs do:
///
/// - ``DrillDevclusterKeeper`` (the `warren drill` the user typed, as root) keeps a hosts devcluster
///   shaped as each drill asks: it makes one (in a temporary directory, or in `--devcluster DIR`),
///   reuses it while drills leave it at its baseline, and makes it again after one that did not
///   (a node replaced or lost). It runs each drill in the bastion and removes what it made.
/// - ``BastionDrillDevcluster`` (the `warren drill` run in the bastion for one drill) brings the
///   devcluster to its baseline, gives the drill its target, and afterwards says whether the
///   devcluster is still at its baseline.

/// One drill's result as the bastion's `warren drill` writes it for the one that started it.
struct DrillReport: Codable {
    var name: String
    var file: String
    var failures: [String]
    var inputError: String?
    var inputLine: Int?
    var seconds: Double
    var log: String
    var ending: String?
    /// Whether the devcluster was back at its baseline after the drill.
    var baseline: Bool

    init(_ o: DrillOutcome, baseline: Bool) {
        name = o.name
        file = o.file
        failures = o.failures
        inputError = o.inputError?.message
        inputLine = o.inputError?.line
        seconds = o.seconds
        log = o.log
        ending = o.ending
        self.baseline = baseline
    }

    var outcome: DrillOutcome {
        var o = DrillOutcome(name: name, file: file)
        o.failures = failures
        o.inputError = inputError.map { DrillInputError(file: file, line: inputLine, $0) }
        o.seconds = seconds
        o.log = log
        o.ending = ending
        return o
    }
}

/// The devcluster a drill runs on, seen from its bastion.
final class BastionDrillDevcluster: DrillDevclusters {
    let dir: String
    var faults: Set<String> { DevCluster.realFaults }

    init(dir: String) { self.dir = dir }

    func manifest() throws -> DevCluster.Manifest {
        guard let m = DevCluster.manifest(dir: dir), m.hosts != nil else {
            throw DevCluster.Failure("no hosts devcluster in \(dir)")
        }
        return m
    }

    func target(for spec: DrillSpec) throws -> ClusterTarget {
        let m = try manifest()
        let backend = RabbitMQBackend(inventory: try Inventory.load(path: m.inventoryPath))
        try DevCluster.restoreBaseline(m, backend: backend)
        return try Targets.make(.inventory(m.inventoryPath))
    }

    func restore(_ spec: TargetSpec, sessionDirectory: String) throws -> ClusterTarget {
        try Targets.restore(spec, sessionDirectory: sessionDirectory)
    }

    /// After a drill: whether the devcluster could be brought back to its baseline.
    func backToBaseline() -> Bool {
        guard let m = try? manifest(), let inventory = try? Inventory.load(path: m.inventoryPath) else { return false }
        do {
            try DevCluster.restoreBaseline(m, backend: RabbitMQBackend(inventory: inventory), timeout: 60)
            return true
        } catch {
            return false
        }
    }
}

/// The hosts devcluster real drills run on, kept by the `warren drill` the user typed.
final class DrillDevclusterKeeper {
    /// `--devcluster DIR`, else a temporary directory made for this run.
    let dir: String
    let madeDirectory: Bool
    let verbose: Bool
    /// The devcluster is not at its baseline (a drill replaced or lost a node): make it again.
    var stale = false
    var upAtLeastOnce = false

    init(dir: String?, verbose: Bool) {
        if let dir {
            self.dir = absolute(dir)
            madeDirectory = false
        } else {
            self.dir = NSTemporaryDirectory() + "warren-drills-\(getpid())"
            madeDirectory = true
        }
        self.verbose = verbose
    }

    /// Why real drills cannot run here, or nil.
    static var unavailable: String? {
        if geteuid() != 0 {
            return "it needs root (it makes a network namespace per host, a bridge and an sshd per host); run `sudo warren drill ...`"
        }
        do { try DevCluster.checkInstalled() } catch { return "\(error)" }
        return nil
    }

    /// A devcluster shaped as `spec` asks, at its baseline as far as its shape tells.
    func devcluster(for spec: DrillSpec, shape: DrillDevcluster) throws -> DevCluster.Manifest {
        if let m = DevCluster.manifest(dir: dir), let h = m.hosts, !stale,
           m.nodes.filter({ !$0.spare }).count == shape.hosts, m.nodes.filter(\.spare).count == shape.spares,
           h.partitionHandling == spec.partitionHandling.rawValue {
            return m
        }
        let started = Date()
        try DevCluster.down(dir: dir) { if self.verbose { print("  " + $0) } }
        let m = try DevclusterCommand.Up.upHosts(hosts: shape.hosts, spares: shape.spares, dir: dir,
                                                 partitionHandling: spec.partitionHandling.rawValue,
                                                 log: { if self.verbose { print("  " + $0) } })
        stale = false
        upAtLeastOnce = true
        print(String(format: "devcluster: %d hosts%@, %@, in %@ (up in %.1f s)", shape.hosts,
                     shape.spares > 0 ? " + \(shape.spares) spare(s)" : "", spec.partitionHandling.rawValue, dir,
                     Date().timeIntervalSince(started)))
        fflush(stdout)
        return m
    }

    /// Runs one drill in the devcluster's bastion.
    func run(_ spec: DrillSpec, shape: DrillDevcluster) -> DrillOutcome {
        let started = Date()
        var failed = DrillOutcome(name: spec.name, file: spec.file)
        let m: DevCluster.Manifest
        do {
            m = try devcluster(for: spec, shape: shape)
        } catch {
            stale = true
            failed.failures = ["no devcluster to run on: \(error)"]
            return failed
        }
        let reportPath = dir + "/drill-report.json"
        try? FileManager.default.removeItem(atPath: reportPath)
        let argv = [DevclusterCommand.selfExecutable, "drill", "--in-devcluster", dir, "--report", reportPath, absolute(spec.file)]
        let code: Int32
        do {
            let (exe, args) = try DevCluster.inBastion(m, argv)
            code = runAndShow(exe, args, environment: DevclusterCommand.environment(for: m), timeout: 3600)
        } catch {
            failed.failures = ["cannot enter the devcluster's bastion: \(error)"]
            return failed
        }
        guard let data = FileManager.default.contents(atPath: reportPath),
              let report = try? JSONDecoder().decode(DrillReport.self, from: data) else {
            stale = true
            failed.failures = ["the drill's run in the bastion ended (exit \(code)) without a result"]
            failed.seconds = Date().timeIntervalSince(started)
            return failed
        }
        if !report.baseline { stale = true }
        return report.outcome
    }

    /// Removes the devcluster when this run made its directory.
    func finish() {
        guard upAtLeastOnce || DevCluster.manifest(dir: dir) != nil, madeDirectory else { return }
        try? DevCluster.down(dir: dir)
    }
}
