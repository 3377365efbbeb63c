import Foundation

/// An asciicast v2 header (the first line of a `.cast` file).
public struct CastHeader: Codable, Equatable, Sendable {
    public var version: Int
    public var width: Int
    public var height: Int
    /// Unix time the recording started.
    public var timestamp: Int?
    public var title: String?
    public var env: [String: String]?
    /// Pauses longer than this were meant to be shortened on playback (asciinema's option).
    public var idleTimeLimit: Double?

    enum CodingKeys: String, CodingKey {
        case version, width, height, timestamp, title, env
        case idleTimeLimit = "idle_time_limit"
    }
}

/// One asciicast v2 event: `[time, type, data]`. Type `o` is output, `i` input (answers only, in
/// warren's recordings), `m` a marker, `r` a resize.
public struct CastEvent: Equatable, Sendable {
    /// Seconds since the start of the recording.
    public var time: Double
    public var type: String
    public var data: String

    public init(time: Double, type: String, data: String) {
        self.time = time
        self.type = type
        self.data = data
    }
}

/// A parsed recording.
public struct Cast: Equatable, Sendable {
    public var header: CastHeader
    public var events: [CastEvent]
    /// The last line was torn (the recorder crashed mid-write); the events before it are intact.
    public var truncated: Bool
    /// The 1-based line number of the torn line, when `truncated`.
    public var tornLine: Int?
    /// Bytes of the file up to the end of the last complete line (where an append continues).
    public var validByteCount: Int
}

/// A recording that could not be read: names the file and the line.
public struct CastError: Error, CustomStringConvertible, Equatable {
    public var path: String
    public var line: Int?
    public var reason: String

    public var description: String {
        if let line { return "\(path):\(line): \(reason)" }
        return "\(path): \(reason)"
    }
}

/// Reads and validates asciicast v2 files.
///
/// A torn last line (no final newline and not valid JSON: a crash mid-write) is tolerated and
/// reported with `truncated`; any other bad line is an error naming the line.
public enum CastReader {
    public static func read(_ path: String) throws -> Cast {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CastError(path: path, line: nil, reason: "cannot read the recording (missing or unreadable)")
        }
        return try parse(data, path: path)
    }

    public static func parse(_ data: Data, path: String) throws -> Cast {
        let bytes = [UInt8](data)
        guard !bytes.isEmpty else {
            throw CastError(path: path, line: nil, reason: "the recording is empty (no asciicast header)")
        }
        // Split on \n, keeping byte offsets so an append can cut a torn line off.
        var lines: [(start: Int, end: Int)] = []
        var s = 0
        for (i, b) in bytes.enumerated() where b == UInt8(ascii: "\n") {
            lines.append((s, i))
            s = i + 1
        }
        let endsWithNewline = s == bytes.count
        if !endsWithNewline { lines.append((s, bytes.count)) }

        let decoder = JSONDecoder()
        var header: CastHeader?
        var events: [CastEvent] = []
        var validBytes = 0
        var torn: Int?
        for (index, range) in lines.enumerated() {
            let number = index + 1
            let slice = bytes[range.start..<range.end]
            let isLast = index == lines.count - 1
            let isTorn = isLast && !endsWithNewline
            if slice.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0d }) {
                if !isTorn { validBytes = range.end + 1 }
                continue
            }
            do {
                if header == nil {
                    let h = try decoder.decode(CastHeader.self, from: Data(slice))
                    guard h.version == 2 else {
                        throw CastError(path: path, line: number, reason: "asciicast version \(h.version), expected 2")
                    }
                    guard h.width > 0, h.height > 0 else {
                        throw CastError(path: path, line: number, reason: "the header's width and height must be positive")
                    }
                    header = h
                } else {
                    let e = try decoder.decode(EventLine.self, from: Data(slice)).event
                    guard e.time >= 0, e.time.isFinite else {
                        throw CastError(path: path, line: number, reason: "negative or invalid event time \(e.time)")
                    }
                    events.append(e)
                }
                validBytes = isTorn ? range.end : range.end + 1
            } catch let error as CastError {
                throw error
            } catch {
                if isTorn && header != nil { torn = number; break }
                let what = header == nil ? "not an asciicast v2 header" : "not an asciicast event"
                throw CastError(path: path, line: number, reason: "\(what) (\(describe(error)))")
            }
        }
        guard let header else {
            throw CastError(path: path, line: nil, reason: "the recording has no asciicast header")
        }
        return Cast(header: header, events: events, truncated: torn != nil, tornLine: torn, validByteCount: validBytes)
    }

    private struct EventLine: Decodable {
        var event: CastEvent
        init(from decoder: Decoder) throws {
            var c = try decoder.unkeyedContainer()
            let time = try c.decode(Double.self)
            let type = try c.decode(String.self)
            let data = try c.decode(String.self)
            guard c.isAtEnd else {
                throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "more than 3 elements"))
            }
            guard ["o", "i", "m", "r"].contains(type) else {
                throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "unknown event type '\(type)'"))
            }
            event = CastEvent(time: time, type: type, data: data)
        }
    }

    private static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let ctx):
            if ctx.codingPath.isEmpty && !ctx.debugDescription.hasPrefix("The given data") { return ctx.debugDescription }
            return "invalid JSON"
        case DecodingError.keyNotFound(let key, _): return "missing '\(key.stringValue)'"
        case DecodingError.typeMismatch(_, let ctx), DecodingError.valueNotFound(_, let ctx):
            if let k = ctx.codingPath.last {
                return k.intValue.map { "wrong type of element \($0 + 1)" } ?? "wrong type of '\(k.stringValue)'"
            }
            return "expected [time, type, data]"
        default: return "invalid"
        }
    }
}
