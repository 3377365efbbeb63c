/// A RabbitMQ release, `MAJOR.MINOR.PATCH` as nodes report it (`rabbitmq_version` of
/// `cluster_status`, e.g. `3.10.8`). Ordered by its three numbers; encoded as its text.
public struct RabbitMQVersion: Comparable, Hashable, Codable, Sendable, CustomStringConvertible {
    public let major: Int
    public let minor: Int
    public let patch: Int

    public init(_ major: Int, _ minor: Int, _ patch: Int) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    /// Parses `3.10.8`. Anything else (a package revision such as `3.10.8-1`, a series `3.10`,
    /// a pre-release, garbage) is refused: the table's facts hold for releases only.
    /// - Throws: ``VersionError/malformed(_:)``.
    public init(parsing text: String) throws {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let numbers = parts.map { p in p.allSatisfy(\.isASCII) && !p.isEmpty && p.count <= 4 ? Int(p) : nil }
        guard numbers.count == 3, let major = numbers[0], let minor = numbers[1], let patch = numbers[2] else {
            throw VersionError.malformed(text)
        }
        self.init(major, minor, patch)
    }

    /// The release series, `3.10` of `3.10.8`.
    public var series: ReleaseSeries { ReleaseSeries(major, minor) }

    public var description: String { "\(major).\(minor).\(patch)" }

    public static func < (a: RabbitMQVersion, b: RabbitMQVersion) -> Bool {
        (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch)
    }

    public init(from decoder: Decoder) throws {
        self = try RabbitMQVersion(parsing: decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// A release series, `3.10`: the unit the upgrade rules speak of (patches of a series share them).
public struct ReleaseSeries: Comparable, Hashable, Sendable, CustomStringConvertible {
    public let major: Int
    public let minor: Int

    public init(_ major: Int, _ minor: Int) {
        self.major = major
        self.minor = minor
    }

    /// The series' release `.patch`.
    public func patch(_ patch: Int) -> RabbitMQVersion { RabbitMQVersion(major, minor, patch) }

    public var description: String { "\(major).\(minor)" }

    public static func < (a: ReleaseSeries, b: ReleaseSeries) -> Bool { (a.major, a.minor) < (b.major, b.minor) }
}

/// A version warren cannot work with: every message says what was given and what is accepted.
public enum VersionError: Error, Equatable, CustomStringConvertible, Sendable {
    /// Not `MAJOR.MINOR.PATCH`.
    case malformed(String)
    /// A release the version table does not describe (a series it does not cover, or a patch
    /// newer than the newest it knows); `known` names what it covers.
    case unknown(RabbitMQVersion, known: String)
    /// A node reports a version that cannot be used; `problem` is one of the cases above.
    indirect case reportedByNode(String, VersionError)

    public var description: String {
        switch self {
        case .malformed(let text):
            return "'\(text)' is not a RabbitMQ version: expected MAJOR.MINOR.PATCH, such as 3.10.8"
        case .unknown(let v, let known):
            return "RabbitMQ \(v) is not in warren's version table (it knows \(known)); nothing is known of its upgrade rules, so nothing is planned"
        case .reportedByNode(let node, let problem):
            return "\(node) reports a version warren cannot plan with: \(problem)"
        }
    }
}
