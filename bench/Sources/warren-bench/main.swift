// warren-bench: the benchmarks of bench/README.md. `warren-bench <suite> [options]`.
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
guard let suite = arguments.first else {
    FileHandle.standardError.write("usage: warren-bench simulator|rabbitmq|sweep [options]\n".data(using: .utf8)!)
    exit(2)
}
switch suite {
case "simulator": simulatorBenchmarks(Array(arguments.dropFirst()))
case "rabbitmq": rabbitmqBenchmarks(Array(arguments.dropFirst()))
case "sweep": sweepBenchmarks(Array(arguments.dropFirst()))
default:
    FileHandle.standardError.write("unknown suite '\(suite)'\n".data(using: .utf8)!)
    exit(2)
}
