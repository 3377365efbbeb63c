import ArgumentParser
import Cluster
import Foundation
import Text
import Lua
import RabbitMQ
import Runbook
import Sessions
import Simulator

/// Exit codes: 0 done, 1 the procedure failed or was refused, 2 usage or input error, 3
/// interrupted (resumable).
enum Exit {
    static let done: Int32 = 0
    static let failed: Int32 = 1
    static let usage: Int32 = 2
    static let interrupted: Int32 = 3

    /// The one mapping from an error to what warren says and the code it exits with.
    static func status(for error: Error) -> (message: String, code: Int32) {
        switch error {
        case let e as RunbookError: return (e.description, e.exitCode)
        case let e as ClusterLock.Held: return (e.description, failed)
        case let e as ClusterLock.HolderAlive: return (e.description, failed)
        case let e as ClusterLock.Unreadable: return (e.description, usage)
        case let e as SessionRunner.ResumeRefused: return (e.description, usage)
        case let e as JournalError: return (e.description + "; nothing was changed", usage)
        case let e as StateFileError: return (e.description, usage)
        case let e as SessionsError: return (e.description, usage)
        case let e as InventoryError: return (e.description, usage)
        case let e as DrillInputError: return (e.description, usage)
        case let e as DevCluster.Failure: return (e.description, failed)
        case let e as SnapshotFailure: return (e.description, failed)
        case let e as ClusterSnapshot.Unreadable: return (e.description, usage)
        case let e as FileWriteError: return (e.description, failed)
        case let e as VersionError: return (e.description, usage)
        case let e as UpgradePathError:
            switch e {
            case .downgrade, .noDirectPath: return (e.description, usage)
            case .metadataStore, .noVersions: return (e.description, failed)
            }
        case let e as ClusterError:
            return (e.message, e.code == .interrupted ? interrupted : failed)
        default: return ("\(error)", usage)
        }
    }

}

/// Writes to standard output and error without ever ending the process: a closed pipe
/// (`warren run ... | head -1`) or a lost terminal makes writes fail, and the run goes on.
/// Control characters in the text (from names on the cluster, from runbooks) are escaped; `raw`
/// is for warren's own terminal sequences (the live wait line, a replayed recording).
enum Output {
    static func write(_ text: String) { write(1, PrintableText.escapingControls(text)) }
    static func error(_ text: String) { write(2, PrintableText.escapingControls(text)) }
    static func raw(_ text: String) { write(1, text) }

    static func write(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        let count = bytes.count
        var done = 0
        while done < count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            done += n
        }
    }
}
