// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "warren",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "warren", targets: ["warren"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // System libraries and C shims
        .systemLibrary(name: "CLua", path: "Sources/CLua", pkgConfig: "lua5.4",
                       providers: [.apt(["liblua5.4-dev"])]),
        .systemLibrary(name: "CEditLine", path: "Sources/CEditLine", pkgConfig: "libedit",
                       providers: [.apt(["libedit-dev"])]),
        .target(name: "CShims", dependencies: ["CLua", "CEditLine"]),
        .systemLibrary(name: "CRabbitMQC", path: "Sources/CRabbitMQC", pkgConfig: "librabbitmq",
                       providers: [.apt(["librabbitmq-dev"])]),
        .target(name: "CAMQP", dependencies: ["CRabbitMQC"], linkerSettings: [.linkedLibrary("rabbitmq")]),

        // Runtimes
        .target(name: "Lua", dependencies: ["CLua", "CShims"]),
        .target(name: "LineEditor", dependencies: ["CEditLine", "CShims"]),

        // The cluster model and its backends
        .target(name: "Cluster"),
        .target(name: "Simulator", dependencies: ["Cluster"]),
        .target(name: "RabbitMQ", dependencies: ["Cluster", "CAMQP", "Yams"]),

        // Engine, sessions, command line
        .target(name: "Runbook", dependencies: ["Lua", "Cluster"]),
        .target(name: "Sessions", dependencies: ["Runbook", "Cluster", "Simulator"]),
        .target(name: "WarrenCLI", dependencies: [
            "Sessions", "Runbook", "Simulator", "RabbitMQ", "LineEditor", "Lua", "Cluster",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "warren", dependencies: ["WarrenCLI"]),

        // Benchmarks (bench/README.md)
        .executableTarget(name: "warren-bench",
                          dependencies: ["Simulator", "RabbitMQ", "Runbook", "Sessions", "Lua", "Cluster", "WarrenCLI"],
                          path: "bench/Sources/warren-bench"),

        // Tests (WarrenTestSupport: a pseudo-terminal that drives the built binary)
        .target(name: "WarrenTestSupport", path: "Tests/Support"),
        // zlib, to read the browser's screenshots (SessionsTests: report.html in a headless browser)
        .systemLibrary(name: "CZlib", path: "Tests/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .testTarget(name: "LuaTests", dependencies: ["Lua"]),
        .testTarget(name: "LineEditorTests", dependencies: ["LineEditor"]),
        .testTarget(name: "SimulatorTests", dependencies: ["Simulator", "Cluster"]),
        .testTarget(name: "ClusterTests", dependencies: ["Cluster"]),
        .testTarget(name: "RabbitMQTests", dependencies: ["RabbitMQ", "Cluster", "Simulator", "warren", "WarrenTestSupport"],
                    exclude: ["Differential/Scenarios"], resources: [.copy("Fixtures")]),
        .testTarget(name: "RunbookTests", dependencies: ["Runbook", "Sessions", "Simulator", "Cluster", "Lua"]),
        .testTarget(name: "SessionsTests", dependencies: ["Sessions", "Runbook", "Simulator", "Cluster", "CZlib"]),
        .testTarget(name: "EndToEndTests", dependencies: ["warren", "WarrenTestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
