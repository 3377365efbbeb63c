import Cluster
import Testing

@Suite("Upgrade paths: the hops, what each needs first, and the jumps refused")
struct UpgradePlannerTests {
    func hops(_ p: UpgradePlan) -> [String] { p.hops.map { "\($0.from)->\($0.to)" } }

    @Test("3.10.8 -> 4.0.5 goes through the newest 3.11, 3.12 and 3.13, one series at a time")
    func fromDebian() throws {
        let p = try UpgradePlanner.plan(from: v("3.10.8"), to: v("4.0.5"))
        #expect(hops(p) == ["3.10.8->3.11.28", "3.11.28->3.12.14", "3.12.14->3.13.7", "3.13.7->4.0.5"])
        #expect(!p.direct && p.removesMirroring)
        #expect(p.hops.allSatisfy { $0.kind == .series })
        let first = p.hops[0]
        #expect(first.enableFirst == VersionTable.flags(at: v("3.10.8")).map(\.rule.name))
        #expect(first.blockBoot == ["implicit_default_bindings", "maintenance_mode_status", "quorum_queue", "user_limits", "virtual_host_metadata"])
        #expect(first.erlang?.min == "25.0" && first.erlangShared == true)
        #expect(first.changes.contains { $0.value.contains("Erlang 25.0") })
        // The flags 3.11 introduced must be enabled before 3.12 (rabbitmq-server#10199).
        #expect(p.hops[1].blockBoot.contains("direct_exchange_routing_v2"))
        #expect(p.hops[3].blockBoot.contains("message_containers"), "rabbitmq-website#2419: 3.13 -> 4.x needs message_containers")
        #expect(!p.hops[3].enableFirst.contains("khepri_db"), "experimental flags are not enabled before an upgrade")
        #expect(p.hops[3].changes.contains { $0.value.contains("mirroring is removed") })
    }

    @Test("3.12.13 -> 4.0.5 is not one rolling upgrade: refused, naming 3.13 and the path through it (release-notes/4.0.1.md L197-202)")
    func noDirect312to40() throws {
        #expect(hops(try UpgradePlanner.plan(from: v("3.12.13"), to: v("4.0.5"))) == ["3.12.13->3.13.7", "3.13.7->4.0.5"])
        do {
            _ = try UpgradePlanner.hop(from: v("3.12.13"), to: v("4.0.5"))
            Issue.record("a jump from 3.12 to 4.0 was accepted")
        } catch let e as UpgradePathError {
            guard case .noDirectPath(_, _, let reason, let path) = e else { Issue.record("\(e)"); return }
            #expect(path == [v("3.13.7"), v("4.0.5")])
            #expect(reason.contains("4.0 accepts rolling upgrades from 3.13.x only"))
            #expect(e.description.contains("Go through 3.13.x: 3.12.13 -> 3.13.7 -> 4.0.5"))
        }
    }

    @Test("one hop within the table's edges is accepted: 3.13.7 -> 4.0.5, 3.13.7 -> 4.2.9, 3.13.0 -> 3.13.7 (a patch upgrade)")
    func directHops() throws {
        #expect(try UpgradePlanner.hop(from: v("3.13.7"), to: v("4.0.5")).kind == .series)
        #expect(try UpgradePlanner.hop(from: v("3.13.7"), to: v("4.2.9")).to == v("4.2.9"))
        let patch = try UpgradePlanner.hop(from: v("3.13.0"), to: v("3.13.7"))
        #expect(patch.kind == .patch && patch.changes.isEmpty)
        #expect(patch.source.contains("rolling-upgrade.md@0acf2a4 L32-35"))
    }

    @Test("3.11 before 3.11.18 first moves to the newest 3.11 (docs/upgrade.md L154), and a single hop says so")
    func minimumPatch() throws {
        #expect(hops(try UpgradePlanner.plan(from: v("3.11.5"), to: v("3.12.14"))) == ["3.11.5->3.11.28", "3.11.28->3.12.14"])
        #expect(hops(try UpgradePlanner.plan(from: v("3.11.18"), to: v("3.12.14"))) == ["3.11.18->3.12.14"])
        #expect(throws: UpgradePathError.self) { try UpgradePlanner.hop(from: v("3.11.5"), to: v("3.12.0")) }
        do {
            _ = try UpgradePlanner.hop(from: v("3.11.5"), to: v("3.12.0"))
        } catch let e as UpgradePathError {
            #expect(e.description.contains("from 3.11.18 on"))
        }
    }

    @Test("3.13 -> 4.2 is one hop: the shortest documented path, not through 4.0 and 4.1")
    func shortestPath() throws {
        #expect(hops(try UpgradePlanner.plan(from: v("3.12.14"), to: v("4.2.9"))) == ["3.12.14->3.13.7", "3.13.7->4.2.9"])
    }

    @Test("a downgrade is refused with its source (docs/upgrade.md L228-236)")
    func downgrade() {
        #expect(throws: UpgradePathError.downgrade(from: v("4.0.5"), to: v("3.13.7"), source: VersionTable.noDowngrades.source)) {
            try UpgradePlanner.plan(from: v("4.0.5"), to: v("3.13.7"))
        }
        #expect(throws: UpgradePathError.self) { try UpgradePlanner.plan(from: v("3.10.9"), to: v("3.10.8")) }
    }

    @Test("an unknown version at either end is refused, naming what the table knows")
    func unknown() {
        #expect(throws: VersionError.unknown(v("4.3.0"), known: "3.10.0 to 4.2.9")) { try UpgradePlanner.plan(from: v("3.13.7"), to: v("4.3.0")) }
        #expect(throws: VersionError.unknown(v("3.9.29"), known: "3.10.0 to 4.2.9")) { try UpgradePlanner.plan(from: v("3.9.29"), to: v("3.10.8")) }
        #expect("\(VersionError.unknown(v("4.3.0"), known: "3.10.0 to 4.2.9"))".contains("not in warren's version table"))
    }

    @Test("the same version needs no hop")
    func nothingToDo() throws {
        #expect(try UpgradePlanner.plan(from: v("3.10.8"), to: v("3.10.8")).hops.isEmpty)
    }

    @Test("a hop whose Erlang ranges do not meet says so; an unlisted range is unknown, not shared")
    func erlangShared() throws {
        let p = try UpgradePlanner.plan(from: v("3.10.8"), to: v("3.13.7"))
        #expect(p.hops.map(\.erlangShared) == [true, nil, nil], "3.12.14 is not in the matrix")
        #expect(try UpgradePlanner.plan(from: v("3.12.13"), to: v("3.13.7")).hops[0].erlangShared == true)
        #expect(try UpgradePlanner.plan(from: v("3.11.28"), to: v("3.12.13")).hops[0].erlangShared == true)
    }
}

@Suite("Upgrade plans from a live cluster's versions")
struct LiveUpgradePlanTests {
    func cluster(_ versions: [String], erlang: String = "25.2.3", disabled: [String] = [], khepri: Bool = false) -> ClusterVersions {
        let nodes = versions.enumerated().map { ClusterVersions.Node(name: "rabbit@n\($0.offset + 1)", rabbitmq: v($0.element), erlang: erlang) }
        var flags = VersionTable.newClusterFlags(at: nodes.map(\.rabbitmq).min()!, disabled: disabled)
        if khepri, let k = flags.firstIndex(where: { $0.name == "khepri_db" }) { flags[k].state = .enabled }
        return ClusterVersions(nodes: nodes, flags: flags)
    }

    @Test("disabled stable flags are listed, with those the first hop's target needs to boot")
    func disabledFlags() throws {
        let c = cluster(["3.10.8", "3.10.8", "3.10.8"], disabled: ["user_limits", "stream_queue"])
        let (plan, r) = try UpgradePlanner.plan(for: c, policies: { [] }, to: v("3.11.28"))
        #expect(plan.hops.count == 1)
        #expect(r.disabledStableFlags == ["stream_queue", "user_limits"])
        #expect(r.blockingBoot == ["user_limits"], "stream_queue is required from 3.12 only")
    }

    @Test("a mixed cluster is planned from its oldest node")
    func mixed() throws {
        let c = cluster(["4.0.9", "3.13.7", "3.13.7"], erlang: "26.2.5")
        #expect(c.mixed && c.oldest == v("3.13.7"))
        let (plan, _) = try UpgradePlanner.plan(for: c, policies: { [] }, to: v("4.0.9"))
        #expect(plan.from == v("3.13.7") && plan.hops.count == 1)
    }

    @Test("a target older than any node is a downgrade, even when older nodes could reach it")
    func mixedDowngrade() {
        let c = cluster(["4.0.9", "3.13.7", "3.13.7"], erlang: "26.2.5")
        #expect(throws: UpgradePathError.downgrade(from: v("4.0.9"), to: v("3.13.7"), source: VersionTable.noDowngrades.source)) {
            try UpgradePlanner.plan(for: c, policies: { [] }, to: v("3.13.7"))
        }
    }

    @Test("a 3.13 cluster on Khepri is refused the hop to 4.x (docs/upgrade.md L161-167)")
    func khepri313() {
        let c = cluster(["3.13.7", "3.13.7", "3.13.7"], erlang: "26.2.5", khepri: true)
        #expect(c.metadataStore == .khepri)
        #expect(throws: UpgradePathError.self) { try UpgradePlanner.plan(for: c, policies: { [] }, to: v("4.0.5")) }
        do {
            _ = try UpgradePlanner.plan(for: c, policies: { [] }, to: v("4.0.5"))
        } catch let e as UpgradePathError {
            #expect(e.description.contains("Khepri") && e.description.contains("blue/green"))
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test("nodes whose Erlang the first hop's target does not run on are named")
    func erlangOutside() throws {
        let c = cluster(["3.12.13", "3.12.13"], erlang: "25.3.2")
        let (_, r) = try UpgradePlanner.plan(for: c, policies: { [] }, to: v("3.13.7"))
        #expect(r.erlangOutside.map(\.name) == ["rabbit@n1", "rabbit@n2"])
    }

    @Test("mirroring policies are listed when the plan reaches 4.0, and not even read otherwise")
    func mirroringPolicies() throws {
        let policies = [Policy(vhost: "/", name: "ha-all", pattern: "^", applyTo: "queues", keys: ["ha-mode", "ha-sync-mode"]),
                        Policy(vhost: "/", name: "limits", pattern: "^", applyTo: "queues", keys: ["max-length"])]
        let c = cluster(["3.13.7"], erlang: "26.2.5")
        let (_, crossing) = try UpgradePlanner.plan(for: c, policies: { policies }, to: v("4.0.5"))
        #expect(crossing.mirroringPolicies.map(\.name) == ["ha-all"])
        #expect(crossing.mirroringPolicies[0].mirroringKeys == ["ha-mode", "ha-sync-mode"])
        struct NotRead: Error {}
        let (_, before) = try UpgradePlanner.plan(for: cluster(["3.10.8"]), policies: { throw NotRead() }, to: v("3.12.14"))
        #expect(before.mirroringPolicies.isEmpty)
    }

    @Test("no node reporting a version refuses the plan")
    func noVersions() {
        #expect(throws: UpgradePathError.noVersions) {
            try UpgradePlanner.plan(for: ClusterVersions(nodes: [], unread: ["rabbit@n1"], flags: []), policies: { [] }, to: v("3.11.28"))
        }
    }
}
