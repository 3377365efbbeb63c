import Cluster
import Foundation
import Lua
import RabbitMQ
import Runbook
import Sessions

/// A real cluster from its inventory file; the backend's notices (e.g. reads without
/// credentials go through the CLI) are shown once.
func realTarget(_ spec: TargetSpec) throws -> Target {
    guard let path = spec.inventory else { throw RunbookError.usage("no inventory file given") }
    let inventory = try Inventory.load(path: path)
    let backend = RabbitMQBackend(inventory: inventory)
    backend.interruptRequested = { LuaState.interruptRequested }
    for notice in backend.notices { FileHandle.standardError.write(Data("warren: \(notice)\n".utf8)) }
    let target = Target(spec: spec, backend: backend, redactor: backend.redactor)
    target.declaredClusterName = inventory.cluster
    target.interruptRequested = { LuaState.interruptRequested }
    target.makeCanaryTransport = { try backend.makeCanaryClient() }
    target.attachCommandLog = { [weak backend] sink in
        backend?.onCommand = { record in
            sink(JournalEntry(kind: .command, primitive: record.kind.rawValue, outcome: String(record.exitCode),
                              message: record.output.isEmpty ? nil : String(record.output.suffix(2000)),
                              duration: record.duration, value: record.argv.joined(separator: " ")))
        }
    }
    return target
}
