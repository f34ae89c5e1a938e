// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "steward",
    products: [
        .executable(name: "steward", targets: ["steward"]),
        .library(name: "StewardEngine", targets: ["StewardEngine"]),
        .library(name: "CgroupStats", targets: ["CgroupStats"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // Tests only: the parser's answers are compared with toml++'s (through TOMLKit).
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        // No traits: the defaults pull swift-configuration and full Foundation (34 MB of ICU) in.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        // Hummingbird's own dependencies, named for the metrics listener's HTTP/1 pipeline (MetricsChannel).
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        // C: clone3(CLONE_INTO_CGROUP) / fork + v1 cgroup joins, async-signal-safe child.
        .target(name: "CStewardSpawn"),
        // Pure parsers and the memory-class policy: never touches the filesystem.
        .target(name: "CgroupStats"),
        // TOML 1.0 → values that remember the line of every key. Standard library only: TOMLKit
        // imports Foundation (11 MiB of resident ICU and Foundation) and has no positions for values.
        .target(name: "StewardTOML"),
        // TOML config → validated value types, errors naming file, line and key.
        .target(name: "StewardConfig", dependencies: ["StewardCore", "StewardTOML"]),
        // I/O on cgroup trees: layout detection, create/remove, kill until empty, read stats.
        .target(
            name: "CgroupFS",
            dependencies: ["CgroupStats", .product(name: "SystemPackage", package: "swift-system")]
        ),
        // Pure supervisor state machine and restart policy.
        .target(name: "StewardCore", dependencies: ["CgroupStats"]),
        // The engine: performs the state machine's actions against the kernel.
        .target(
            name: "StewardEngine",
            dependencies: [
                "CStewardSpawn", "CgroupFS", "CgroupStats", "StewardConfig", "StewardCore", "StewardTOML",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Scrape-time collection from the cgroups and Prometheus/OpenMetrics text exposition.
        .target(
            name: "StewardMetrics",
            dependencies: ["CgroupStats", "CgroupFS", "StewardEngine", "StewardCore", "StewardConfig", .product(name: "Logging", package: "swift-log")]
        ),
        // HTTP edges: /metrics, /services/<name>/metrics, /healthz; the control socket and its client.
        .target(
            name: "StewardServer",
            dependencies: [
                "StewardMetrics", "StewardEngine", "StewardConfig",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // libsystemd: sd_notify, the watchdog and journald (Debian: libsystemd-dev).
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        .target(
            name: "StewardSystemd",
            dependencies: [
                "CSystemd", "StewardEngine",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .executableTarget(
            name: "steward",
            dependencies: [
                "CStewardSpawn", "StewardEngine", "StewardMetrics", "StewardServer", "StewardSystemd",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                // The CLI wires Unix signals and the metrics server's graceful shutdown.
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // Helpers every test target shares: fixtures, deadlines, a supervisor in a scratch cgroup.
        .target(
            name: "StewardTestSupport",
            dependencies: ["StewardEngine", "StewardConfig", "StewardCore", "CgroupFS", "CgroupStats", .product(name: "Logging", package: "swift-log")],
            path: "Tests/StewardTestSupport"
        ),
        .testTarget(name: "CgroupStatsTests", dependencies: ["CgroupStats", "StewardTestSupport"]),
        .testTarget(name: "StewardTOMLTests", dependencies: ["StewardTOML", .product(name: "TOMLKit", package: "TOMLKit")]),
        .testTarget(name: "StewardConfigTests", dependencies: ["StewardConfig", "StewardTOML"]),
        .testTarget(name: "StewardCoreTests", dependencies: ["StewardCore"]),
        .testTarget(name: "CgroupFSTests", dependencies: ["CgroupFS", "CgroupStats", "StewardTestSupport"]),
        .testTarget(name: "StewardEngineTests", dependencies: ["StewardEngine", "StewardConfig", "CgroupFS", "CgroupStats", "StewardTestSupport"]),
        .testTarget(
            name: "StewardMetricsTests",
            dependencies: [
                "StewardMetrics", "StewardServer", "StewardEngine", "StewardConfig", "CgroupFS", "CgroupStats", "StewardTestSupport",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            // Expected outputs, read through #filePath.
            exclude: ["Golden"]
        ),
    ]
)
