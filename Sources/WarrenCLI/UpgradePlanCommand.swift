import ArgumentParser
import Cluster
import Foundation

/// `warren upgrade-plan --from V --to V` or `warren upgrade-plan --to V [target]`.
struct UpgradePlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upgrade-plan",
        abstract: "The rolling upgrades from one RabbitMQ release to another, and what each needs first.",
        discussion: """
            With --from, the plan between two releases. Without it, the plan from the oldest release \
            the target's running nodes report (--sim N, --sim-state FILE or --inventory FILE), with \
            what the cluster must do first: stable feature flags still disabled, nodes whose Erlang \
            the first hop does not run on, and, when the plan reaches 4.0, the policies that still \
            set classic queue mirroring keys (ha-mode...), which 4.0 ignores.

            Each hop is one rolling upgrade; before it every stable feature flag must be enabled \
            (`rabbitmqctl enable_feature_flag all`), and again once every node runs its release. \
            Known releases: 3.10.0 to 4.2.9 (warren's version table; only 3.10.8 is tested on a \
            real broker).

            --format json prints one object: from, to, direct (one rolling upgrade gets there), \
            hops [{from, to, kind ("patch" or "series"), enable_first [flag], block_boot [flag: \
            the target refuses to boot while one is disabled], erlang ({min, max, source} or null \
            when not listed), erlang_shared (a release both run: true, false, or null), changes \
            [{text, source}], source}], mixed_version_window {text, source}, and cluster (null \
            with --from): {nodes [{name, rabbitmq, erlang}], not_running [node], metadata_store \
            ("mnesia" or "khepri"), mixed, disabled_stable_flags [flag], block_boot [flag], \
            erlang_outside [{name, erlang}], mirroring_policies [{vhost, name, keys}]}.

            Exit codes: 0 a plan (possibly empty: already there), 1 the cluster cannot be read or \
            cannot take this path (3.13 on Khepri to 4.x), 2 an unknown or malformed release, a \
            target older than the cluster, a node reporting a release the table does not know.
            """)

    @Option(help: ArgumentHelp("The release to plan from (instead of reading a target's).", valueName: "VERSION"))
    var from: String?

    @Option(help: ArgumentHelp("The release to upgrade to, e.g. 4.0.5.", valueName: "VERSION"))
    var to: String

    @OptionGroup var target: TargetOptions

    @Option(help: "text or json.")
    var format: OutputFormat = .text

    func validate() throws {
        if from != nil && (target.inventory != nil || target.simNodes != nil || target.simState != nil) {
            throw ValidationError("--from plans between two releases; to plan from a cluster, leave it out and give --sim N, --sim-state FILE or --inventory FILE")
        }
    }

    func run() throws {
        let toVersion = try RabbitMQVersion(parsing: to)
        let report: UpgradePlanReport
        if let from {
            report = UpgradePlanReport(plan: try UpgradePlanner.plan(from: try RabbitMQVersion(parsing: from), to: toVersion), readiness: nil)
        } else {
            let t = try target.makeTarget()
            let versions = try ClusterVersions.read(from: t.backend)
            let (plan, readiness) = try UpgradePlanner.plan(for: versions, policies: { try t.backend.policies() }, to: toVersion)
            report = UpgradePlanReport(plan: plan, readiness: readiness, cluster: t.backend.targetDescription)
        }
        Output.write(format == .json ? try report.json() : report.text())
    }
}
