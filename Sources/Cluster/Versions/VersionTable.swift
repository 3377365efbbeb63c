/// What each RabbitMQ release series can and must do: upgrade paths, Erlang, feature flags,
/// metadata store and the procedures that differ. The one table warren's planner, preflight,
/// simulator and runbooks read; every fact names its source. Line numbers in
/// `rabbitmq/rabbitmq-website` refer to its commit 0acf2a4, release notes to rabbitmq-server's
/// commit 5b09e556da (the same text as the GitHub release pages). Only 3.10.8 runs on warren's
/// test machines; the rest is modelled from these sources.
public enum VersionTable {
    // MARK: Rules for every series

    /// Rolling upgrades cannot skip a series; patch releases of one series can be skipped.
    public static let noSkippingSeries = Fact(true, source: Src.rollingUpgrade + " L32-35 (\"Rolling upgrades don't support skipping versions, except patch releases\")")

    /// Downgrades are not supported.
    public static let noDowngrades = Fact(true, source: Src.upgrade + " L228-236 (\"RabbitMQ does not officially support downgrades\")")

    /// All stable feature flags must be enabled before an upgrade, or it may fail; and again
    /// after every upgrade, once every node runs the new version.
    public static let allStableFlagsBeforeUpgrade = Fact(true, source: Src.upgrade + " L134-135; " + Src.rollingUpgrade + " L63-72 and L163-168")

    /// Each intermediate hop goes to the newest patch of its series.
    public static let newestPatchOfEachSeries = Fact(true, source: "https://www.rabbitmq.com/docs/3.13/upgrade (rabbitmq/rabbitmq-website versioned_docs/version-3.13/upgrade.md@0acf2a4 L142-170)")

    /// A mixed-version cluster is for the rolling upgrade only: no more than a few hours.
    public static let mixedVersionWindow = Fact("no more than a few hours", source: Src.notes("4.2.0.md", 172, 180))

    /// From 3.12.0 a disabled required flag provided by a plugin is enabled at boot instead of
    /// failing it; a required flag of `rabbit` still fails the boot
    /// (`{error,failed_to_initialize_feature_flags_registry}`), and the node must be downgraded.
    public static let pluginRequiredFlagsEnabledAtBoot = Fact(ReleaseSeries(3, 12).patch(0),
        source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_ff_registry_factory.erl@v3.12.0 L260-293 and @v4.2.9 L261-298")

    // MARK: The series

    public static let series: [SeriesRules] = [
        SeriesRules(
            series: ReleaseSeries(3, 10),
            latestPatch: Fact(25, source: Src.tags("3.10")),
            upgradesTo: [UpgradeEdge(to: ReleaseSeries(3, 11), source: Src.upgradeTable)],
            erlang: [
                ErlangRange(patches: [0...2, 4...4], min: "23.2", max: "24.3", source: Src.whichErlang(623, 653)),
                ErlangRange(patches: [5...7], min: "23.2", max: "25.2", source: Src.whichErlang(589, 622)),
                ErlangRange(patches: [8...13], min: "24.2", max: "25.2", source: Src.whichErlang(554, 588)),
                ErlangRange(patches: [14...14, 16...18], min: "24.3", max: "25.2", source: Src.whichErlang(518, 553)),
                ErlangRange(patches: [19...25], min: "24.3.4.8", max: "25.3.x", source: Src.whichErlang(479, 517)),
                ErlangRange(patches: [3...3, 15...15], min: nil, max: nil, source: "UNVERIFIED: not listed in " + Src.whichErlang(479, 653)),
            ],
            metadataStore: Fact(MetadataStoreRule(newClusters: .mnesia, khepri: .none), source: Src.metadataStore),
            procedures: ProcedureRules(
                forceBootTakesEffect: Fact([.mnesia], source: Src.cli("ctl/commands/force_boot_command.ex", "v3.10.8") + "; https://www.rabbitmq.com/docs/clustering (docs/clustering.md@0acf2a4 L1323-1333)"),
                forceResetDeprecated: Fact(false, source: Src.cli("ctl/commands/force_reset_command.ex", "v3.10.8")),
                forceResetRefusedOnKhepri: Fact(.none, source: Src.metadataStore + " (no Khepri)"),
                joinNeedsStopAppAndReset: Fact(true, source: Src.cli("ctl/commands/join_cluster_command.ex", "v3.10.8") + " (RequiresRabbitAppStopped)"),
                forgetShrinksReplicasFirst: Fact(.none, source: Src.cli("ctl/commands/forget_cluster_node_command.ex", "v3.10.8") + " L47-62 (forgets, then shrinks)"),
                classicMirroredQueues: Fact(true, source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_mirror_queue_misc.erl@v3.10.25"),
                khepriNeedsMajority: Fact(false, source: Src.metadataStore + " (no Khepri)"),
                enableAllSkipsExperimental: Fact(false, source: Src.notes("3.8.10.md", 197, 205) + " (enables every supported flag; 3.10 has no experimental flag)")),
            commands: [
                .awaitOnlineSynchronizedMirror: Fact(.all, source: Src.cli("upgrade/commands/await_online_synchronized_mirror_command.ex", "v3.10.8")),
            ],
            changes: []),

        SeriesRules(
            series: ReleaseSeries(3, 11),
            latestPatch: Fact(28, source: Src.tags("3.11")),
            upgradesTo: [UpgradeEdge(to: ReleaseSeries(3, 12), minimumPatch: 18,
                                     source: Src.upgradeTable + " (\"3.11.18 -> 3.12.x\"; the 3.12.0 notes L57-77 say 3.11.17: the stricter one is kept)")],
            erlang: [ErlangRange(patches: [0...28], min: "25.0", max: "25.3.x", source: Src.whichErlang(418, 478))],
            metadataStore: Fact(MetadataStoreRule(newClusters: .mnesia, khepri: .none), source: Src.metadataStore),
            procedures: ProcedureRules(
                forceBootTakesEffect: Fact([.mnesia], source: Src.cli("ctl/commands/force_boot_command.ex", "v3.11.28")),
                forceResetDeprecated: Fact(false, source: Src.cli("ctl/commands/force_reset_command.ex", "v3.11.28")),
                forceResetRefusedOnKhepri: Fact(.none, source: Src.metadataStore + " (no Khepri)"),
                joinNeedsStopAppAndReset: Fact(true, source: Src.cli("ctl/commands/join_cluster_command.ex", "v3.11.28")),
                forgetShrinksReplicasFirst: Fact(.none, source: Src.cli("ctl/commands/forget_cluster_node_command.ex", "v3.11.28")),
                classicMirroredQueues: Fact(true, source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_mirror_queue_misc.erl@v3.11.28"),
                khepriNeedsMajority: Fact(false, source: Src.metadataStore + " (no Khepri)"),
                enableAllSkipsExperimental: Fact(false, source: Src.notes("3.8.10.md", 197, 205) + " (3.11 has no experimental flag)")),
            commands: [
                .awaitOnlineSynchronizedMirror: Fact(.all, source: Src.cli("upgrade/commands/await_online_synchronized_mirror_command.ex", "v3.11.28")),
            ],
            changes: [
                Fact("RabbitMQ 3.11 requires Erlang 25.0 or later: nodes on an older Erlang fail to start", source: Src.notes("3.11.0.md", 68, 71)),
                Fact("3.11.0 does not define classic_queue_type_delivery_support, which 3.10.9+ enables: go to 3.11.1 or later (what 3.11.0 does with the enabled flag is UNVERIFIED)",
                     source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_core_ff.erl at v3.10.9, v3.11.0 and v3.11.1"),
            ]),

        SeriesRules(
            series: ReleaseSeries(3, 12),
            latestPatch: Fact(14, source: Src.tags("3.12")),
            upgradesTo: [UpgradeEdge(to: ReleaseSeries(3, 13), source: Src.upgradeTable)],
            erlang: [
                ErlangRange(patches: [0...4], min: "25.0", max: "26.0.x", source: Src.whichErlang(385, 417)),
                ErlangRange(patches: [5...9], min: "25.0", max: "26.1.x", source: Src.whichErlang(345, 384)),
                ErlangRange(patches: [10...13], min: "25.0", max: "26.2.x", source: Src.whichErlang(305, 344)),
                ErlangRange(patches: [14...14], min: nil, max: nil, source: "UNVERIFIED: not listed in " + Src.whichErlang(305, 417)),
            ],
            metadataStore: Fact(MetadataStoreRule(newClusters: .mnesia, khepri: .none), source: Src.metadataStore),
            procedures: ProcedureRules(
                forceBootTakesEffect: Fact([.mnesia], source: Src.cli("ctl/commands/force_boot_command.ex", "v3.12.14")),
                forceResetDeprecated: Fact(false, source: Src.cli("ctl/commands/force_reset_command.ex", "v3.12.14")),
                forceResetRefusedOnKhepri: Fact(.none, source: Src.metadataStore + " (no Khepri)"),
                joinNeedsStopAppAndReset: Fact(true, source: Src.cli("ctl/commands/join_cluster_command.ex", "v3.12.14")),
                forgetShrinksReplicasFirst: Fact(.none, source: Src.cli("ctl/commands/forget_cluster_node_command.ex", "v3.12.14")),
                classicMirroredQueues: Fact(true, source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_mirror_queue_misc.erl@v3.12.14"),
                khepriNeedsMajority: Fact(false, source: Src.metadataStore + " (no Khepri)"),
                enableAllSkipsExperimental: Fact(false, source: Src.notes("3.8.10.md", 197, 205) + " (3.12 has no experimental flag)")),
            commands: [
                .awaitOnlineSynchronizedMirror: Fact(.all, source: Src.cli("upgrade/commands/await_online_synchronized_mirror_command.ex", "v3.12.14")),
            ],
            changes: [
                Fact("Every feature flag of 3.11 is required by 3.12: a node with one disabled refuses to boot", source: Src.notes("3.12.0.md", 57, 77)),
                Fact("3.12 runs on Erlang 25 and 26 (3.13 needs 26): moving Erlang 25 -> 26 together with 3.11 -> 3.12 needs 3.11.17 or later", source: Src.notes("3.12.0.md", 64, 70)),
            ]),

        SeriesRules(
            series: ReleaseSeries(3, 13),
            latestPatch: Fact(7, source: Src.tags("3.13")),
            upgradesTo: [
                UpgradeEdge(to: ReleaseSeries(4, 0), onlyFrom: .mnesia, source: Src.upgradeTable + Src.khepri313),
                UpgradeEdge(to: ReleaseSeries(4, 1), onlyFrom: .mnesia, source: Src.upgradeTable + Src.khepri313),
                UpgradeEdge(to: ReleaseSeries(4, 2), onlyFrom: .mnesia, source: Src.upgradeTable + Src.khepri313),
            ],
            erlang: [ErlangRange(patches: [0...7], min: "26.0", max: "26.2.x", source: Src.whichErlang(192, 239))],
            metadataStore: Fact(MetadataStoreRule(newClusters: .mnesia, khepri: .experimental),
                                source: Src.notes("3.13.0.md", 243, 259) + "; rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_core_ff.erl@v3.13.7 L130-150"),
            procedures: ProcedureRules(
                forceBootTakesEffect: Fact([.mnesia], source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_db.erl@v3.13.7 L181-195 (a no-op on Khepri)"),
                forceResetDeprecated: Fact(false, source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_db.erl@v3.13.7 L168-172"),
                forceResetRefusedOnKhepri: Fact(.none, source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_db.erl@v3.13.7 L168-172 (rabbit_khepri:force_reset/0)"),
                joinNeedsStopAppAndReset: Fact(true, source: "https://www.rabbitmq.com/docs/clustering (docs/clustering.md@0acf2a4 L744-752 documents joining without it from 4.1.0 only; rabbit_db_cluster.erl@v3.13.0 L89-124 already prepares the node: kept conservative)"),
                forgetShrinksReplicasFirst: Fact(.none, source: Src.cli("ctl/commands/forget_cluster_node_command.ex", "v3.13.7") + " L53-100 (forgets, then shrinks)"),
                classicMirroredQueues: Fact(true, source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_mirror_queue_misc.erl@v3.13.7 L85-103 (deprecated, permitted by default)"),
                khepriNeedsMajority: Fact(true, source: Src.khepriClustering),
                enableAllSkipsExperimental: Fact(true, source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_feature_flags.erl@v3.13.0 L427-428")),
            commands: [
                .metadataStoreStatus: Fact(.all, source: Src.cli("diagnostics/commands/metadata_store_status_command.ex", "v3.13.0") + "; with Mnesia it answers from 3.13.7 (" + Src.notes("3.13.7.md", 100, 103) + ")"),
                .awaitOnlineSynchronizedMirror: Fact(.all, source: Src.cli("upgrade/commands/await_online_synchronized_mirror_command.ex", "v3.13.7")),
            ],
            changes: [
                Fact("RabbitMQ 3.13 requires Erlang 26: nodes on an older Erlang fail to start", source: Src.notes("3.13.0.md", 92, 95)),
                Fact("Khepri (khepri_db) is experimental in 3.13: a 3.13 cluster with it enabled cannot be upgraded to 4.x in place (blue/green migration only), so leave it disabled",
                     source: Src.upgrade + " L161-167; " + Src.notes("4.0.1.md", 211, 216)),
                Fact("`rabbitmqctl enable_feature_flag all` enables stable flags only", source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_feature_flags.erl@v3.13.0 L427-428"),
            ]),

        SeriesRules(
            series: ReleaseSeries(4, 0),
            latestPatch: Fact(9, source: Src.tags("4.0")),
            upgradesTo: [
                UpgradeEdge(to: ReleaseSeries(4, 1), source: Src.upgradeTable),
                UpgradeEdge(to: ReleaseSeries(4, 2), source: Src.upgradeTable),
            ],
            erlang: [
                ErlangRange(patches: [0...0], min: nil, max: nil, source: "UNVERIFIED: v4.0.0 is tagged but not listed in " + Src.whichErlang(105, 191)),
                ErlangRange(patches: [1...3], min: "26.2", max: "26.2.x", source: Src.whichErlang(165, 191)),
                ErlangRange(patches: [4...9], min: "26.2", max: "27.x", source: Src.whichErlang(105, 164)),
            ],
            metadataStore: Fact(MetadataStoreRule(newClusters: .mnesia, khepri: .optIn),
                                source: "https://www.rabbitmq.com/docs/4.0/metadata-store/how-to-enable-khepri (versioned_docs/version-4.0/metadata-store/how-to-enable-khepri.md@0acf2a4 L12-14); rabbit_core_ff.erl@v4.0.0 L130-150"),
            procedures: ProcedureRules(
                forceBootTakesEffect: Fact([.mnesia], source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_db.erl@v4.0.5 L179-187 and deps/rabbitmq_cli/lib/rabbitmq/cli/ctl/commands/force_boot_command.ex@v4.2.9 L26-52 (on Khepri: nothing done, exit 0)"),
                forceResetDeprecated: Fact(false, source: Src.notes("4.1.0.md", 361, 364) + " (deprecated from 4.1)"),
                forceResetRefusedOnKhepri: Fact(.from(7), source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_db.erl@v4.0.6 L166-170 against @v4.0.7 (\"Forced reset is unsupported with Khepri\", PR #13217 backport)"),
                joinNeedsStopAppAndReset: Fact(true, source: "https://www.rabbitmq.com/docs/clustering (docs/clustering.md@0acf2a4 L744-752: from 4.1.0 only; rabbit_db_cluster.erl@v4.0.9 L90-125 prepares the node: kept conservative)"),
                forgetShrinksReplicasFirst: Fact(.none, source: Src.cli("ctl/commands/forget_cluster_node_command.ex", "v4.0.9") + " L53-100 (forgets, then shrinks)"),
                classicMirroredQueues: Fact(false, source: Src.notes("4.0.1.md", 30, 44)),
                khepriNeedsMajority: Fact(true, source: Src.khepriClustering),
                enableAllSkipsExperimental: Fact(true, source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_feature_flags.erl@v3.13.0 L427-428 (unchanged in 4.0)")),
            commands: [
                .metadataStoreStatus: Fact(.all, source: Src.cli("diagnostics/commands/metadata_store_status_command.ex", "v4.0.0")),
                .checkIfMetadataStoreIsInitialized: Fact(.from(6), source: Src.notes("4.0.6.md", 86, 91)),
                .checkForQuorumQueuesWithoutAnElectedLeader: Fact(.from(8), source: Src.notes("4.0.8.md", 70, 81)),
            ],
            changes: [
                Fact("Classic queue mirroring is removed: ha-* policy keys no longer have any effect and classic queues keep a single replica; move mirrored queues to quorum queues first (https://www.rabbitmq.com/docs/migrate-mcq-to-qq)",
                     source: Src.notes("4.0.1.md", 30, 44)),
                Fact("`rabbitmq-upgrade await_online_synchronized_mirror` is gone and `check_if_node_is_mirror_sync_critical` always passes",
                     source: "git ls-tree of rabbitmq/rabbitmq-server deps/rabbitmq_cli/lib/rabbitmq/cli/upgrade/commands @v3.13.7 against @v4.0.0; check_if_node_is_mirror_sync_critical_command.ex@v4.0.0 L27-29"),
                Fact("Khepri is supported as an opt-in (`rabbitmqctl enable_feature_flag khepri_db --opt-in`); Mnesia stays the default",
                     source: "https://www.rabbitmq.com/docs/4.0/metadata-store/how-to-enable-khepri (versioned_docs/version-4.0/metadata-store/how-to-enable-khepri.md@0acf2a4 L12-14)"),
            ]),

        SeriesRules(
            series: ReleaseSeries(4, 1),
            latestPatch: Fact(8, source: Src.tags("4.1")),
            upgradesTo: [UpgradeEdge(to: ReleaseSeries(4, 2), source: Src.upgradeTable)],
            erlang: [ErlangRange(patches: [0...8], min: "26.2", max: "27.x",
                                 source: "https://www.rabbitmq.com/docs/4.1/which-erlang (versioned_docs/version-4.1/which-erlang.md@0acf2a4 L98-147)")],
            metadataStore: Fact(MetadataStoreRule(newClusters: .mnesia, khepri: .optIn),
                                source: "https://www.rabbitmq.com/docs/4.1/metadata-store/how-to-enable-khepri (versioned_docs/version-4.1/metadata-store/how-to-enable-khepri.md@0acf2a4 L12-14); rabbit_core_ff.erl@v4.1.0 L147-168"),
            procedures: ProcedureRules(
                forceBootTakesEffect: Fact([.mnesia], source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_db.erl@v4.1.0 force_load_on_next_boot (on Khepri: nothing done, exit 0)"),
                forceResetDeprecated: Fact(true, source: Src.notes("4.1.0.md", 361, 364)),
                forceResetRefusedOnKhepri: Fact(.all, source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_db.erl@v4.1.0 L149-172; deps/rabbit/test/clustering_management_SUITE.erl@v4.2.9 L964-973 (exit 69)"),
                joinNeedsStopAppAndReset: Fact(false, source: "https://www.rabbitmq.com/docs/clustering (docs/clustering.md@0acf2a4 L744-752: \"Starting with RabbitMQ 4.1.0, nodes no longer need to be stopped and reset before joining\")"),
                forgetShrinksReplicasFirst: Fact(.none, source: Src.cli("ctl/commands/forget_cluster_node_command.ex", "v4.1.8") + " (the 4.2.6 change was not backported)"),
                classicMirroredQueues: Fact(false, source: Src.notes("4.0.1.md", 30, 44) + " (removed in 4.0)"),
                khepriNeedsMajority: Fact(true, source: Src.khepriClustering),
                enableAllSkipsExperimental: Fact(true, source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_feature_flags.erl@v3.13.0 L427-428 (unchanged in 4.1)")),
            commands: [
                .metadataStoreStatus: Fact(.all, source: Src.cli("diagnostics/commands/metadata_store_status_command.ex", "v4.1.0")),
                .checkIfMetadataStoreIsInitialized: Fact(.all, source: Src.notes("4.0.6.md", 86, 91) + " (in every 4.1 patch)"),
                .checkForQuorumQueuesWithoutAnElectedLeader: Fact(.all, source: Src.notes("4.1.0.md", 378, 391)),
            ],
            changes: [
                Fact("`rabbitmqctl join_cluster` no longer needs `stop_app` and `reset` first: it prepares the node itself",
                     source: "https://www.rabbitmq.com/docs/clustering (docs/clustering.md@0acf2a4 L744-752)"),
                Fact("`rabbitmqctl force_reset` is deprecated (it fails on Khepri)", source: Src.notes("4.1.0.md", 361, 364)),
            ]),

        SeriesRules(
            series: ReleaseSeries(4, 2),
            latestPatch: Fact(9, source: Src.tags("4.2") + " (the website's matrix names 4.2.10, which has no tag there)"),
            upgradesTo: [],
            erlang: [
                ErlangRange(patches: [0...8], min: "26.2", max: "27.x", source: Src.whichErlang(105, 164) + " (Erlang 28: new clusters only)"),
                ErlangRange(patches: [9...9], min: "27.0", max: "27.x", source: Src.whichErlang(72, 104)),
            ],
            metadataStore: Fact(MetadataStoreRule(newClusters: .khepri, khepri: .defaultForNewClusters),
                                source: Src.notes("4.2.0.md", 106, 124) + "; rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_core_ff.erl@v4.2.0 L147-167"),
            procedures: ProcedureRules(
                forceBootTakesEffect: Fact([.mnesia], source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_db.erl@v4.2.0 L182-190; deps/rabbit/test/clustering_management_SUITE.erl@v4.2.9 L828-834 (on Khepri: nothing done, exit 0)"),
                forceResetDeprecated: Fact(true, source: Src.notes("4.1.0.md", 361, 364) + "; rabbit_db.erl@v4.2.0 L150-173"),
                forceResetRefusedOnKhepri: Fact(.all, source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_db.erl@v4.2.0 L150-173"),
                joinNeedsStopAppAndReset: Fact(false, source: "https://www.rabbitmq.com/docs/4.2/clustering (versioned_docs/version-4.2/clustering.md@0acf2a4 L635)"),
                forgetShrinksReplicasFirst: Fact(.from(6), source: Src.notes("4.2.6.md", 27, 32) + "; " + Src.cli("ctl/commands/forget_cluster_node_command.ex", "v4.2.6") + " L53-110"),
                classicMirroredQueues: Fact(false, source: Src.notes("4.2.0.md", 161, 166)),
                khepriNeedsMajority: Fact(true, source: Src.khepriClustering),
                enableAllSkipsExperimental: Fact(true, source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_feature_flags.erl@v4.2.9 L466-467")),
            commands: [
                .metadataStoreStatus: Fact(.all, source: Src.cli("diagnostics/commands/metadata_store_status_command.ex", "v4.2.9")),
                .checkIfMetadataStoreIsInitialized: Fact(.all, source: Src.notes("4.0.6.md", 86, 91) + " (in every 4.2 patch)"),
                .checkForQuorumQueuesWithoutAnElectedLeader: Fact(.all, source: Src.notes("4.1.0.md", 378, 391) + " (in every 4.2 patch)"),
                .hasReachedTargetClusterSize: Fact(.from(4), source: Src.notes("4.2.4.md", 91, 96)),
            ],
            changes: [
                Fact("New clusters start on Khepri; an upgraded cluster keeps Mnesia until khepri_db is enabled, and `rabbitmqctl enable_feature_flag all` now enables it and migrates the metadata to Khepri (then a majority of nodes must be up to boot, and force_boot does nothing)",
                     source: Src.notes("4.2.0.md", 106, 124) + "; rabbitmq/rabbitmq-website blog/2025-09-016-khepri-default/index.md@0acf2a4 L16-25; rabbit_feature_flags.erl@v4.2.9 L466-467"),
                Fact("From 4.2.6 `forget_cluster_node` removes the node's quorum queue and stream replicas before it leaves the cluster",
                     source: Src.notes("4.2.6.md", 27, 32)),
            ]),
    ]

    // MARK: Feature flags

    /// Every feature flag from 3.10.0 to 4.2.9, read from the `-rabbit_feature_flag(...)`
    /// attributes of rabbitmq/rabbitmq-server `deps/*/src/*.erl` at every tag. Plugin flags are
    /// listed by a node only while their plugin is enabled (rabbit_feature_flags.erl@v4.2.9
    /// L967-991). Descriptions and URLs are those of the first release defining the flag.
    public static let featureFlags: [FlagRule] = [
        FlagRule("classic_mirrored_queue_version",
                 introduced: RabbitMQVersion(3, 10, 0),
                 requiredFrom: RabbitMQVersion(3, 12, 0),
                 description: "Support setting version for classic mirrored queues",
                 source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_core_ff.erl@v3.10.0 L18-23: defined at v3.10.0 (and v3.9.0); stability => required from v3.12.0 (every tag read to v4.2.9)"),
        FlagRule("drop_unroutable_metric",
                 providedBy: "rabbitmq_management_agent",
                 introduced: RabbitMQVersion(3, 10, 0),
                 requiredFrom: RabbitMQVersion(3, 12, 0),
                 description: "Count unroutable publishes to be dropped in stats",
                 source: "rabbitmq/rabbitmq-server deps/rabbitmq_management_agent/src/rabbit_mgmt_ff.erl@v3.10.0 L16-20: defined at v3.10.0 (and v3.9.0); stability => required from v3.12.0 (every tag read to v4.2.9)"),
        FlagRule("empty_basic_get_metric",
                 providedBy: "rabbitmq_management_agent",
                 introduced: RabbitMQVersion(3, 10, 0),
                 requiredFrom: RabbitMQVersion(3, 12, 0),
                 description: "Count AMQP `basic.get` on empty queues in stats",
                 source: "rabbitmq/rabbitmq-server deps/rabbitmq_management_agent/src/rabbit_mgmt_ff.erl@v3.10.0 L10-14: defined at v3.10.0 (and v3.9.0); stability => required from v3.12.0 (every tag read to v4.2.9)"),
        FlagRule("implicit_default_bindings",
                 introduced: RabbitMQVersion(3, 10, 0),
                 requiredFrom: RabbitMQVersion(3, 11, 0),
                 description: "Default bindings are now implicit, instead of being stored in the database",
                 source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_core_ff.erl@v3.10.0 L42-48: defined at v3.10.0 (and v3.9.0); stability => required from v3.11.0 (every tag read to v4.2.9)"),
        FlagRule("maintenance_mode_status",
                 introduced: RabbitMQVersion(3, 10, 0),
                 requiredFrom: RabbitMQVersion(3, 11, 0),
                 description: "Maintenance mode status",
                 source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_core_ff.erl@v3.10.0 L57-62: defined at v3.10.0 (and v3.9.0); stability => required from v3.11.0 (every tag read to v4.2.9)"),
        FlagRule("quorum_queue",
                 introduced: RabbitMQVersion(3, 10, 0),
                 requiredFrom: RabbitMQVersion(3, 11, 0),
                 description: "Support queues of type `quorum`",
                 docURL: "https://www.rabbitmq.com/quorum-queues.html",
                 source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_core_ff.erl@v3.10.0 L25-31: defined at v3.10.0 (and v3.9.0); stability => required from v3.11.0 (every tag read to v4.2.9)"),
        FlagRule("stream_queue",
                 introduced: RabbitMQVersion(3, 10, 0),
                 requiredFrom: RabbitMQVersion(3, 12, 0),
                 description: "Support queues of type `stream`",
                 docURL: "https://www.rabbitmq.com/stream.html",
                 source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_core_ff.erl@v3.10.0 L33-40: defined at v3.10.0 (and v3.9.0); stability => required from v3.12.0 (every tag read to v4.2.9)"),
        FlagRule("user_limits",
                 introduced: RabbitMQVersion(3, 10, 0),
                 requiredFrom: RabbitMQVersion(3, 11, 0),
                 description: "Configure connection and channel limits for a user",
                 source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_core_ff.erl@v3.10.0 L64-69: defined at v3.10.0 (and v3.9.0); stability => required from v3.11.0 (every tag read to v4.2.9)"),
        FlagRule("virtual_host_metadata",
                 introduced: RabbitMQVersion(3, 10, 0),
                 requiredFrom: RabbitMQVersion(3, 11, 0),
                 description: "Virtual host metadata (description, tags, etc)",
                 source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_core_ff.erl@v3.10.0 L50-55: defined at v3.10.0 (and v3.9.0); stability => required from v3.11.0 (every tag read to v4.2.9)"),
        FlagRule("classic_queue_type_delivery_support",
                 introduced: RabbitMQVersion(3, 10, 9),
                 missingIn: [RabbitMQVersion(3, 11, 0)],
                 requiredFrom: RabbitMQVersion(3, 12, 0),
                 description: "Bug fix for classic queue deliveries using mixed versions",
                 docURL: "https://github.com/rabbitmq/rabbitmq-server/issues/5931",
                 source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_core_ff.erl@v3.10.9 L71-77: defined from v3.10.9, absent at v3.11.0; stability => required from v3.12.0 (every tag read to v4.2.9)"),
        FlagRule("direct_exchange_routing_v2",
                 introduced: RabbitMQVersion(3, 11, 0),
                 requiredFrom: RabbitMQVersion(3, 12, 0),
                 description: "v2 direct exchange routing implementation",
                 source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_core_ff.erl@v3.11.0 L76-82: defined from v3.11.0; stability => required from v3.12.0 (every tag read to v4.2.9)"),
        FlagRule("feature_flags_v2",
                 introduced: RabbitMQVersion(3, 11, 0),
                 requiredFrom: RabbitMQVersion(3, 12, 0),
                 description: "Feature flags subsystem V2",
                 source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_core_ff.erl@v3.11.0 L70-74: defined from v3.11.0; stability => required from v3.12.0 (every tag read to v4.2.9)"),
        FlagRule("listener_records_in_ets",
                 introduced: RabbitMQVersion(3, 11, 0),
                 requiredFrom: RabbitMQVersion(3, 12, 0),
                 description: "Store listener records in ETS instead of Mnesia",
                 source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_core_ff.erl@v3.11.0 L84-93: defined from v3.11.0; stability => required from v3.12.0 (every tag read to v4.2.9)"),
        FlagRule("stream_single_active_consumer",
                 introduced: RabbitMQVersion(3, 11, 0),
                 requiredFrom: RabbitMQVersion(3, 12, 0),
                 description: "Single active consumer for streams",
                 docURL: "https://www.rabbitmq.com/stream.html",
                 source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_core_ff.erl@v3.11.0 L62-68: defined from v3.11.0; stability => required from v3.12.0 (every tag read to v4.2.9)"),
        FlagRule("tracking_records_in_ets",
                 introduced: RabbitMQVersion(3, 11, 0),
                 requiredFrom: RabbitMQVersion(3, 12, 0),
                 description: "Store tracking records in ETS instead of Mnesia",
                 source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_core_ff.erl@v3.11.0 L95-104: defined from v3.11.0; stability => required from v3.12.0 (every tag read to v4.2.9)"),
        FlagRule("stream_sac_coordinator_unblock_group",
                 introduced: RabbitMQVersion(3, 11, 14),
                 requiredFrom: RabbitMQVersion(4, 0, 0),
                 description: "Bug fix to unblock a group of consumers in a super stream partition",
                 docURL: "https://github.com/rabbitmq/rabbitmq-server/issues/7743",
                 source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_core_ff.erl@v3.11.14 L114-120: defined from v3.11.14; stability => required from v4.0.0 (every tag read to v4.2.9)"),
        FlagRule("delete_ra_cluster_mqtt_node",
                 providedBy: "rabbitmq_mqtt",
                 introduced: RabbitMQVersion(3, 12, 0),
                 requiredFrom: RabbitMQVersion(4, 0, 0),
                 description: "Delete Ra cluster 'mqtt_node' since MQTT client IDs are tracked locally",
                 source: "rabbitmq/rabbitmq-server deps/rabbitmq_mqtt/src/rabbit_mqtt_ff.erl@v3.12.0 L20-25: defined from v3.12.0; stability => required from v4.0.0 (every tag read to v4.2.9)"),
        FlagRule("rabbit_mqtt_qos0_queue",
                 providedBy: "rabbitmq_mqtt",
                 introduced: RabbitMQVersion(3, 12, 0),
                 requiredFrom: RabbitMQVersion(4, 0, 0),
                 description: "Support pseudo queue type for MQTT QoS 0 subscribers omitting a queue process",
                 source: "rabbitmq/rabbitmq-server deps/rabbitmq_mqtt/src/rabbit_mqtt_ff.erl@v3.12.0 L14-18: defined from v3.12.0; stability => required from v4.0.0 (every tag read to v4.2.9)"),
        FlagRule("restart_streams",
                 introduced: RabbitMQVersion(3, 12, 0),
                 requiredFrom: RabbitMQVersion(4, 0, 0),
                 description: "Support for restarting streams with optional preferred next leader argument. Used to implement stream leader rebalancing",
                 source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_core_ff.erl@v3.12.0 L100-106: defined from v3.12.0; stability => required from v4.0.0 (every tag read to v4.2.9)"),
        FlagRule("detailed_queues_endpoint",
                 providedBy: "rabbitmq_management",
                 introduced: RabbitMQVersion(3, 13, 0),
                 requiredFrom: nil,
                 description: "Add a detailed queues HTTP API endpoint. Reduce number of metrics in the default endpoint.",
                 source: "rabbitmq/rabbitmq-server deps/rabbitmq_management/src/rabbit_mgmt_app.erl@v3.13.0 L29-34: defined from v3.13.0 (every tag read to v4.2.9)"),
        FlagRule("khepri_db",
                 introduced: RabbitMQVersion(3, 13, 0),
                 stableFrom: RabbitMQVersion(4, 2, 0),
                 requiredFrom: nil,
                 description: "Use the new Khepri Raft-based metadata store",
                 source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_core_ff.erl@v3.13.0 L130-150: defined from v3.13.0; stability => stable from v4.2.0 (every tag read to v4.2.9)"),
        FlagRule("message_containers",
                 introduced: RabbitMQVersion(3, 13, 0),
                 requiredFrom: RabbitMQVersion(4, 0, 0),
                 description: "Message containers.",
                 source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_core_ff.erl@v3.13.0 L123-128: defined from v3.13.0; stability => required from v4.0.0 (every tag read to v4.2.9)"),
        FlagRule("mqtt_v5",
                 providedBy: "rabbitmq_mqtt",
                 introduced: RabbitMQVersion(3, 13, 0),
                 requiredFrom: RabbitMQVersion(4, 0, 0),
                 description: "Support MQTT 5.0",
                 source: "rabbitmq/rabbitmq-server deps/rabbitmq_mqtt/src/rabbit_mqtt_ff.erl@v3.13.0 L40-49: defined from v3.13.0; stability => required from v4.0.0 (every tag read to v4.2.9)"),
        FlagRule("stream_filtering",
                 introduced: RabbitMQVersion(3, 13, 0),
                 requiredFrom: RabbitMQVersion(4, 0, 0),
                 description: "Support for stream filtering.",
                 source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_core_ff.erl@v3.13.0 L116-121: defined from v3.13.0; stability => required from v4.0.0 (every tag read to v4.2.9)"),
        FlagRule("stream_update_config_command",
                 introduced: RabbitMQVersion(3, 13, 0),
                 requiredFrom: RabbitMQVersion(4, 0, 0),
                 description: "A new internal command that is used to update streams as part of a policy.",
                 source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_core_ff.erl@v3.13.0 L152-158: defined from v3.13.0; stability => required from v4.0.0 (every tag read to v4.2.9)"),
        FlagRule("quorum_queue_non_voters",
                 introduced: RabbitMQVersion(3, 13, 1),
                 requiredFrom: nil,
                 description: "Allows new quorum queue members to be added as non voters initially.",
                 source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_core_ff.erl@v3.13.1 L160-166: defined from v3.13.1 (every tag read to v4.2.9)"),
        FlagRule("message_containers_deaths_v2",
                 introduced: RabbitMQVersion(3, 13, 3),
                 requiredFrom: nil,
                 description: "Bug fix for dead letter cycle detection",
                 docURL: "https://github.com/rabbitmq/rabbitmq-server/issues/11159",
                 source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_core_ff.erl@v3.13.3 L168-174: defined from v3.13.3 (every tag read to v4.2.9)"),
        FlagRule("rabbit_exchange_type_local_random",
                 introduced: RabbitMQVersion(4, 0, 0),
                 requiredFrom: nil,
                 description: "Local random exchange",
                 source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_exchange_type_local_random.erl@v4.0.0 L12-15: defined from v4.0.0 (every tag read to v4.2.9)"),
        FlagRule("rabbitmq_4.0.0",
                 introduced: RabbitMQVersion(4, 0, 0),
                 requiredFrom: nil,
                 description: "Allows rolling upgrades from 3.13.x to 4.0.x",
                 source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_core_ff.erl@v4.0.0 L183-188: defined from v4.0.0 (every tag read to v4.2.9)"),
        FlagRule("rabbitmq_4.1.0",
                 introduced: RabbitMQVersion(4, 1, 0),
                 requiredFrom: nil,
                 description: "Allows rolling upgrades to 4.1.x",
                 source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_core_ff.erl@v4.1.0 L209-214: defined from v4.1.0 (every tag read to v4.2.9)"),
        FlagRule("rabbitmq_4.2.0",
                 introduced: RabbitMQVersion(4, 2, 0),
                 requiredFrom: nil,
                 description: "Allows rolling upgrades to 4.2.x",
                 source: "rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_core_ff.erl@v4.2.0 L215-221: defined from v4.2.0 (every tag read to v4.2.9)"),
    ]
}

/// Where the table's facts were read.
private enum Src {
    static let upgrade = "https://www.rabbitmq.com/docs/upgrade: rabbitmq/rabbitmq-website docs/upgrade.md@0acf2a4"
    static let upgradeTable = upgrade + " L124-158"
    static let rollingUpgrade = "https://www.rabbitmq.com/docs/rolling-upgrade: rabbitmq/rabbitmq-website docs/rolling-upgrade.md@0acf2a4"
    static let metadataStore = "https://www.rabbitmq.com/docs/metadata-store: rabbitmq/rabbitmq-website docs/metadata-store/index.md@0acf2a4 L52-53 (Mnesia only until 3.13)"
    static let khepri313 = "; Khepri on 3.13 cannot go to 4.x in place: docs/upgrade.md@0acf2a4 L161-167, " + notes("4.0.1.md", 211, 216)
    static let khepriClustering = "https://www.rabbitmq.com/docs/metadata-store/clustering: rabbitmq/rabbitmq-website docs/metadata-store/clustering.md@0acf2a4 L76-131"

    static func whichErlang(_ from: Int, _ to: Int) -> String {
        "https://www.rabbitmq.com/docs/which-erlang: rabbitmq/rabbitmq-website docs/which-erlang.md@0acf2a4 L\(from)-\(to)"
    }

    static func notes(_ file: String, _ from: Int, _ to: Int) -> String {
        "https://github.com/rabbitmq/rabbitmq-server/blob/5b09e556da/release-notes/\(file)#L\(from)-L\(to)"
    }

    static func tags(_ series: String) -> String { "the newest v\(series).N tag of rabbitmq/rabbitmq-server (at 5b09e556da)" }

    static func cli(_ path: String, _ tag: String) -> String { "rabbitmq/rabbitmq-server deps/rabbitmq_cli/lib/rabbitmq/cli/\(path)@\(tag)" }
}
