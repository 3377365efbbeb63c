import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A constant delay on a host's outgoing packets where the kernel has no `netem` qdisc
/// (`CONFIG_NET_SCH_NETEM` unset: `tc qdisc add ... netem` says "Specified qdisc kind is unknown").
///
/// An iptables rule queues the host's outgoing IPv4 packets to NFQUEUE 0 (`--queue-bypass`: they
/// pass undelayed when nobody listens), and this loop, run inside the host's network namespace
/// (`warren devcluster delay-packets`), accepts each one `delay` seconds after it arrived, in
/// order. It speaks nfnetlink_queue over a netlink socket (linux/netfilter/nfnetlink_queue.h);
/// the queue is set to fail open, so a full queue lets packets through rather than dropping them.
public enum PacketDelay {
    private static let netlinkNetfilter: Int32 = 12
    private static let subsystemQueue: UInt16 = 3
    private static let msgPacket: UInt16 = 0, msgVerdict: UInt16 = 1, msgConfig: UInt16 = 2

    private static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)] }
    private static func host16(_ v: UInt16) -> [UInt8] { withUnsafeBytes(of: v) { Array($0) } }
    private static func host32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v) { Array($0) } }

    private static func attribute(_ type: UInt16, _ payload: [UInt8]) -> [UInt8] {
        let length = 4 + payload.count
        return host16(UInt16(length)) + host16(type) + payload + [UInt8](repeating: 0, count: (4 - length % 4) % 4)
    }

    private static func message(_ type: UInt16, flags: UInt16, queue: UInt16, _ attributes: [[UInt8]], sequence: UInt32 = 0) -> [UInt8] {
        // nfgenmsg: family AF_UNSPEC, version 0, the queue number big-endian.
        var body: [UInt8] = [0, 0, UInt8(queue >> 8), UInt8(queue & 0xff)]
        for a in attributes { body += a }
        var out = host32(UInt32(16 + body.count))
        out += host16((subsystemQueue << 8) | type)
        out += host16(flags)
        out += host32(sequence)
        out += host32(0)
        return out + body
    }

    private static func send(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) } == bytes.count
    }

    private static func read32(_ b: UnsafeRawBufferPointer, _ at: Int) -> UInt32 { b.loadUnaligned(fromByteOffset: at, as: UInt32.self) }
    private static func read16(_ b: UnsafeRawBufferPointer, _ at: Int) -> UInt16 { b.loadUnaligned(fromByteOffset: at, as: UInt16.self) }

    /// Waits for the kernel's answer to a request; an error answer throws.
    private static func expectAck(_ fd: Int32) throws {
        var buffer = [UInt8](repeating: 0, count: 8192)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n >= 20 else { throw PacketDelayError("no answer from nfnetlink_queue (\(String(cString: strerror(errno))))") }
        try buffer.withUnsafeBytes { b in
            if read16(b, 4) == 2 { // NLMSG_ERROR
                let code = Int32(bitPattern: read32(b, 16))
                if code != 0 { throw PacketDelayError("nfnetlink_queue refused the configuration: \(String(cString: strerror(-code)))") }
            }
        }
    }

    /// Binds NFQUEUE `queue` in the current network namespace and releases every packet `delay`
    /// seconds after it arrived; never returns unless the queue cannot be set up.
    public static func run(queue: UInt16, delay: Double) throws -> Never {
        let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue), netlinkNetfilter)
        guard fd >= 0 else { throw PacketDelayError("cannot open a netfilter netlink socket: \(String(cString: strerror(errno)))") }
        var size: Int32 = 8 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        // struct sockaddr_nl (linux/netlink.h, not imported): family, pad, pid 0 (the kernel
        // picks), groups 0.
        let address: [UInt8] = host16(UInt16(AF_NETLINK)) + [0, 0] + host32(0) + host32(0)
        let bound = address.withUnsafeBytes { bind(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(address.count)) }
        guard bound == 0 else { throw PacketDelayError("cannot bind the netlink socket: \(String(cString: strerror(errno)))") }
        let request: UInt16 = 0x1, ack: UInt16 = 0x4
        // Bind the queue (command 1), then: copy only metadata, a long queue, fail open.
        guard send(fd, message(msgConfig, flags: request | ack, queue: queue, [attribute(1, [1, 0, 0, 0])], sequence: 1)) else {
            throw PacketDelayError("cannot send to nfnetlink_queue")
        }
        try expectAck(fd)
        let failOpen = be32(1)
        guard send(fd, message(msgConfig, flags: request | ack, queue: queue, [
            attribute(2, be32(0) + [1]), attribute(3, be32(65536)), attribute(4, failOpen), attribute(5, failOpen),
        ], sequence: 2)) else { throw PacketDelayError("cannot send to nfnetlink_queue") }
        try expectAck(fd)

        var pending: [(release: Double, id: UInt32)] = []
        var head = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            var timeout: Int32 = -1
            if head < pending.count { timeout = Int32(max(0, (pending[head].release - monotonicSeconds()) * 1000).rounded(.up)) }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, timeout) > 0 {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                let now = monotonicSeconds()
                if n > 0 {
                    buffer.withUnsafeBytes { b in
                        var offset = 0
                        while offset + 16 <= n {
                            let length = Int(read32(b, offset))
                            guard length >= 16, offset + length <= n else { break }
                            if read16(b, offset + 4) == (subsystemQueue << 8) | msgPacket {
                                var a = offset + 20
                                while a + 4 <= offset + length {
                                    let alen = Int(read16(b, a)), atype = read16(b, a + 2) & 0x7fff
                                    if alen < 4 { break }
                                    if atype == 1, alen >= 8 { // NFQA_PACKET_HDR: packet id, big-endian
                                        pending.append((now + delay, UInt32(bigEndian: read32(b, a + 4))))
                                        break
                                    }
                                    a += (alen + 3) & ~3
                                }
                            }
                            offset += (length + 3) & ~3
                        }
                    }
                }
            }
            let now = monotonicSeconds()
            while head < pending.count, pending[head].release <= now {
                _ = send(fd, message(msgVerdict, flags: request, queue: queue, [attribute(2, be32(1) + be32(pending[head].id))]))
                head += 1
            }
            if head > 4096 {
                pending.removeFirst(head)
                head = 0
            }
        }
    }
}

public struct PacketDelayError: Error, CustomStringConvertible {
    public var description: String
    init(_ d: String) { description = d }
}
