import Cluster
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One resolved TCP address (a copy of what `getaddrinfo` returned).
struct TCPAddress: Sendable {
    var family: Int32
    var socktype: Int32
    var proto: Int32
    var address: [UInt8]
}

/// Host names resolved with a time box, and remembered: a name server that does not answer makes
/// `getaddrinfo` block for 20 s or more per name (two tries of 5 s, for each address family),
/// and a down cluster would otherwise pay that on every probe. An answer is kept 60 s, a failure
/// 10 s. Lookups of several hosts run side by side.
final class Resolver: @unchecked Sendable {
    static let shared = Resolver()
    /// How long one lookup may take before the host counts as not resolving.
    static let timeout = 3.0

    private struct Entry {
        var addresses: [TCPAddress]?
        var at: Double
    }
    private let lock = NSLock()
    private var cache: [String: Entry] = [:]
    private var pending: [String: DispatchGroup] = [:]

    /// The host's TCP addresses, or nil when it does not resolve within ``timeout``.
    func addresses(_ host: String) -> [TCPAddress]? {
        switch start(host) {
        case .known(let a): return a
        case .pending(let group): return finish(host, group, deadline: .now() + Resolver.timeout)
        }
    }

    /// Resolves several hosts side by side (at most ``timeout`` in all).
    func warm(_ hosts: [String]) {
        let deadline = DispatchTime.now() + Resolver.timeout
        for host in Set(hosts) {
            if case .pending(let group) = start(host) { _ = finish(host, group, deadline: deadline) }
        }
    }

    private enum Lookup {
        case known([TCPAddress]?)
        case pending(DispatchGroup)
    }

    /// The remembered answer, or the lookup under way (started here if none is).
    private func start(_ host: String) -> Lookup {
        lock.lock()
        defer { lock.unlock() }
        if let e = cache[host], monotonicSeconds() - e.at < (e.addresses == nil ? 10 : 60) { return .known(e.addresses) }
        if let g = pending[host] { return .pending(g) }
        let group = DispatchGroup()
        group.enter()
        pending[host] = group
        // A thread of its own: a lookup that outlives the time box finishes there and is
        // remembered; nobody waits for it.
        Thread.detachNewThread { [self] in
            let found = Resolver.lookup(host)
            lock.lock()
            cache[host] = Entry(addresses: found, at: monotonicSeconds())
            pending[host] = nil
            lock.unlock()
            group.leave()
        }
        return .pending(group)
    }

    private func finish(_ host: String, _ group: DispatchGroup, deadline: DispatchTime) -> [TCPAddress]? {
        let timedOut = group.wait(timeout: deadline) == .timedOut
        lock.lock()
        defer { lock.unlock() }
        if timedOut {
            // Until the lookup ends (and replaces this), the host counts as not resolving.
            cache[host] = Entry(addresses: nil, at: monotonicSeconds())
            return nil
        }
        return cache[host]?.addresses
    }

    private static func lookup(_ host: String) -> [TCPAddress]? {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var res: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &res) == 0, let first = res else { return nil }
        defer { freeaddrinfo(first) }
        var out: [TCPAddress] = []
        var ai: UnsafeMutablePointer<addrinfo>? = first
        while let a = ai {
            ai = a.pointee.ai_next
            guard let sa = a.pointee.ai_addr else { continue }
            let bytes = Array(UnsafeRawBufferPointer(start: sa, count: Int(a.pointee.ai_addrlen)))
            out.append(TCPAddress(family: a.pointee.ai_family, socktype: a.pointee.ai_socktype, proto: a.pointee.ai_protocol, address: bytes))
        }
        return out.isEmpty ? nil : out
    }
}

/// A socket connected to host:port within `timeout` seconds (each resolved address in turn), or
/// nil. The caller closes it.
func connectTCP(host: String, port: Int, timeout: Double) -> Int32? {
    guard let addresses = Resolver.shared.addresses(host) else { return nil }
    for a in addresses {
        let fd = socket(a.family, a.socktype, a.proto)
        if fd < 0 { continue }
        var sa = a.address
        // The port: the same offset in sockaddr_in and sockaddr_in6, in network order.
        sa[2] = UInt8((port >> 8) & 0xff)
        sa[3] = UInt8(port & 0xff)
        let flags = fcntl(fd, F_GETFL, 0)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        let started = sa.withUnsafeBytes { connect(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(sa.count)) }
        var connected = started == 0
        if !connected && errno == EINPROGRESS {
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            if poll(&pfd, 1, Int32(timeout * 1000)) == 1 {
                var err: Int32 = 0
                var len = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
                connected = err == 0
            }
        }
        if connected {
            _ = fcntl(fd, F_SETFL, flags)
            return fd
        }
        close(fd)
    }
    return nil
}

/// Whether a TCP connection to host:port succeeds within `timeout` seconds.
func tcpReachable(host: String, port: Int, timeout: Double) -> Bool {
    guard let fd = connectTCP(host: host, port: port, timeout: timeout) else { return false }
    close(fd)
    return true
}

/// Whether nothing listens on the loopback TCP port (so a node can bind it).
public func loopbackPortFree(_ port: Int) -> Bool {
    !tcpReachable(host: "127.0.0.1", port: port, timeout: 0.5) && !tcpReachable(host: "::1", port: port, timeout: 0.5)
}

/// Whether the host name resolves (within ``Resolver/timeout``).
func hostResolves(_ host: String) -> Bool { Resolver.shared.addresses(host) != nil }

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

/// What epmd on a host answered.
enum EpmdAnswer: Equatable {
    /// The names of the nodes registered there (a VM is up for each).
    case names(Set<String>)
    /// The host does not resolve.
    case unresolved
    /// Nothing listens on the epmd port (the host is up, no Erlang VM runs there), or epmd
    /// closed the connection without an answer.
    case refused
    /// No answer within the time box: the host is down, or a firewall drops the packets.
    case silent
}

/// Asks epmd on `host` for its node names (EPMD NAMES_REQ), time-boxed.
func epmd(host: String, port: Int = 4369, timeout: Double = 1) -> EpmdAnswer {
    guard let addresses = Resolver.shared.addresses(host) else { return .unresolved }
    var silent = false
    for a in addresses {
        let fd = socket(a.family, a.socktype, a.proto)
        if fd < 0 { continue }
        defer { close(fd) }
        var sa = a.address
        sa[2] = UInt8((port >> 8) & 0xff)
        sa[3] = UInt8(port & 0xff)
        let flags = fcntl(fd, F_GETFL, 0)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        let started = sa.withUnsafeBytes { connect(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(sa.count)) }
        if started != 0 {
            guard errno == EINPROGRESS else { continue }
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            guard poll(&pfd, 1, Int32(timeout * 1000)) == 1 else {
                silent = true
                continue
            }
            var err: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
            if err != 0 {
                if err == EHOSTUNREACH || err == ENETUNREACH || err == ETIMEDOUT { silent = true }
                continue
            }
        }
        _ = fcntl(fd, F_SETFL, flags)
        var tv = timeval(tv_sec: Int(timeout), tv_usec: .init((timeout - Double(Int(timeout))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let request: [UInt8] = [0, 1, 110] // length 1, NAMES_REQ ('n')
        guard write(fd, request, 3) == 3 else { continue }
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            data += buffer[0..<n]
        }
        guard data.count >= 4 else { continue }
        let text = String(decoding: data[4...], as: UTF8.self)
        var names: Set<String> = []
        for line in text.split(separator: "\n") where line.hasPrefix("name ") {
            if let n = line.split(separator: " ").dropFirst().first { names.insert(String(n)) }
        }
        return .names(names)
    }
    return silent ? .silent : .refused
}

/// The last epmd answer for each host, kept five seconds: a read that tries several nodes, or
/// a CLI call right after a probe, does not wait on a silent host twice.
final class Reachability: @unchecked Sendable {
    static let keep = 5.0
    private let lock = NSLock()
    private var answers: [String: (answer: EpmdAnswer, at: Double)] = [:]

    func note(_ host: String, _ answer: EpmdAnswer) {
        lock.lock()
        answers[host] = (answer, monotonicSeconds())
        lock.unlock()
    }

    /// The host's recent answer if it was silence or no name: what a probe now would most
    /// likely repeat after waiting out its time box.
    func recentSilence(_ host: String) -> EpmdAnswer? {
        let a = recent(host)
        return a == .silent || a == .unresolved ? a : nil
    }

    func recent(_ host: String) -> EpmdAnswer? {
        lock.lock()
        defer { lock.unlock() }
        guard let a = answers[host], monotonicSeconds() - a.at < Reachability.keep else { return nil }
        return a.answer
    }
}

/// Runs `body(0..<count)` each on a thread of its own and returns their results in order: network
/// probes spend their time waiting, so they run side by side whatever the number of cores.
@discardableResult
func inParallel<T>(_ count: Int, _ body: @escaping @Sendable (Int) -> T) -> [T] {
    if count == 1 { return [body(0)] }
    let results = ParallelResults<T>()
    let group = DispatchGroup()
    for i in 0..<count {
        group.enter()
        Thread.detachNewThread {
            let v = body(i)
            results.lock.withLock { results.values[i] = v }
            group.leave()
        }
    }
    group.wait()
    return (0..<count).map { results.values[$0]! }
}

private final class ParallelResults<T>: @unchecked Sendable {
    let lock = NSLock()
    var values: [Int: T] = [:]
}
