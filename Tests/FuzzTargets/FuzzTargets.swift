//! The bodies of Strata's fuzz targets: each takes arbitrary bytes and drives one reader of
//! untrusted input (the RESP request and reply parsers, the snapshot reader over Strata and plain RDB
//! files, the AOF loader, the manifest parser, the ACL rule parser, the cluster bus and `nodes.conf`, the memcached text protocol). A target returns normally for any input the
//! reader rejects with an error; it traps (and the fuzzer reports a crash) only when the
//! reader crashes, hangs, or breaks one of the properties checked here.
//!
//! The same bodies serve two drivers: `Tools/fuzz` links them with libFuzzer, and the
//! `FuzzReplayTests` test target replays the committed corpora through them in `make test`.

import Foundation
import NIOCore
import RESP
import StrataEngine
import StrataPersistence
import StrataServer

/// One fuzz target.
public struct FuzzTarget: Sendable {
    /// Its name: the corpus folder under `Tests/FuzzCorpus` and the `Tools/fuzz` argument.
    public let name: String
    /// Runs one input.
    public let run: @Sendable (UnsafeRawBufferPointer) -> Void

    /// Every target, by name.
    public static let all: [FuzzTarget] = [
        FuzzTarget(name: "resp") { RESPFuzzing.run($0) },
        FuzzTarget(name: "resp-reply") { RESPReplyFuzzing.run($0) },
        FuzzTarget(name: "snapshot") { SnapshotFuzzing.run($0) },
        FuzzTarget(name: "rdb") { SnapshotFuzzing.run($0) },
        FuzzTarget(name: "aof") { AOFFuzzing.run($0) },
        FuzzTarget(name: "manifest") { ManifestFuzzing.run($0) },
        FuzzTarget(name: "acl-rules") { ACLRuleFuzzing.run($0) },
        FuzzTarget(name: "cluster-bus") { ClusterBusFuzzing.run($0) },
        FuzzTarget(name: "nodes-conf") { NodesConfigFuzzing.run($0) },
        FuzzTarget(name: "memcached-text") { MemcachedFuzzing.run($0) },
    ]

    /// The target called `name`, if there is one.
    public static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }
}

/// A scratch directory per process for the targets whose readers take paths.
enum FuzzScratch {
    /// `/dev/shm` when it exists (no disk writes per input), else the temporary directory.
    static let directory: String = {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let path = "\(base)/strata-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    /// Writes `data` to `name` in the scratch directory and returns its path.
    static func write(_ data: UnsafeRawBufferPointer, to name: String) -> String {
        let path = directory + "/" + name
        let written = FileManager.default.createFile(atPath: path, contents: Data(data))
        precondition(written, "cannot write \(path)")
        return path
    }
}

extension EngineSettings {
    /// Compact-encoding limits small enough that fuzzed inputs cross them (conversions between
    /// encodings get exercised), and strings capped at 1 MiB so that a fuzzed `SETRANGE` or
    /// `APPEND` cannot spend the fuzzer's memory.
    static let smallForFuzzing: EngineSettings = {
        var settings = EngineSettings()
        settings.maxStringLength = 1 << 20
        settings.hashLimits.maxListpackEntries = 4
        settings.hashLimits.maxListpackValue = 8
        settings.setLimits.maxIntsetEntries = 4
        settings.sortedSetLimits.maxListpackEntries = 4
        settings.sortedSetLimits.maxListpackValue = 8
        return settings
    }()
}
