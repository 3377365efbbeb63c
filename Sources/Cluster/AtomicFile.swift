import Foundation

/// A file that could not be written.
public struct FileWriteError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "cannot write \(path): \(reason)" }
}

/// Writes a file atomically (temporary file, fsync, rename), so a crash leaves the old or the new one.
public func writeAtomically(_ data: Data, to path: String) throws {
    let tmp = path + ".tmp-\(getpid())"
    let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw FileWriteError(path: path, reason: String(cString: strerror(errno))) }
    let ok = data.withUnsafeBytes { buf -> Bool in
        var off = 0
        while off < buf.count {
            let n = write(fd, buf.baseAddress! + off, buf.count - off)
            if n < 0 { if errno == EINTR { continue }; return false }
            off += n
        }
        return fsync(fd) == 0
    }
    let reason = String(cString: strerror(errno))
    close(fd)
    guard ok, rename(tmp, path) == 0 else {
        let why = ok ? String(cString: strerror(errno)) : reason
        unlink(tmp)
        throw FileWriteError(path: path, reason: why)
    }
}
