import Cluster

/// What the simulator takes from the version table for one release: the feature flags its nodes
/// list, which of them a boot needs, the Erlang it runs on and how its procedures differ.
struct ReleaseFacts {
    let version: RabbitMQVersion
    let rules: SeriesRules
    /// The flags a node lists (rabbit's and the management plugin's: the simulated nodes run the
    /// management plugin, not MQTT), with their stability in this release.
    let flags: [String: FeatureFlagStability]
    /// The flags a new cluster of the release enables: the stable and required ones
    /// (rabbit_ff_controller.erl@v4.0.5 L578-598, `enable_default_task`: "all stable feature
    /// flags will be enabled by default"; experimental ones stay disabled).
    let newClusterFlags: [String]
    /// Required flags of `rabbit`: a node of this release whose flag is disabled fails to boot
    /// (``VersionTable/blocksBoot(_:of:)``).
    let bootBlocking: [String]
    /// Required flags of plugins, which a boot marks enabled (3.12+,
    /// ``VersionTable/pluginRequiredFlagsEnabledAtBoot``).
    let enabledAtBoot: [String]
    let erlang: ErlangRange?

    /// The facts of a release the table knows; nil for any other text.
    static func make(_ text: String) -> ReleaseFacts? {
        guard let v = try? RabbitMQVersion(parsing: text), let rules = try? VersionTable.rules(for: v) else { return nil }
        let listed = VersionTable.newClusterFlags(at: v)
        var stability: [String: FeatureFlagStability] = [:]
        for f in listed { stability[f.name] = f.stability }
        let required = VersionTable.flags(at: v).filter { $0.stability == .required && stability[$0.rule.name] != nil }.map(\.rule)
        return ReleaseFacts(version: v, rules: rules, flags: stability,
                            newClusterFlags: listed.filter { $0.state == .enabled }.map(\.name),
                            bootBlocking: required.filter { VersionTable.blocksBoot($0, of: v) }.map(\.name),
                            enabledAtBoot: required.filter { !VersionTable.blocksBoot($0, of: v) && v >= VersionTable.pluginRequiredFlagsEnabledAtBoot.value }.map(\.name),
                            erlang: rules.erlang(v.patch))
    }

    var procedures: ProcedureRules { rules.procedures }
    func has(_ command: VersionedCommand) -> Bool { rules.has(command, patch: version.patch) }
}

extension Simulator {
    /// The release a simulated cluster runs unless told otherwise: Debian bookworm's, the one
    /// warren's real-cluster tests run.
    public static let defaultVersion = RabbitMQVersion(3, 10, 8)

    /// The release `--sim-version` (or a drill's `version`) names.
    /// - Throws: ``VersionError`` for text that is not a release, or one the table does not know.
    public static func release(_ text: String) throws -> RabbitMQVersion {
        let v = try RabbitMQVersion(parsing: text)
        _ = try VersionTable.rules(for: v)
        return v
    }

    /// The Erlang a new simulated node of a release runs: 25.2.1 for 3.10.8 (as before releases
    /// were modelled); otherwise the newest Erlang the compatibility matrix lists for the release
    /// (its `max`, `27.x` read as 27.0), so that it also runs the next series on the upgrade path
    /// where the matrix allows (3.12.13 -> 3.13.7 on 26.2). Where the matrix does not list the
    /// patch (3.12.14, 4.0.0: UNVERIFIED), the nearest listed patch of the series decides.
    public static func erlang(for v: RabbitMQVersion) -> String {
        if v == defaultVersion { return "25.2.1" }
        guard let rules = try? VersionTable.rules(for: v) else { return "25.2.1" }
        let known = rules.erlang.filter(\.known)
        let range = rules.erlang(v.patch) ?? known.min { a, b in
            let da = a.patches.map { abs($0.lowerBound - v.patch) }.min() ?? 99
            let db = b.patches.map { abs($0.lowerBound - v.patch) }.min() ?? 99
            return da < db
        }
        guard let max = range?.max else { return "25.2.1" }
        var parts = max.split(separator: ".").filter { $0 != "x" }.map(String.init)
        if parts.count == 1 { parts.append("0") }
        return parts.joined(separator: ".")
    }

    /// The facts of node i's release (nil: a release the table does not know, set by a test).
    func facts(_ i: Int) -> ReleaseFacts? {
        let v = s.nodes[i].rabbitmq
        if let f = factsCache[v] { return f }
        guard let f = ReleaseFacts.make(v) else { return nil }
        factsCache[v] = f
        return f
    }

    /// Whether the cluster node i belongs to can change its Khepri metadata: a majority of its
    /// members run (node i counts while its VM runs: its Khepri member is up even with the app
    /// stopped). docs/metadata-store/clustering.md@0acf2a4 L80-110 (rabbitmq-website).
    func khepriMajority(_ i: Int) -> Bool {
        let members = s.nodes[i].view
        let up = indices(members).filter { $0 == i ? s.nodes[i].vm : (appRunning($0) && reach(i, $0)) }.count
        return up * 2 > members.nonzeroBitCount
    }

    /// The CLI's words when Khepri cannot reach a majority (rabbitmq_cli default_output.ex@v4.0.5
    /// `khepri_timeout_error`, exit 75; docs/metadata-store/clustering.md@0acf2a4 L112-131).
    func khepriMinority(_ i: Int) -> ClusterError {
        ClusterError(.timeout, "Khepri has timed out on node \(name(i)).\nKhepri cluster could be in minority.", node: name(i))
    }

    /// Why node i cannot boot on its release, if it cannot: an Erlang the release does not run on
    /// (release notes 3.11.0 L68-71 and 3.13.0 L92-95: "nodes will fail to start"), or a required
    /// flag of `rabbit` disabled (rabbit_ff_registry_factory.erl@v4.2.9 L261-298: the node logs
    /// "required feature flag not enabled! It must be enabled before upgrading RabbitMQ" and stops
    /// with failed_to_initialize_feature_flags_registry). Required flags of plugins are marked
    /// enabled instead (3.12+).
    func bootRefusal(_ i: Int) -> String? {
        guard let f = facts(i) else { return nil }
        if let range = f.erlang, range.contains(s.nodes[i].erlang) == false {
            return "RabbitMQ \(f.version) does not run on Erlang \(s.nodes[i].erlang) (it runs on \(ErlangRange.text(range)))"
        }
        if let missing = f.bootBlocking.first(where: { !s.nodes[i].flags.contains($0) }) {
            return "Feature flags: `\(missing)`: required feature flag not enabled! It must be enabled before upgrading RabbitMQ. "
                + "Error during startup: {error,failed_to_initialize_feature_flags_registry} (RabbitMQ \(f.version) requires it; "
                + "only the previous release can enable it now)"
        }
        let missingPluginFlags = f.enabledAtBoot.filter { !s.nodes[i].flags.contains($0) }
        if !missingPluginFlags.isEmpty { s.nodes[i].setFlags(s.nodes[i].flags + missingPluginFlags) }
        return nil
    }

    /// Installs a release on a stopped node (the inventory's `upgrade:` command): it runs it from
    /// its next start, with its feature flags as they were (the new release's flags are disabled
    /// until enabled) and its Erlang.
    public func upgrade(_ node: String, to version: RabbitMQVersion) throws {
        let i = try index(node)
        do {
            _ = try VersionTable.rules(for: version)
        } catch let e as VersionError {
            throw ClusterError(.usage, "cannot install RabbitMQ \(version) on \(name(i)): \(e)", node: name(i))
        }
        if s.nodes[i].vm {
            throw ClusterError(.usage, "\(name(i)) is running: stop it before installing another release on it (nothing was installed)", node: name(i))
        }
        let old = s.nodes[i].rabbitmq
        spend(5000, 20000)
        if s.nodes[i].failNextUpgrade {
            s.nodes[i].failNextUpgrade = false
            log(i, "upgrade to \(version) failed; RabbitMQ \(old) is still installed")
            throw ClusterError(.unavailable, "the upgrade command of \(name(i)) failed (exit 100): RabbitMQ \(version) was not installed; \(old) still is", node: name(i))
        }
        s.nodes[i].rabbitmq = version.description
        log(i, old == version.description ? "RabbitMQ \(old) reinstalled" : "upgraded: RabbitMQ \(old) -> \(version)")
        afterChange()
    }

    public func failNextUpgrade(_ node: String) throws {
        let i = try index(node)
        s.nodes[i].failNextUpgrade = true
        log(i, "fault: next upgrade command fails")
    }
}
