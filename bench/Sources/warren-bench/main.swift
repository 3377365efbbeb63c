// warren-bench: the benchmarks of bench/README.md. `warren-bench <suite> [options]`.
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
guard let suite = arguments.first else {
    FileHandle.standardError.write("usage: warren-bench lua|engine|simulator|rabbitmq [options]\n".data(using: .utf8)!)
    exit(2)
}
switch suite {
case "simulator": simulatorBenchmarks(Array(arguments.dropFirst()))
case "rabbitmq": rabbitmqBenchmarks(Array(arguments.dropFirst()))
case "lua": luaBenchmarks(Array(arguments.dropFirst()))
case "engine": engineBenchmarks(Array(arguments.dropFirst()))
default:
    FileHandle.standardError.write("unknown suite '\(suite)'\n".data(using: .utf8)!)
    exit(2)
}
