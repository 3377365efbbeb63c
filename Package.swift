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

        // Text as operators see it: bytes kept through Lua, control characters escaped on output
        .target(name: "Text"),

        // Runtimes
        .target(name: "Lua", dependencies: ["CLua", "CShims", "Text"]),
        .target(name: "LineEditor", dependencies: ["CEditLine", "CShims", "Text"]),

        // The cluster model and its backends
        .target(name: "Cluster"),
        .target(name: "Simulator", dependencies: ["Cluster"]),
        .target(name: "RabbitMQ", dependencies: ["Cluster", "CAMQP", "Yams"]),

        // Engine, sessions, command line
        .target(name: "Runbook", dependencies: ["Lua", "Cluster", "Text"]),
        .target(name: "Sessions", dependencies: ["Runbook", "Cluster", "Simulator", "Text"]),
        .target(name: "WarrenCLI", dependencies: [
            "Sessions", "Runbook", "Simulator", "RabbitMQ", "LineEditor", "Lua", "Cluster", "Text",
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
        .testTarget(name: "TextTests", dependencies: ["Text"]),
        .testTarget(name: "LuaTests", dependencies: ["Lua", "Text"]),
        .testTarget(name: "LineEditorTests", dependencies: ["LineEditor", "WarrenTestSupport"]),
        .testTarget(name: "SimulatorTests", dependencies: ["Simulator", "Cluster"]),
        .testTarget(name: "ClusterTests", dependencies: ["Cluster"]),
        .testTarget(name: "RabbitMQTests", dependencies: ["RabbitMQ", "Cluster", "Simulator", "warren", "WarrenTestSupport"],
                    exclude: ["Differential/Scenarios"], resources: [.copy("Fixtures")]),
        .testTarget(name: "RunbookTests", dependencies: ["Runbook", "Sessions", "Simulator", "Cluster", "Lua", "WarrenTestSupport"]),
        .testTarget(name: "SessionsTests", dependencies: ["Sessions", "Runbook", "Simulator", "Cluster", "CZlib", "WarrenTestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["warren", "WarrenTestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
