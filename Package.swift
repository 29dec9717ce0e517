// swift-tools-version:6.0
// h2e: load-feedback LVS directors (h2e-director) and their webserver agents (h2e-agent).
import PackageDescription

let package = Package(
    name: "h2e",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "h2e-director", targets: ["h2e-director"]),
        .executable(name: "h2e-agent", targets: ["h2e-agent"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
    ],
    targets: [
        // C libraries behind thin system-library / shim targets.
        .systemLibrary(
            name: "CNetlink", pkgConfig: "libnl-genl-3.0",
            providers: [.apt(["libnl-3-dev", "libnl-genl-3-dev", "libnl-route-3-dev"])]),
        .systemLibrary(name: "CRRD", pkgConfig: "librrd", providers: [.apt(["librrd-dev"])]),
        .target(name: "CPacket"),
        .systemLibrary(name: "CLinux"),

        // Domains.
        // The process's edges to the system: threads for blocking calls, child processes (one spawn path), the wall
        // clock, and logging to stderr for the journal (one log handler).
        .target(name: "HostSystem", dependencies: ["CLinux", .product(name: "Logging", package: "swift-log")]),
        // One IP address type (IPv4/IPv6, text and bytes) and one host:port type, for every module.
        .target(name: "Addressing"),
        // The /load.json contract between the agent and the director: the wire type, its limits, its encoding.
        .target(name: "AgentWire"),
        .target(name: "LVSConfig", dependencies: ["Addressing", "AgentWire"]),
        .target(name: "IPVS", dependencies: ["Addressing", "CNetlink", "HostSystem"]),
        .target(
            name: "HealthCheck",
            dependencies: [
                "Addressing", "CLinux",
                "HostSystem",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "LoadFeedback",
            dependencies: [
                "Addressing",
                "AgentWire", "HostSystem",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "Heartbeat",
            dependencies: [
                "Addressing",
                "CPacket", "CNetlink", "HostSystem",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "LoadAgent",
            dependencies: [
                "Addressing",
                "AgentWire", "CRRD", "HostSystem",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Scale-out groups: the announce device BIRD exports, and BIRD's control socket.
        .target(name: "ScaleOut", dependencies: ["CLinux", "Heartbeat", "HostSystem"]),
        .target(
            name: "Director",
            dependencies: [
                "Addressing",
                "HostSystem", "LVSConfig", "IPVS", "HealthCheck", "LoadFeedback", "Heartbeat", "ScaleOut",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]),

        // Thin mains: argument parsing and wiring only.
        .executableTarget(
            name: "h2e-director",
            dependencies: [
                "Addressing", "Director", "HostSystem", "LVSConfig", "IPVS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // Benchmarks (scripts/bench-ipvs, scripts/bench-healthcheck, scripts/bench-agent-load).
        .executableTarget(name: "h2e-bench-ipvs", dependencies: ["Addressing", "IPVS"]),
        .executableTarget(name: "h2e-bench-agent-poll", dependencies: ["LoadFeedback"]),
        .executableTarget(
            name: "h2e-bench-healthcheck",
            dependencies: [
                "HealthCheck",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The attacker's side of the heartbeat tests (forged floods, capture and replay): KernelTests, scripts/attack-heartbeat.
        .executableTarget(name: "h2e-heartbeat-tool", dependencies: ["Heartbeat", "CPacket"]),
        .executableTarget(
            name: "h2e-agent",
            dependencies: [
                "Addressing", "AgentWire", "HostSystem", "LoadAgent",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // Tests. KernelTests run inside the user-mode-linux kernel (scripts/ipvs-vm); elsewhere they skip, and
        // under CI a skip is a failure (scripts/test).
        .testTarget(name: "LVSConfigTests", dependencies: ["Addressing", "AgentWire", "HostSystem", "LVSConfig"]),
        .testTarget(name: "IPVSTests", dependencies: ["Addressing", "IPVS"]),
        .testTarget(
            name: "HostSystemTests", dependencies: ["HostSystem", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "AddressingTests", dependencies: ["Addressing", "HostSystem"]),
        .testTarget(name: "AgentWireTests", dependencies: ["AgentWire", "LoadAgent", "LoadFeedback"]),
        .testTarget(
            name: "HealthCheckTests",
            dependencies: ["Addressing", "HealthCheck", "HostSystem", "TestSupport", .product(name: "NIOEmbedded", package: "swift-nio")]),
        .testTarget(name: "LoadFeedbackTests", dependencies: ["Addressing", "AgentWire", "HostSystem", "LoadFeedback"]),
        // Helpers more than one test target needs: a manual clock, skip-or-fail-under-CI.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(
            name: "HeartbeatTests",
            dependencies: ["Heartbeat", "HostSystem", "TestSupport", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "LoadAgentTests", dependencies: ["AgentWire", "LoadAgent", "TestSupport"]),
        .testTarget(name: "DirectorTests", dependencies: ["Addressing", "Director", "HostSystem", "TestSupport"]),
        .testTarget(name: "ScaleOutTests", dependencies: ["Heartbeat", "ScaleOut", "TestSupport"]),
        // Runs the built executables as operators do.
        .testTarget(name: "CommandLineTests", dependencies: ["Addressing", "h2e-director"]),
        .testTarget(name: "KernelTests", dependencies: ["Addressing", "IPVS", "Director", "ScaleOut", "TestSupport"]),
    ]
)
