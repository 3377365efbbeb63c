/// A policy as `GET /api/policies` and `rabbitmqctl list_policies` list it; only what warren
/// reads of its definition: the keys it sets.
public struct Policy: Codable, Equatable, Sendable {
    public var vhost: String
    public var name: String
    public var pattern: String
    public var applyTo: String
    /// The keys of its definition (`ha-mode`, `max-length`...).
    public var keys: [String]

    public init(vhost: String, name: String, pattern: String, applyTo: String, keys: [String]) {
        self.vhost = vhost
        self.name = name
        self.pattern = pattern
        self.applyTo = applyTo
        self.keys = keys
    }

    /// The classic queue mirroring keys it sets (`ha-mode`, `ha-params`, `ha-sync-mode`...):
    /// none of them has any effect from 4.0 on.
    public var mirroringKeys: [String] { keys.filter { $0.hasPrefix("ha-") }.sorted() }
}
