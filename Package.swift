// swift-tools-version:6.0
import PackageDescription

// Folders show the architecture:
//   Sources/Wire    the wire contract: protobuf-c (system library), the generated C, codecs and framing
//   Sources/RPC     the transport-independent RPC core, the Unix-socket server and the client library
//   Sources/OZmap     the OZmap adapter: libcurl (system library) and the OZmap API v2 client
//   Sources/Domain    box cache and sync, OLT links (no libcurl, NIO or protobuf-c here)
//   Sources/Store     SQLite persistence (GRDB): records and migrations in one place
//   Sources/Simulator the OZmap simulator (ozmap-sim) used by the demo, the tests and the benchmarks
//   Sources/Daemon    the service itself (configuration, handlers, lifecycle) and the ozmapd executable
//   clients/          ozmapctl, and OZmapCtlSupport (its unit-tested parts)
let package = Package(
    name: "ozmapd",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ozmapd", targets: ["ozmapd"]),
        .executable(name: "ozmapctl", targets: ["ozmapctl"]),
        .library(name: "OZmapClient", targets: ["OZmapClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        // Standard gRPC over HTTP/2 on `grpc_socket` (GRPCSocketServer). Its smallest product with an
        // HTTP/2 server brings swift-nio-ssl (BoringSSL) too: docs/PERFORMANCE.md, "Build cost".
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
    ],
    targets: [
        // MARK: wire contract
        .systemLibrary(
            name: "CProtobufC",
            path: "Sources/Wire/CProtobufC",
            pkgConfig: "libprotobuf-c",
            providers: [.apt(["libprotobuf-c-dev"])]
        ),
        // protoc-c output, committed; regenerate with `make proto`.
        .target(
            name: "OZmapProtoC",
            dependencies: ["CProtobufC"],
            path: "Sources/Wire/OZmapProtoC"
        ),
        // The Swift messages, their protoc-c mapping and the service on GRPCCore, generated
        // from proto/ by tools/codegen (committed; `make proto`).
        .target(
            name: "ArcholtOZmapV1",
            dependencies: ["OZmapProtoC", "CProtobufC", .product(name: "GRPCCore", package: "grpc-swift-2")],
            path: "Sources/Wire/ArcholtOZmapV1"
        ),
        .target(
            name: "OZmapWire",
            dependencies: [
                "OZmapRPC", "OZmapProtoC", "CProtobufC", "ArcholtOZmapV1",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Sources/Wire/OZmapWire"
        ),

        // MARK: RPC
        .target(
            name: "OZmapRPC",
            dependencies: [.product(name: "GRPCCore", package: "grpc-swift-2")],
            path: "Sources/RPC/OZmapRPC"
        ),
        .target(
            name: "OZmapServer",
            dependencies: [
                "OZmapRPC", "OZmapWire", "ArcholtOZmapV1", .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/RPC/OZmapServer"
        ),
        .target(
            name: "OZmapClient",
            dependencies: [
                "ArcholtOZmapV1", .product(name: "GRPCCore", package: "grpc-swift-2"),
                "OZmapRPC", "OZmapWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Sources/RPC/OZmapClient"
        ),

        // MARK: OZmap adapter
        .systemLibrary(
            name: "CCurl",
            path: "Sources/OZmap/CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .target(
            name: "OZmapAdapter",
            dependencies: [
                "CCurl", "OZmapDomain",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/OZmap/OZmapAdapter"
        ),

        // MARK: domain and store
        .target(
            name: "OZmapDomain",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Domain/OZmapDomain"
        ),
        .target(
            name: "OZmapStore",
            dependencies: ["OZmapDomain", .product(name: "GRDB", package: "GRDB.swift")],
            path: "Sources/Store/OZmapStore"
        ),

        // MARK: OZmap simulator
        .target(
            name: "OZmapSimulator",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Simulator/OZmapSimulator"
        ),
        .executableTarget(
            name: "ozmap-sim",
            dependencies: [
                "OZmapSimulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Simulator/ozmap-sim"
        ),

        // MARK: the service
        .target(
            name: "OZmapDaemon",
            dependencies: [
                "OZmapRPC", "OZmapWire", "OZmapServer", "OZmapDomain", "OZmapStore", "OZmapAdapter",
                "ArcholtOZmapV1", .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // Metrics: swift-metrics handles backed by a Prometheus registry the Daemon owns,
                // and the optional loopback HTTP listener (MetricsHTTPServer).
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Sources/Daemon/OZmapDaemon"
        ),
        .executableTarget(
            name: "ozmapd",
            dependencies: [
                "OZmapDaemon",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/Daemon/ozmapd"
        ),
        .executableTarget(
            name: "ozmapctl",
            dependencies: [
                "OZmapClient", "OZmapRPC", "OZmapWire", "OZmapCtlSupport",
                "ArcholtOZmapV1", .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "clients/ozmapctl"
        ),
        // ozmapctl's pure parts (the import file reader, the report text), unit-tested.
        .target(
            name: "OZmapCtlSupport",
            dependencies: ["ArcholtOZmapV1"],
            path: "clients/OZmapCtlSupport"
        ),

        // MARK: benchmarks (`make bench`)
        .executableTarget(
            name: "ozmap-bench",
            dependencies: [
                "OZmapDaemon", "OZmapClient", "OZmapRPC", "OZmapWire", "OZmapTestSupport",
                "OZmapDomain", "OZmapStore",
                "ArcholtOZmapV1", .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCInProcessTransport", package: "grpc-swift-2"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Benchmarks/ozmap-bench"
        ),

        // MARK: fuzzing (`make fuzz`, `make fuzz-check`; docs/FUZZING.md)
        // Few dependencies, so the sanitized build stays short.
        .systemLibrary(name: "CLibFuzzer", path: "Fuzz/CLibFuzzer"),
        .executableTarget(
            name: "ozmap-fuzz",
            dependencies: [
                "OZmapWire", "OZmapRPC", "OZmapProtoC", "CProtobufC", "CLibFuzzer", "ArcholtOZmapV1",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            path: "Fuzz/ozmap-fuzz"
        ),

        // MARK: tests
        // Helpers shared by the test targets.
        .target(
            name: "OZmapTestSupport",
            path: "Tests/OZmapTestSupport"
        ),
        .testTarget(
            name: "OZmapRPCTests",
            dependencies: ["OZmapRPC", "OZmapWire", "ArcholtOZmapV1", "OZmapProtoC", "CProtobufC",
                           .product(name: "GRPCCore", package: "grpc-swift-2"),
                           .product(name: "GRPCInProcessTransport", package: "grpc-swift-2"), .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOEmbedded", package: "swift-nio")],
            path: "Tests/OZmapRPCTests"
        ),
        .testTarget(
            name: "OZmapDomainTests",
            dependencies: ["OZmapDomain", .product(name: "Logging", package: "swift-log")],
            path: "Tests/OZmapDomainTests"
        ),
        .testTarget(
            name: "OZmapSimulatorTests",
            dependencies: ["OZmapSimulator", "OZmapTestSupport",
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOPosix", package: "swift-nio"),
                           .product(name: "NIOHTTP1", package: "swift-nio")],
            path: "Tests/OZmapSimulatorTests"
        ),
        .testTarget(
            name: "OZmapIntegrationTests",
            dependencies: ["OZmapDaemon", "OZmapClient", "OZmapRPC", "OZmapSimulator", "OZmapTestSupport", "OZmapStore", "OZmapDomain",
                           "OZmapAdapter", "OZmapWire", "ArcholtOZmapV1",
                           .product(name: "GRPCCore", package: "grpc-swift-2"),
                           .product(name: "GRPCInProcessTransport", package: "grpc-swift-2"),
                           .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "GRDB", package: "GRDB.swift")],
            path: "Tests/OZmapIntegrationTests"
        ),
        .testTarget(
            name: "OZmapCtlSupportTests",
            dependencies: ["OZmapCtlSupport", "ArcholtOZmapV1"],
            path: "Tests/OZmapCtlSupportTests"
        ),
        .testTarget(
            name: "OZmapServerTests",
            dependencies: ["OZmapDaemon", "OZmapClient", "OZmapServer", "OZmapTestSupport", "OZmapRPC", "OZmapWire",
                           .product(name: "GRPCCore", package: "grpc-swift-2"),
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOPosix", package: "swift-nio"),
                           .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            path: "Tests/OZmapServerTests"
        ),
    ],
    swiftLanguageModes: [.v6]
)
