// swift-tools-version:5.10
import Foundation
import PackageDescription

/// Release builds optimise across module boundaries so that the generic RESP parser and the
/// engine's small helpers are specialised and inlined into the server's hot path. (The
/// Makefile also passes `-enforce-exclusivity=unchecked` to dependencies with `-Xswiftc`.)
let optimise: [SwiftSetting] = [
    .unsafeFlags(["-cross-module-optimization", "-enforce-exclusivity=unchecked"], .when(configuration: .release))
]

/// The modules on the per-command path (parser, engine, server) also end each object's
/// lifetime at its last use rather than at the end of its scope (Swift's rule before 5.7):
/// a reference that a scope keeps alive past its last use is one more retain and release
/// around every call it outlives, a third of the reference counting per command. Code in
/// these modules must not rely on a local keeping an object alive after its last use
/// (an unowned or unmanaged reference to an object only a local holds, a descriptor
/// closed by a `deinit`): `withExtendedLifetime` says so where it is needed.
let hotPath: [SwiftSetting] =
    optimise + [.unsafeFlags(["-Xfrontend", "-enable-lexical-lifetimes=false"], .when(configuration: .release))]

/// The server's release link keeps what the process maps at start small: lld packs the
/// relative relocations (`DT_RELR`, which the loader otherwise reads as 1.4 MB of entries
/// at every start) and the executable exports no symbols (the static standard library's
/// link arguments export all of them, and the loader then searches that table first for
/// every symbol it binds).
///
/// It also lays the functions out in the order `Tools/symbol-order.txt` lists them: every
/// function a typical run executes, the common path's first, hottest first, then the
/// protocol conformance descriptors (`Tools/gen-symbol-order.sh` writes it; the Makefile
/// compiles each function into its own section so the order can apply). The kernel maps
/// code around each page a process touches, 64 KB or more, so code used together but
/// spread over the 15 MB of text kept most of it resident; grouped, the process's code
/// pages are the ones it runs. Functions the list no longer names (renamed since it was
/// written) are laid out after it, which costs memory, never correctness. Identical
/// functions are folded (`--icf=all`): each object's own copy of Swift's small weak
/// helpers otherwise kept a window of code resident (docs/DECISIONS.md says why folding
/// is safe here).
let residentFootprint: [LinkerSetting] = [
    .unsafeFlags(
        [
            "-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs", "-Xlinker", "--no-export-dynamic",
            "-Xlinker", "--symbol-ordering-file=\(Context.packageDirectory)/Tools/symbol-order.txt",
            "-Xlinker", "--no-warn-symbol-ordering", "-Xlinker", "--icf=all",
        ],
        .when(platforms: [.linux], configuration: .release))
]

let package = Package(
    name: "Strata",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "strata-server", targets: ["strata-server"]),
        .executable(name: "strata-dump", targets: ["strata-dump"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", exact: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections.git", exact: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", exact: "2.37.6"),
    ],
    targets: [
        .target(name: "RedisInteger", swiftSettings: hotPath),
        .target(
            name: "RESP",
            dependencies: ["RedisInteger", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: hotPath
        ),
        .target(
            name: "StrataEngine",
            dependencies: [
                "RedisInteger", "CPrefetch", "StrataCluster",
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: hotPath
        ),
        .target(name: "StrataCluster", swiftSettings: optimise),
        .target(name: "StrataMemcached", swiftSettings: optimise),
        .target(name: "CPrefetch"),
        .target(name: "CCycleCounter"),
        .target(name: "CMallocInfo", linkerSettings: [.linkedLibrary("jemalloc")]),
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(
            name: "CLua", pkgConfig: "lua5.1", providers: [.apt(["liblua5.1-0-dev", "lua-cjson-dev", "lua-bitop-dev"])]),
        .target(
            name: "CLuaBridge", dependencies: ["CLua"],
            linkerSettings: [.linkedLibrary("lua5.1-cjson"), .linkedLibrary("lua5.1-bitop"), .linkedLibrary("lua5.1")]),
        .target(
            name: "StrataScripting",
            dependencies: ["CLuaBridge", "StrataEngine"],
            swiftSettings: optimise
        ),
        .target(
            name: "StrataPersistence",
            dependencies: [
                "StrataEngine", "RESP", "CLZ4", "CZlib", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: optimise
        ),
        .target(
            name: "StrataServer",
            dependencies: [
                "RESP", "StrataEngine", "StrataPersistence", "StrataScripting", "StrataCluster", "StrataMemcached", "CMallocInfo",
                "CCycleCounter",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: hotPath
        ),
        .executableTarget(
            name: "strata-server",
            dependencies: [
                "StrataServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: optimise,
            linkerSettings: residentFootprint
        ),
        .target(
            name: "StrataDumpKit",
            dependencies: [
                "RESP", "StrataPersistence", "StrataEngine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ],
            swiftSettings: optimise
        ),
        .executableTarget(
            name: "strata-dump",
            dependencies: ["StrataDumpKit"],
            swiftSettings: optimise
        ),
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .target(
            name: "StrataFuzzTargets",
            dependencies: [
                "RESP", "StrataEngine", "StrataPersistence", "StrataServer", "StrataCluster", "StrataMemcached",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Tests/FuzzTargets"
        ),
        .testTarget(name: "FuzzReplayTests", dependencies: ["StrataFuzzTargets"]),
        .testTarget(
            name: "RESPTests",
            dependencies: ["RESP", "TestSupport", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(name: "StrataEngineTests", dependencies: ["StrataEngine", "TestSupport"]),
        .testTarget(name: "StrataClusterTests", dependencies: ["StrataCluster"], exclude: ["Fixtures"]),
        .testTarget(name: "StrataMemcachedTests", dependencies: ["StrataMemcached"]),
        .testTarget(name: "StrataPersistenceTests", dependencies: ["StrataPersistence", "TestSupport"]),
        .testTarget(
            name: "StrataDumpTests",
            dependencies: ["StrataDumpKit", "StrataPersistence", "StrataEngine", "RESP"]
        ),
        .testTarget(name: "StrataScriptingTests", dependencies: ["StrataScripting", "StrataEngine"]),
        .testTarget(
            name: "StrataServerTests",
            dependencies: [
                "StrataServer", "StrataEngine", "StrataPersistence", "StrataScripting",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)

// `Tools/fuzz` builds the libFuzzer driver with `STRATA_FUZZ=1` and `-sanitize=fuzzer,address`
// (it links libFuzzer, so it is not part of ordinary builds).
if ProcessInfo.processInfo.environment["STRATA_FUZZ"] != nil {
    package.products.append(.executable(name: "strata-fuzz", targets: ["strata-fuzz"]))
    package.targets.append(
        .executableTarget(
            name: "strata-fuzz", dependencies: ["StrataFuzzTargets", "CLibFuzzer"], path: "Tools/FuzzDriver/Entry"))
    package.targets.append(.target(name: "CLibFuzzer", path: "Tools/FuzzDriver/CLibFuzzer"))
}
