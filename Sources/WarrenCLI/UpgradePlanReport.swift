import Cluster
import Foundation

/// What `warren upgrade-plan` prints: the plan as text for an operator, or as JSON with the keys
/// its help documents.
struct UpgradePlanReport {
    var plan: UpgradePlan
    var readiness: UpgradeReadiness?
    /// The target's description (`sim:3`, `prod-eu`) when the plan was made from a cluster.
    var cluster: String?

    init(plan: UpgradePlan, readiness: UpgradeReadiness?, cluster: String? = nil) {
        self.plan = plan
        self.readiness = readiness
        self.cluster = cluster
    }

    // MARK: Text

    func text() -> String {
        var out = ""
        if let r = readiness, let cluster { out += clusterText(r, cluster) + "\n" }
        if plan.hops.isEmpty {
            return out + "Already on \(plan.to): nothing to upgrade.\n"
        }
        let count = plan.hops.count == 1 ? "one rolling upgrade" : "\(plan.hops.count) rolling upgrades"
        out += "Upgrade \(plan.from) -> \(plan.to): \(count)"
        out += plan.direct ? ".\n" : " (a rolling upgrade cannot skip a series).\n"
        for (i, hop) in plan.hops.enumerated() {
            out += "\n\(i + 1). \(hop.from) -> \(hop.to) (\(hop.kind == .patch ? "patch upgrade" : "next series"))\n"
            out += "   Before: every stable feature flag of \(hop.from) enabled (`rabbitmqctl enable_feature_flag all`): \(list(hop.enableFirst))\n"
            if !hop.blockBoot.isEmpty {
                out += "   \(hop.to) refuses to boot while one of these is disabled: \(list(hop.blockBoot))\n"
            }
            out += "   Erlang for \(hop.to): \(ErlangRange.text(hop.erlang))"
            if hop.erlangShared == false { out += "; no Erlang release runs both \(hop.from) and \(hop.to): upgrade Erlang with RabbitMQ on each node" }
            out += "\n"
            for change in hop.changes {
                out += "   - \(change.value)\n     (\(change.source))\n"
            }
            out += "   After: once every node runs \(hop.to), `rabbitmqctl enable_feature_flag all`.\n"
            out += "   Path: \(hop.source)\n"
        }
        let window = VersionTable.mixedVersionWindow
        out += "\nDuring each rolling upgrade the cluster runs mixed versions: keep it to \(window.value) (\(window.source)).\n"
        return out
    }

    func clusterText(_ r: UpgradeReadiness, _ name: String) -> String {
        let v = r.versions
        var out = "Cluster \(name): " + v.nodes.map { "\($0.name) \($0.rabbitmq) (Erlang \($0.erlang))" }.joined(separator: ", ")
        out += "; metadata store \(v.metadataStore == .khepri ? "Khepri" : "Mnesia").\n"
        if v.mixed { out += "  Nodes run different releases (a rolling upgrade under way?): the plan starts from the oldest, \(v.oldest!).\n" }
        if !v.unread.isEmpty { out += "  Not running, release not read: \(v.unread.joined(separator: ", ")).\n" }
        out += r.disabledStableFlags.isEmpty ? "  Feature flags: every stable one is enabled.\n"
            : "  Feature flags disabled now: \(list(r.disabledStableFlags)): enable them first (`rabbitmqctl enable_feature_flag all`).\n"
        if !r.blockingBoot.isEmpty {
            out += "  Of those, \(plan.hops.first.map { "\($0.to)" } ?? "the target") refuses to boot without: \(list(r.blockingBoot)).\n"
        }
        for n in r.erlangOutside {
            out += "  \(n.name) runs Erlang \(n.erlang), which \(plan.hops[0].to) does not run on (\(ErlangRange.text(plan.hops[0].erlang))).\n"
        }
        if plan.removesMirroring {
            out += r.mirroringPolicies.isEmpty ? "  Policies setting classic queue mirroring (ignored from 4.0): none.\n"
                : "  Policies setting classic queue mirroring, which 4.0 ignores: "
                    + r.mirroringPolicies.map { "\($0.name) in vhost \($0.vhost) (\($0.mirroringKeys.joined(separator: ", ")))" }.joined(separator: "; ")
                    + ". Move those queues to quorum queues before 4.0 (https://www.rabbitmq.com/docs/migrate-mcq-to-qq).\n"
        }
        return out
    }

    func list(_ names: [String]) -> String { names.isEmpty ? "none" : names.joined(separator: ", ") }

    // MARK: JSON

    struct Sourced: Encodable { var text: String; var source: String }
    struct Erlang: Encodable { var min: String; var max: String; var source: String }
    struct Hop: Encodable {
        var from: String, to: String, kind: String
        var enable_first: [String], block_boot: [String]
        var erlang: Nullable<Erlang>
        var erlang_shared: Nullable<Bool>
        var changes: [Sourced]
        var source: String
    }
    struct Node: Encodable { var name: String; var rabbitmq: String; var erlang: String }
    struct NodeErlang: Encodable { var name: String; var erlang: String }
    struct MirroringPolicy: Encodable { var vhost: String; var name: String; var keys: [String] }
    struct ClusterPart: Encodable {
        var nodes: [Node], not_running: [String], metadata_store: String, mixed: Bool
        var disabled_stable_flags: [String], block_boot: [String], erlang_outside: [NodeErlang]
        var mirroring_policies: [MirroringPolicy]
    }
    struct Document: Encodable {
        var from: String, to: String, direct: Bool
        var hops: [Hop]
        var mixed_version_window: Sourced
        var cluster: Nullable<ClusterPart>
    }

    func json() throws -> String {
        let hops = plan.hops.map { h in
            Hop(from: "\(h.from)", to: "\(h.to)", kind: h.kind.rawValue, enable_first: h.enableFirst, block_boot: h.blockBoot,
                erlang: Nullable(h.erlang.flatMap { e in e.min.flatMap { min in e.max.map { Erlang(min: min, max: $0, source: e.source) } } }),
                erlang_shared: Nullable(h.erlangShared), changes: h.changes.map { Sourced(text: $0.value, source: $0.source) }, source: h.source)
        }
        let cluster = readiness.map { r in
            ClusterPart(nodes: r.versions.nodes.map { Node(name: $0.name, rabbitmq: "\($0.rabbitmq)", erlang: $0.erlang) },
                        not_running: r.versions.unread, metadata_store: r.versions.metadataStore.rawValue, mixed: r.versions.mixed,
                        disabled_stable_flags: r.disabledStableFlags, block_boot: r.blockingBoot,
                        erlang_outside: r.erlangOutside.map { NodeErlang(name: $0.name, erlang: $0.erlang) },
                        mirroring_policies: r.mirroringPolicies.map { MirroringPolicy(vhost: $0.vhost, name: $0.name, keys: $0.mirroringKeys) })
        }
        let window = VersionTable.mixedVersionWindow
        let doc = Document(from: "\(plan.from)", to: "\(plan.to)", direct: plan.direct, hops: hops,
                           mixed_version_window: Sourced(text: window.value, source: window.source), cluster: Nullable(cluster))
        return try OutputFormat.json(doc)
    }
}
