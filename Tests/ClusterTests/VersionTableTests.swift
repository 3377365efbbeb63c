import Cluster
import Testing

func v(_ text: String) -> RabbitMQVersion { try! RabbitMQVersion(parsing: text) }
func rules(_ text: String) -> SeriesRules { try! VersionTable.rules(for: v(text)) }

/// One test per rule of the version table; each names the source the rule was read from.
@Suite("The version table: what each RabbitMQ series can and must do")
struct VersionTableTests {
    // MARK: Releases

    @Test("versions parse as MAJOR.MINOR.PATCH, compare by number and name their series")
    func parsing() throws {
        #expect(v("3.10.8") < v("3.10.25"))
        #expect(v("3.13.7") < v("4.0.0"))
        #expect(v("3.9.29") < v("3.10.0"))
        #expect(v("3.10.8").series == ReleaseSeries(3, 10))
        #expect("\(v("4.2.9").series)" == "4.2")
        for garbage in ["", "3.10", "3.10.8-1", "v3.10.8", "3.10.x", "3..8", "3.10.8.1", "latest", "3.10.８"] {
            #expect(throws: VersionError.malformed(garbage)) { try RabbitMQVersion(parsing: garbage) }
        }
        #expect("\(VersionError.malformed("x"))".contains("expected MAJOR.MINOR.PATCH"))
    }

    @Test("the table covers 3.10.0 to the newest tagged patches (rabbitmq-server tags at 5b09e556da) and refuses anything else")
    func coverage() {
        #expect(VersionTable.series.map(\.series.description) == ["3.10", "3.11", "3.12", "3.13", "4.0", "4.1", "4.2"])
        #expect(VersionTable.series.map(\.latestPatch.value) == [25, 28, 14, 7, 9, 8, 9])
        #expect(VersionTable.oldest == v("3.10.0") && VersionTable.newest == v("4.2.9"))
        for unknown in ["3.9.29", "3.10.26", "4.2.10", "4.3.0", "5.0.0"] {
            #expect(throws: VersionError.unknown(v(unknown), known: "3.10.0 to 4.2.9")) { try VersionTable.rules(for: v(unknown)) }
        }
        #expect(throws: VersionError.reportedByNode("rabbit@n1", .malformed("3.10"))) { try VersionTable.release("3.10", reportedBy: "rabbit@n1") }
    }

    @Test("every fact names a source; every fact marked UNVERIFIED leaves its value unknown")
    func sources() {
        for s in VersionTable.series {
            let p = s.procedures
            var all = [s.latestPatch.source, s.metadataStore.source, p.forceBootTakesEffect.source, p.forceResetDeprecated.source,
                       p.forceResetRefusedOnKhepri.source, p.joinNeedsStopAppAndReset.source, p.forgetShrinksReplicasFirst.source,
                       p.classicMirroredQueues.source, p.khepriNeedsMajority.source, p.enableAllSkipsExperimental.source]
            all += s.upgradesTo.map(\.source) + s.erlang.map(\.source) + s.commands.values.map(\.source) + s.changes.map(\.source)
            #expect(all.allSatisfy { !$0.isEmpty }, "\(s.series)")
            for e in s.erlang where e.source.contains("UNVERIFIED") { #expect(!e.known, "\(s.series) \(e.patches)") }
        }
        #expect(VersionTable.featureFlags.allSatisfy { !$0.source.isEmpty && $0.source.contains("@v") })
    }

    // MARK: Upgrade paths (docs/upgrade.md@0acf2a4 L124-158, the upgradability table)

    @Test("rolling upgrades go 3.10 -> 3.11 -> 3.12 -> 3.13 -> {4.0, 4.1, 4.2}, 4.0 -> {4.1, 4.2}, 4.1 -> 4.2 (docs/upgrade.md L124-158)")
    func edges() {
        let edges = VersionTable.series.map { s in "\(s.series):" + s.upgradesTo.map { "\($0.to)" }.joined(separator: ",") }
        #expect(edges == ["3.10:3.11", "3.11:3.12", "3.12:3.13", "3.13:4.0,4.1,4.2", "4.0:4.1,4.2", "4.1:4.2", "4.2:"])
        #expect(VersionTable.series.flatMap(\.upgradesTo).allSatisfy { $0.source.contains("docs/upgrade.md@0acf2a4 L124-158") })
    }

    @Test("3.12 accepts rolling upgrades from 3.11.18 on (docs/upgrade.md L154; the 3.12.0 notes' 3.11.17 is the laxer)")
    func minimumPatch311() {
        #expect(rules("3.11.0").upgradesTo[0].minimumPatch == 18)
        #expect(VersionTable.series.filter { $0.series != ReleaseSeries(3, 11) }.flatMap(\.upgradesTo).allSatisfy { $0.minimumPatch == 0 })
    }

    @Test("3.12 has no rolling upgrade to 4.0 (release-notes/4.0.1.md L197-202): only 3.13 goes to 4.x")
    func no312to40() {
        #expect(!rules("3.12.14").upgradesTo.contains { $0.to.major == 4 })
        #expect(VersionTable.series.filter { $0.upgradesTo.contains { $0.to == ReleaseSeries(4, 0) } }.map(\.series) == [ReleaseSeries(3, 13)])
    }

    @Test("3.13 on Khepri cannot go to 4.x in place (docs/upgrade.md L161-167, release-notes/4.0.1.md L211-216)")
    func khepri313() {
        #expect(rules("3.13.7").upgradesTo.allSatisfy { $0.onlyFrom == .mnesia && $0.source.contains("L161-167") })
        #expect(VersionTable.series.filter { $0.series != ReleaseSeries(3, 13) }.flatMap(\.upgradesTo).allSatisfy { $0.onlyFrom == nil })
    }

    @Test("a rolling upgrade cannot skip a series but can skip patches (docs/rolling-upgrade.md L32-35); no downgrades (docs/upgrade.md L228-236)")
    func generalRules() {
        #expect(VersionTable.noSkippingSeries.source.contains("rolling-upgrade.md@0acf2a4 L32-35"))
        #expect(VersionTable.noDowngrades.source.contains("upgrade.md@0acf2a4 L228-236"))
        #expect(VersionTable.allStableFlagsBeforeUpgrade.source.contains("L134-135"))
        #expect(VersionTable.mixedVersionWindow.value == "no more than a few hours")
    }

    // MARK: Erlang (docs/which-erlang.md@0acf2a4)

    @Test("3.10.8 runs on Erlang 24.2-25.2, so on Debian's 25.2.3 (which-erlang.md L554-588; the live 3.10.8 reports 25.2.3)")
    func erlang3108() throws {
        let r = try #require(rules("3.10.8").erlang(8))
        #expect(r.min == "24.2" && r.max == "25.2")
        #expect(r.contains("25.2.3") == true && r.contains("24.2") == true)
        #expect(r.contains("24.1.7") == false && r.contains("25.3") == false && r.contains("26.0") == false)
        #expect(r.contains("garbage") == nil)
    }

    @Test("Erlang by series: 3.11 needs 25 (3.11.0 notes L68-71), 3.13 needs 26 (3.13.0 notes L92-95), 4.2.9 needs 27 (which-erlang.md L72-104)")
    func erlangBySeries() throws {
        #expect(try #require(rules("3.11.28").erlang(28)).contains("24.3.4") == false)
        #expect(try #require(rules("3.13.7").erlang(7)).contains("25.3") == false)
        #expect(try #require(rules("3.13.7").erlang(7)).contains("26.2.5") == true)
        #expect(try #require(rules("4.0.5").erlang(5)).contains("27.3.4") == true)
        #expect(try #require(rules("4.0.3").erlang(3)).contains("27.0") == false)
        #expect(try #require(rules("4.2.8").erlang(8)).contains("26.2.5") == true)
        #expect(try #require(rules("4.2.9").erlang(9)).contains("26.2.5") == false)
    }

    @Test("patches the compatibility matrix does not list have no Erlang range (3.10.3, 3.10.15, 3.12.14, 4.0.0: UNVERIFIED)")
    func erlangUnlisted() {
        for (version, patch) in [("3.10.3", 3), ("3.10.15", 15), ("3.12.14", 14), ("4.0.0", 0)] {
            #expect(rules(version).erlang(patch) == nil, "\(version)")
        }
        #expect(ErlangRange.text(nil).contains("UNVERIFIED"))
    }

    // MARK: Feature flags (-rabbit_feature_flag attributes of rabbitmq-server at every tag)

    @Test("3.10.8 has the nine flags the live 3.10.8 lists (classic_queue_type_delivery_support comes with 3.10.9)")
    func flags3108() {
        let names = VersionTable.flags(at: v("3.10.8")).map(\.rule.name)
        #expect(names == ["classic_mirrored_queue_version", "drop_unroutable_metric", "empty_basic_get_metric", "implicit_default_bindings",
                          "maintenance_mode_status", "quorum_queue", "stream_queue", "user_limits", "virtual_host_metadata"])
        #expect(VersionTable.flags(at: v("3.10.9")).contains { $0.rule.name == "classic_queue_type_delivery_support" })
    }

    @Test("classic_queue_type_delivery_support is absent from 3.11.0 and back in 3.11.1 (rabbit_core_ff.erl@v3.10.9, v3.11.0, v3.11.1)")
    func flagGap3110() {
        #expect(!VersionTable.flags(at: v("3.11.0")).contains { $0.rule.name == "classic_queue_type_delivery_support" })
        #expect(VersionTable.flags(at: v("3.11.1")).contains { $0.rule.name == "classic_queue_type_delivery_support" })
    }

    @Test("3.11.0 makes the five 3.8 flags required (release-notes/3.11.0.md L43-46)")
    func required311() {
        #expect(VersionTable.flagsRequired(from: ReleaseSeries(3, 11))
            == ["implicit_default_bindings", "maintenance_mode_status", "quorum_queue", "user_limits", "virtual_host_metadata"])
    }

    @Test("3.12.0 makes every flag of 3.11 required: 15 in all (release-notes/3.12.0.md L57-77)")
    func required312() {
        let at3128 = Set(VersionTable.flags(at: v("3.11.28")).map(\.rule.name)).subtracting(["stream_sac_coordinator_unblock_group"])
        let required = VersionTable.flags(at: v("3.12.0")).filter { $0.stability == .required }.map(\.rule.name)
        #expect(required.count == 15)
        #expect(Set(required) == at3128)
    }

    @Test("3.13 requires no new flag (release-notes/3.13.0.md L50-58); 4.0 requires every flag up to 3.13.0: 23 (release-notes/4.0.1.md L204-209)")
    func required313and40() {
        #expect(VersionTable.flagsRequired(from: ReleaseSeries(3, 13)).isEmpty)
        let required40 = VersionTable.flags(at: v("4.0.0")).filter { $0.stability == .required }.map(\.rule)
        #expect(required40.count == 23)
        #expect(required40.allSatisfy { $0.introduced <= v("3.13.0") })
        #expect(VersionTable.flagsRequired(from: ReleaseSeries(4, 1)).isEmpty && VersionTable.flagsRequired(from: ReleaseSeries(4, 2)).isEmpty)
    }

    @Test("khepri_db is experimental from 3.13.0 to 4.1, stable from 4.2.0 (rabbit_core_ff.erl@v4.2.0 L147-167)")
    func khepriFlag() {
        func stability(_ version: String) -> FeatureFlagStability? {
            VersionTable.flags(at: v(version)).first { $0.rule.name == "khepri_db" }?.stability
        }
        #expect(stability("3.12.14") == nil)
        #expect(stability("3.13.0") == .experimental && stability("4.1.8") == .experimental)
        #expect(stability("4.2.0") == .stable)
    }

    @Test("a new cluster enables its stable flags but not its experimental ones (rabbit_feature_flags.erl@v4.3.0 L212-216)")
    func newClusterFlags() {
        let flags = VersionTable.newClusterFlags(at: v("3.13.7"))
        #expect(flags.first { $0.name == "khepri_db" }?.state == .disabled)
        #expect(flags.filter { $0.name != "khepri_db" }.allSatisfy { $0.state == .enabled })
        #expect(!flags.contains { $0.providedBy == "rabbitmq_mqtt" }, "plugin flags are listed only while the plugin runs")
        #expect(VersionTable.newClusterFlags(at: v("3.10.8"), disabled: ["quorum_queue"]).first { $0.name == "quorum_queue" }?.state == .disabled)
    }

    @Test("from 3.12.0 a plugin's required flag is enabled at boot; a required flag of rabbit still fails it (rabbit_ff_registry_factory.erl@v3.12.0 L260-293)")
    func bootBlocking() throws {
        let metric = try #require(VersionTable.featureFlags.first { $0.name == "drop_unroutable_metric" })
        let quorum = try #require(VersionTable.featureFlags.first { $0.name == "stream_queue" })
        #expect(!VersionTable.blocksBoot(metric, of: v("3.12.0")))
        #expect(VersionTable.blocksBoot(quorum, of: v("3.12.0")))
        #expect(!VersionTable.blocksBoot(quorum, of: v("3.11.28")), "stream_queue is still stable in 3.11")
    }

    // MARK: Metadata store

    @Test("Mnesia only to 3.12; Khepri experimental in 3.13, opt-in in 4.0 and 4.1, the default for new clusters from 4.2 (release-notes/4.2.0.md L106-124)")
    func metadataStore() {
        let rows = VersionTable.series.map { "\($0.series) \($0.metadataStore.value.newClusters.rawValue) \($0.metadataStore.value.khepri.rawValue)" }
        #expect(rows == ["3.10 mnesia none", "3.11 mnesia none", "3.12 mnesia none", "3.13 mnesia experimental",
                         "4.0 mnesia opt-in", "4.1 mnesia opt-in", "4.2 khepri default for new clusters"])
    }

    // MARK: Procedures

    @Test("force_boot takes effect on Mnesia only: on Khepri it does nothing (rabbit_db.erl@v3.13.7 L181-195, @v4.0.5 L179-187)")
    func forceBoot() {
        #expect(VersionTable.series.allSatisfy { $0.procedures.forceBootTakesEffect.value == [.mnesia] })
    }

    @Test("force_reset fails on Khepri from 4.0.7 and in every 4.1 and 4.2 patch (rabbit_db.erl@v4.0.7, @v4.1.0 L149-172); deprecated from 4.1 (4.1.0 notes L361-364)")
    func forceReset() {
        #expect(!rules("4.0.6").procedures.forceResetRefusedOnKhepri.value.contains(6))
        #expect(rules("4.0.7").procedures.forceResetRefusedOnKhepri.value.contains(7))
        #expect(rules("4.1.0").procedures.forceResetRefusedOnKhepri.value == .all)
        #expect(rules("3.13.7").procedures.forceResetRefusedOnKhepri.value == .none)
        #expect(VersionTable.series.map(\.procedures.forceResetDeprecated.value) == [false, false, false, false, false, true, true])
    }

    @Test("join_cluster needs stop_app and reset before 4.1 (docs/clustering.md L744-752), kept for 3.13 and 4.0 although their code prepares the node")
    func joinCluster() {
        #expect(VersionTable.series.map(\.procedures.joinNeedsStopAppAndReset.value) == [true, true, true, true, true, false, false])
        #expect(rules("3.13.0").procedures.joinNeedsStopAppAndReset.source.contains("conservative"))
    }

    @Test("forget_cluster_node shrinks replicas before leaving from 4.2.6 only, not in 4.1 (release-notes/4.2.6.md L27-32)")
    func forget() {
        #expect(rules("4.2.6").procedures.forgetShrinksReplicasFirst.value.contains(6))
        #expect(!rules("4.2.5").procedures.forgetShrinksReplicasFirst.value.contains(5))
        #expect(!rules("4.1.8").procedures.forgetShrinksReplicasFirst.value.contains(8))
        #expect(VersionTable.series.dropLast().allSatisfy { $0.procedures.forgetShrinksReplicasFirst.value == .none })
    }

    @Test("classic queue mirroring is removed in 4.0 (release-notes/4.0.1.md L30-44)")
    func mirroring() {
        #expect(VersionTable.series.map(\.procedures.classicMirroredQueues.value) == [true, true, true, true, false, false, false])
        #expect(rules("4.0.0").changes.contains { $0.value.contains("mirroring is removed") })
    }

    @Test("on Khepri a majority must be up to boot and change membership, from 3.13 (docs/metadata-store/clustering.md L76-131)")
    func majority() {
        #expect(VersionTable.series.map(\.procedures.khepriNeedsMajority.value) == [false, false, false, true, true, true, true])
    }

    @Test("enable_feature_flag all leaves experimental flags alone from 3.13 (rabbit_feature_flags.erl@v3.13.0 L427-428)")
    func enableAll() {
        #expect(VersionTable.series.map(\.procedures.enableAllSkipsExperimental.value) == [false, false, false, true, true, true, true])
        // Before 3.13 it enabled every flag, which was harmless: no experimental flag existed.
        #expect(VersionTable.featureFlags.filter { $0.introduced < v("3.13.0") }.allSatisfy { $0.stableFrom == nil })
    }

    // MARK: Commands (git ls-tree of deps/rabbitmq_cli/lib at every tag, release notes)

    @Test("health checks by version: metadata_store_status 3.13+, check_if_metadata_store_is_initialized 4.0.6+, check_for_quorum_queues_without_an_elected_leader 4.0.8+ and 4.1.0+, has_reached_target_cluster_size 4.2.4+")
    func commands() {
        func has(_ version: String, _ c: VersionedCommand) -> Bool { rules(version).has(c, patch: v(version).patch) }
        #expect(!has("3.12.14", .metadataStoreStatus) && has("3.13.0", .metadataStoreStatus) && has("4.2.9", .metadataStoreStatus))
        #expect(!has("4.0.5", .checkIfMetadataStoreIsInitialized) && has("4.0.6", .checkIfMetadataStoreIsInitialized))
        #expect(!has("4.0.7", .checkForQuorumQueuesWithoutAnElectedLeader) && has("4.0.8", .checkForQuorumQueuesWithoutAnElectedLeader))
        #expect(has("4.1.0", .checkForQuorumQueuesWithoutAnElectedLeader) && has("4.2.0", .checkForQuorumQueuesWithoutAnElectedLeader))
        #expect(!has("4.2.3", .hasReachedTargetClusterSize) && has("4.2.4", .hasReachedTargetClusterSize))
        #expect(!has("3.13.7", .checkForQuorumQueuesWithoutAnElectedLeader) && !has("3.10.8", .hasReachedTargetClusterSize))
    }

    @Test("await_online_synchronized_mirror is gone in 4.0 (rabbitmq_cli upgrade commands @v3.13.7 against @v4.0.0)")
    func mirrorSyncCommand() {
        let available = VersionTable.series.map { $0.has(.awaitOnlineSynchronizedMirror, patch: 0) }
        #expect(available == [true, true, true, true, false, false, false])
    }
}
