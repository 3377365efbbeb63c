// warren-bench: the benchmarks of bench/README.md. `warren-bench <suite> [options]`.
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
let usage = "usage: warren-bench lua|engine|recording|simulator|view|sweep|report|rabbitmq [options]\n"
guard let suite = arguments.first else {
    FileHandle.standardError.write(usage.data(using: .utf8)!)
    exit(2)
}
let rest = Array(arguments.dropFirst())
switch suite {
case "lua": luaBenchmarks(rest)
case "engine": engineBenchmarks(rest)
case "recording": recordingBenchmarks(rest)
case "simulator": simulatorBenchmarks(rest)
case "view": viewBenchmarks(rest)
case "sweep": sweepBenchmarks(rest)
case "report": reportBenchmarks(rest)
case "rabbitmq": rabbitmqBenchmarks(rest)
default:
    FileHandle.standardError.write("unknown suite '\(suite)'\n\(usage)".data(using: .utf8)!)
    exit(2)
}
