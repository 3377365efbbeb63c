import Cluster
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Calls `body` with each TCP address of host:port in turn until it returns a value.
func firstTCPAddress<T>(host: String, port: Int, _ body: (addrinfo) -> T?) -> T? {
    var hints = addrinfo()
    hints.ai_family = AF_UNSPEC
    #if canImport(Glibc)
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    #else
    hints.ai_socktype = SOCK_STREAM
    #endif
    var res: UnsafeMutablePointer<addrinfo>?
    guard getaddrinfo(host, String(port), &hints, &res) == 0, let first = res else { return nil }
    defer { freeaddrinfo(first) }
    var ai: UnsafeMutablePointer<addrinfo>? = first
    while let a = ai {
        ai = a.pointee.ai_next
        if let value = body(a.pointee) { return value }
    }
    return nil
}

/// Whether a TCP connection to host:port succeeds within `timeout` seconds.
func tcpReachable(host: String, port: Int, timeout: Double) -> Bool {
    firstTCPAddress(host: host, port: port) { a -> Bool? in
        let fd = socket(a.ai_family, a.ai_socktype, a.ai_protocol)
        if fd < 0 { return nil }
        defer { close(fd) }
        let flags = fcntl(fd, F_GETFL, 0)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        if connect(fd, a.ai_addr, a.ai_addrlen) == 0 { return true }
        guard errno == EINPROGRESS else { return nil }
        var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        guard poll(&pfd, 1, Int32(timeout * 1000)) == 1 else { return nil }
        var err: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
        return err == 0 ? true : nil
    } ?? false
}

/// Whether nothing listens on the loopback TCP port (so a node can bind it).
public func loopbackPortFree(_ port: Int) -> Bool {
    !tcpReachable(host: "127.0.0.1", port: port, timeout: 0.5) && !tcpReachable(host: "::1", port: port, timeout: 0.5)
}

/// Whether the host name resolves.
func hostResolves(_ host: String) -> Bool {
    var res: UnsafeMutablePointer<addrinfo>?
    guard getaddrinfo(host, nil, nil, &res) == 0 else { return false }
    freeaddrinfo(res)
    return true
}

/// MD5 (RFC 1321), for comparing Erlang cookie hashes (`erlang_cookie_hash` is base64(md5(cookie))).
func md5(_ message: [UInt8]) -> [UInt8] {
    let s: [UInt32] = [7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                       5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
                       4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                       6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21]
    let k: [UInt32] = (0..<64).map { UInt32(truncatingIfNeeded: Int64(abs(sin(Double($0 + 1))) * 4294967296.0)) }
    var a0: UInt32 = 0x67452301, b0: UInt32 = 0xefcdab89, c0: UInt32 = 0x98badcfe, d0: UInt32 = 0x10325476
    var msg = message
    let bitLength = UInt64(message.count) * 8
    msg.append(0x80)
    while msg.count % 64 != 56 { msg.append(0) }
    for i in 0..<8 { msg.append(UInt8((bitLength >> (8 * UInt64(i))) & 0xff)) }
    for chunk in stride(from: 0, to: msg.count, by: 64) {
        var m = [UInt32](repeating: 0, count: 16)
        for i in 0..<16 {
            let b = chunk + i * 4
            m[i] = UInt32(msg[b]) | UInt32(msg[b + 1]) << 8 | UInt32(msg[b + 2]) << 16 | UInt32(msg[b + 3]) << 24
        }
        var a = a0, b = b0, c = c0, d = d0
        for i in 0..<64 {
            var f: UInt32
            var g: Int
            switch i {
            case 0..<16: f = (b & c) | (~b & d); g = i
            case 16..<32: f = (d & b) | (~d & c); g = (5 * i + 1) % 16
            case 32..<48: f = b ^ c ^ d; g = (3 * i + 5) % 16
            default: f = c ^ (b | ~d); g = (7 * i) % 16
            }
            f = f &+ a &+ k[i] &+ m[g]
            a = d; d = c; c = b
            b = b &+ ((f << s[i]) | (f >> (32 - s[i])))
        }
        a0 = a0 &+ a; b0 = b0 &+ b; c0 = c0 &+ c; d0 = d0 &+ d
    }
    var out: [UInt8] = []
    for v in [a0, b0, c0, d0] { for i in 0..<4 { out.append(UInt8((v >> (8 * UInt32(i))) & 0xff)) } }
    return out
}

/// `rabbitmq-diagnostics erlang_cookie_hash`'s format for a cookie value.
func erlangCookieHash(_ cookie: String) -> String {
    Data(md5(Array(cookie.utf8))).base64EncodedString()
}

/// The node names registered with epmd on `host` (EPMD NAMES_REQ), or nil when epmd cannot be
/// reached. A node missing from the list has no running VM there.
func epmdNames(host: String, port: Int = 4369, timeout: Double = 1) -> Set<String>? {
    firstTCPAddress(host: host, port: port) { a -> Set<String>? in
        let fd = socket(a.ai_family, a.ai_socktype, a.ai_protocol)
        if fd < 0 { return nil }
        defer { close(fd) }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: .init((timeout - Double(Int(timeout))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, a.ai_addr, a.ai_addrlen) == 0 else { return nil }
        let request: [UInt8] = [0, 1, 110] // length 1, NAMES_REQ ('n')
        guard write(fd, request, 3) == 3 else { return nil }
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            data += buffer[0..<n]
        }
        guard data.count >= 4 else { return nil }
        let text = String(decoding: data[4...], as: UTF8.self)
        var names: Set<String> = []
        for line in text.split(separator: "\n") where line.hasPrefix("name ") {
            if let n = line.split(separator: " ").dropFirst().first { names.insert(String(n)) }
        }
        return names
    }
}
