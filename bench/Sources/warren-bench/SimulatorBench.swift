func simulatorBenchmarks(_ args: [String]) {}
