import ArgumentParser
import Foundation

/// `--format text|json`: text for an operator, JSON with the keys each command's help documents
/// (snake_case; every documented key is always present, null where there is no value).
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json

    /// One JSON document, keys sorted, ending with a newline.
    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
    }
}

/// An optional written as null rather than left out: the documented keys are always there.
struct Nullable<T: Encodable>: Encodable {
    var value: T?
    init(_ value: T?) { self.value = value }
    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if let value { try c.encode(value) } else { try c.encodeNil() }
    }
}
