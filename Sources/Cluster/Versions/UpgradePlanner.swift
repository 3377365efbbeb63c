/// One rolling upgrade: every node from `from` to `to`, one at a time.
public struct UpgradeHop: Sendable {
    public enum Kind: String, Sendable {
        /// Within a series (patches can be skipped).
        case patch
        /// To the next series on the documented path.
        case series
    }

    public var from: RabbitMQVersion
    public var to: RabbitMQVersion
    public var kind: Kind
    /// Every stable flag of `from`: all must be enabled before the hop.
    public var enableFirst: [String]
    /// Those of `enableFirst` that `to` requires of `rabbit`: a node of `to` refuses to boot
    /// while one is disabled, and only a downgrade lets it be enabled again.
    public var blockBoot: [String]
    /// The Erlang releases `to` runs on (unknown where the matrix does not list `to`).
    public var erlang: ErlangRange?
    /// Whether one Erlang release runs both `from` and `to` (false: Erlang changes with RabbitMQ
    /// on each node); nil when a range is unknown.
    public var erlangShared: Bool?
    /// What changes for operators on arrival in `to`'s series (series hops only).
    public var changes: [Fact<String>]
    /// Why this hop is allowed.
    public var source: String
}

/// The way from one release to another, hop by hop.
public struct UpgradePlan: Sendable {
    public var from: RabbitMQVersion
    public var to: RabbitMQVersion
    public var hops: [UpgradeHop]

    /// Whether a single rolling upgrade gets there.
    public var direct: Bool { hops.count <= 1 }
    /// Whether classic queue mirroring stops working on the way (4.0 removed it).
    public var removesMirroring: Bool {
        hops.contains { hop in
            ((try? VersionTable.rules(for: hop.from))?.procedures.classicMirroredQueues.value ?? false)
                && !((try? VersionTable.rules(for: hop.to))?.procedures.classicMirroredQueues.value ?? true)
        }
    }
}

/// An upgrade warren will not plan, with the reason and, where one exists, the way to take.
public enum UpgradePathError: Error, Equatable, CustomStringConvertible, Sendable {
    case downgrade(from: RabbitMQVersion, to: RabbitMQVersion, source: String)
    /// No single rolling upgrade; `path` is the way through the intermediate releases.
    case noDirectPath(from: RabbitMQVersion, to: RabbitMQVersion, reason: String, path: [RabbitMQVersion])
    /// The cluster's metadata store cannot take this path (3.13 on Khepri to 4.x).
    case metadataStore(MetadataStore, from: ReleaseSeries, to: RabbitMQVersion, source: String)
    /// No running node reported its version.
    case noVersions

    public var description: String {
        switch self {
        case .downgrade(let from, let to, let source):
            return "\(to) is older than \(from): RabbitMQ does not support downgrades (\(source)); nothing is planned"
        case .noDirectPath(let from, let to, let reason, let path):
            let via = path.dropLast().map { "\($0.series).x" }.joined(separator: ", then ")
            return "there is no single rolling upgrade from \(from) to \(to): \(reason). Go through \(via): "
                + ([from] + path).map(\.description).joined(separator: " -> ")
                + ", enabling every stable feature flag after each (`warren upgrade-plan --from \(from) --to \(to)`)"
        case .metadataStore(let store, let from, let to, let source):
            return "the cluster runs \(from) on \(store == .khepri ? "Khepri (khepri_db enabled)" : "Mnesia"), which cannot be upgraded in place to \(to) (\(source)); "
                + "migrate it with a blue/green deployment (https://www.rabbitmq.com/docs/blue-green-upgrade). Nothing is planned"
        case .noVersions:
            return "no running node reported its RabbitMQ version (are they all stopped?); nothing is planned"
        }
    }
}

/// Plans upgrades from the version table: which hops, and before each the flags to enable, the
/// Erlang to run and what changes.
public enum UpgradePlanner {
    /// The hops from `from` to `to`: patches of one series in one hop; otherwise one hop per
    /// series on the documented path (the shortest), each to the newest patch of its series
    /// (``VersionTable/newestPatchOfEachSeries``) except the last; a first patch hop when `from`
    /// is older than the next series accepts (3.11 before 3.11.18).
    /// - Throws: ``VersionError`` for a release the table does not know,
    ///   ``UpgradePathError/downgrade(from:to:source:)`` for an older `to`.
    public static func plan(from: RabbitMQVersion, to: RabbitMQVersion) throws -> UpgradePlan {
        let start = try VersionTable.rules(for: from)
        let end = try VersionTable.rules(for: to)
        if to < from { throw UpgradePathError.downgrade(from: from, to: to, source: VersionTable.noDowngrades.source) }
        if to == from { return UpgradePlan(from: from, to: to, hops: []) }
        if start.series == end.series {
            return UpgradePlan(from: from, to: to, hops: [try makeHop(from, to, source: VersionTable.noSkippingSeries.source)])
        }
        guard let chain = seriesPath(from: start.series, to: end.series) else {
            throw UpgradePathError.noDirectPath(from: from, to: to, reason: "no documented upgrade path leads from \(start.series) to \(end.series)", path: [])
        }
        var hops: [UpgradeHop] = []
        var at = from
        for (i, series) in chain.dropFirst().enumerated() {
            let leaving = try VersionTable.rules(for: at)
            let edge = leaving.upgradesTo.first { $0.to == series }!
            if at.patch < edge.minimumPatch {
                let newest = VersionTable.newestPatch(of: leaving)
                hops.append(try makeHop(at, newest, source: edge.source))
                at = newest
            }
            let next = i == chain.count - 2 ? to : VersionTable.newestPatch(of: VersionTable.rules(for: series)!)
            hops.append(try makeHop(at, next, source: edge.source))
            at = next
        }
        return UpgradePlan(from: from, to: to, hops: hops)
    }

    /// One rolling upgrade from `from` to `to` (what one run of an upgrade procedure does).
    /// - Throws: what ``plan(from:to:)`` throws, and ``UpgradePathError/noDirectPath(from:to:reason:path:)``
    ///   naming the releases to go through when one rolling upgrade does not get there.
    public static func hop(from: RabbitMQVersion, to: RabbitMQVersion) throws -> UpgradeHop {
        let p = try plan(from: from, to: to)
        if p.hops.count == 1 { return p.hops[0] }
        guard !p.hops.isEmpty else { throw UpgradePathError.noDirectPath(from: from, to: to, reason: "the cluster already runs \(to)", path: []) }
        let sources = VersionTable.series.filter { $0.upgradesTo.contains { $0.to == to.series } }
        let reason: String
        if let edge = sources.first(where: { $0.series == from.series })?.upgradesTo.first(where: { $0.to == to.series }) {
            reason = "RabbitMQ \(to.series) accepts rolling upgrades from \(from.series).\(edge.minimumPatch) on (\(edge.source))"
        } else {
            let accepted = sources.map { "\($0.series).x" }.joined(separator: ", ")
            reason = "RabbitMQ \(to.series) accepts rolling upgrades from \(accepted) only (\(sources.first?.upgradesTo.first?.source ?? VersionTable.noSkippingSeries.source))"
        }
        throw UpgradePathError.noDirectPath(from: from, to: to, reason: reason, path: p.hops.map(\.to))
    }

    /// The shortest chain of series from `a` to `b` along the documented upgrade edges.
    static func seriesPath(from a: ReleaseSeries, to b: ReleaseSeries) -> [ReleaseSeries]? {
        var previous: [ReleaseSeries: ReleaseSeries] = [:]
        var queue = [a]
        var seen: Set<ReleaseSeries> = [a]
        while !queue.isEmpty {
            let s = queue.removeFirst()
            if s == b {
                var path = [b]
                while let p = previous[path[0]] { path.insert(p, at: 0) }
                return path
            }
            for edge in VersionTable.rules(for: s)?.upgradesTo ?? [] where !seen.contains(edge.to) {
                seen.insert(edge.to)
                previous[edge.to] = s
                queue.append(edge.to)
            }
        }
        return nil
    }

    static func makeHop(_ from: RabbitMQVersion, _ to: RabbitMQVersion, source: String) throws -> UpgradeHop {
        let leaving = try VersionTable.rules(for: from)
        let arriving = try VersionTable.rules(for: to)
        let stable = VersionTable.flags(at: from).filter { $0.stability == .stable }.map(\.rule)
        let fromErlang = leaving.erlang(from.patch), toErlang = arriving.erlang(to.patch)
        var shared: Bool?
        if let f = fromErlang, let t = toErlang, let fMin = f.min, let tMin = t.min {
            // Two ranges overlap when one starts inside the other.
            shared = (t.contains(fMin) ?? false) || (f.contains(tMin) ?? false)
        }
        let series = from.series != to.series
        return UpgradeHop(from: from, to: to, kind: series ? .series : .patch,
                          enableFirst: stable.map(\.name).sorted(),
                          blockBoot: stable.filter { VersionTable.blocksBoot($0, of: to) }.map(\.name).sorted(),
                          erlang: toErlang, erlangShared: shared, changes: series ? arriving.changes : [], source: source)
    }
}
