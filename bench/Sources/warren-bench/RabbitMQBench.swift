func rabbitmqBenchmarks(_ args: [String]) {}
