import CZlib

/// A PNG decoded to packed RGB: enough for the browser's screenshots (8-bit, not interlaced),
/// so a test can count the pixels of a colour in a rectangle. Foundation on Linux decodes no
/// images, and zlib inflates the data.
struct PNGImage {
    let width: Int
    let height: Int
    /// `width * height * 3` bytes, row by row.
    let rgb: [UInt8]

    struct DecodeError: Error, CustomStringConvertible {
        var description: String
    }

    init(png data: [UInt8]) throws {
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        guard data.count > 8, Array(data[0..<8]) == signature else { throw DecodeError(description: "not a PNG") }
        func be32(_ i: Int) -> Int { Int(data[i]) << 24 | Int(data[i + 1]) << 16 | Int(data[i + 2]) << 8 | Int(data[i + 3]) }
        var pos = 8, w = 0, h = 0, colorType = -1
        var compressed: [UInt8] = [], palette: [UInt8] = []
        chunks: while pos + 8 <= data.count {
            let length = be32(pos)
            let type = String(decoding: data[(pos + 4)..<(pos + 8)], as: UTF8.self)
            let body = (pos + 8)..<(pos + 8 + length)
            guard body.upperBound <= data.count else { throw DecodeError(description: "a chunk runs past the end") }
            switch type {
            case "IHDR":
                w = be32(body.lowerBound)
                h = be32(body.lowerBound + 4)
                colorType = Int(data[body.lowerBound + 9])
                guard data[body.lowerBound + 8] == 8, data[body.lowerBound + 12] == 0 else {
                    throw DecodeError(description: "only 8-bit, non-interlaced images are read")
                }
            case "PLTE": palette = Array(data[body])
            case "IDAT": compressed += data[body]
            case "IEND": break chunks
            default: break
            }
            pos = body.upperBound + 4  // the CRC
        }
        let channels = [0: 1, 2: 3, 3: 1, 4: 2, 6: 4]
        guard let bpp = channels[colorType] else { throw DecodeError(description: "colour type \(colorType)") }
        let rowBytes = w * bpp
        // IHDR gives the inflated size: one uncompress() call does.
        var raw = [UInt8](repeating: 0, count: h * (rowBytes + 1))
        var rawLength = uLongf(raw.count)
        let rc = raw.withUnsafeMutableBufferPointer { out in
            compressed.withUnsafeBufferPointer { uncompress(out.baseAddress, &rawLength, $0.baseAddress, uLong($0.count)) }
        }
        guard rc == Z_OK, Int(rawLength) == raw.count else { throw DecodeError(description: "zlib error \(rc)") }
        var pixels = [UInt8](repeating: 0, count: h * rowBytes)
        for y in 0..<h {
            let filter = raw[y * (rowBytes + 1)], src = y * (rowBytes + 1) + 1, dst = y * rowBytes
            for i in 0..<rowBytes {
                let a = i >= bpp ? Int(pixels[dst + i - bpp]) : 0
                let b = y > 0 ? Int(pixels[dst - rowBytes + i]) : 0
                let c = i >= bpp && y > 0 ? Int(pixels[dst - rowBytes + i - bpp]) : 0
                let predicted: Int
                switch filter {
                case 0: predicted = 0
                case 1: predicted = a
                case 2: predicted = b
                case 3: predicted = (a + b) >> 1
                case 4:
                    let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predicted = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
                default: throw DecodeError(description: "filter \(filter) in row \(y)")
                }
                pixels[dst + i] = UInt8(truncatingIfNeeded: Int(raw[src + i]) + predicted)
            }
        }
        var out = [UInt8]()
        out.reserveCapacity(w * h * 3)
        for p in stride(from: 0, to: pixels.count, by: bpp) {
            switch colorType {
            case 2, 6: out += pixels[p..<(p + 3)]
            case 0, 4: out += [pixels[p], pixels[p], pixels[p]]
            default:
                let k = Int(pixels[p]) * 3
                guard k + 2 < palette.count else { throw DecodeError(description: "palette index out of range") }
                out += palette[k..<(k + 3)]
            }
        }
        width = w
        height = h
        rgb = out
    }

    /// How many pixels of the rectangle (clipped to the image) are within `tolerance` of `color`
    /// (`0xRRGGBB`) in every channel, and how many it has.
    func count(x: Int, y: Int, w: Int, h: Int, color: UInt32, tolerance: Int = 2) -> (hits: Int, total: Int) {
        let x0 = max(0, x), y0 = max(0, y), x1 = min(width, x + w), y1 = min(height, y + h)
        guard x1 > x0, y1 > y0 else { return (0, 0) }
        let r = Int(color >> 16 & 0xFF), g = Int(color >> 8 & 0xFF), b = Int(color & 0xFF)
        var hits = 0
        for row in y0..<y1 {
            var i = (row * width + x0) * 3
            for _ in x0..<x1 {
                if abs(Int(rgb[i]) - r) <= tolerance && abs(Int(rgb[i + 1]) - g) <= tolerance && abs(Int(rgb[i + 2]) - b) <= tolerance {
                    hits += 1
                }
                i += 3
            }
        }
        return (hits, (x1 - x0) * (y1 - y0))
    }
}
