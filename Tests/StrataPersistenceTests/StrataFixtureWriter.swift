import Foundation
import StrataEngine
import Testing

@testable import StrataPersistence

/// Writes the Strata fixtures into `Fixtures/strata` from ``StrataFixture``. Not a test: it
/// runs only when `STRATA_WRITE_FIXTURES=1` (see `Fixtures/make-strata-fixtures.sh`), once,
/// and its output is committed. Rewriting the fixtures is only right when the format
/// changes on purpose, with a new reader for the old files.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["STRATA_WRITE_FIXTURES"] == "1"))
struct StrataFixtureWriter {
    let directory = StrataFixture.directory
    let prefix = "appendonly.aof"

    func snapshotOptions(_ codec: CompressionCodec, chunkBytes: Int) -> SnapshotOptions {
        var options = SnapshotOptions()
        options.codec = codec
        options.chunkBytes = chunkBytes
        options.functions = [StrataFixture.library]
        return options
    }

    func bytes(_ name: String) throws -> [UInt8] {
        try POSIXFileSystem.shared.contents(of: directory + "/" + name)
    }

    func write(_ bytes: [UInt8], _ name: String) throws {
        try DurableFile.write(bytes, to: directory + "/" + name)
    }

    @Test func writeFixtures() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // Snapshots in every codec, in chunks of 1 KiB so that the framed ones have several.
        for codec in CompressionCodec.allCases {
            _ = try SnapshotWriter.write(
                StrataFixture.databases(), to: directory + "/dump-\(codec.rawValue).sdb",
                tempPath: directory + "/temp.sdb", options: snapshotOptions(codec, chunkBytes: 1024),
                now: StrataFixture.now)
        }
        // AOF directories as the server lays them out, with and without an RDB preamble.
        for (name, preamble) in [("aof-preamble", true), ("aof-resp", false)] {
            let aof = directory + "/" + name
            try FileManager.default.createDirectory(atPath: aof, withIntermediateDirectories: true)
            let base = AOFManifest.baseName(prefix, sequence: 1, snapshot: preamble)
            let increment = AOFManifest.incrementalName(prefix, sequence: 1)
            _ = try AOFBaseWriter.write(
                StrataFixture.databases(), tempPath: aof + "/" + base, snapshot: preamble,
                options: snapshotOptions(.lz4, chunkBytes: 256 * 1024), now: StrataFixture.now)
            try write(StrataFixture.incrementBytes(), name + "/" + increment)
            try AOFManifest(
                base: .init(name: base, sequence: 1, type: .base),
                incrementals: [.init(name: increment, sequence: 1, type: .incremental)]
            ).write(to: aof + "/" + AOFManifest.manifestName(prefix))
        }
        try writeDamagedFixtures()
    }

    /// A snapshot cut in its last chunk, a snapshot with one bit flipped in its second
    /// chunk, an AOF whose incremental file ends mid-command, and a manifest missing a field.
    func writeDamagedFixtures() throws {
        let lz4 = try bytes("dump-lz4.sdb")
        let head = try SnapshotIndexLocator.head(path: directory + "/dump-lz4.sdb")
        let chunks = try #require(head.index?.chunks)
        let last = try #require(chunks.last)
        try write(Array(lz4[..<(last.fileOffset + last.fileBytes / 2)]), "dump-truncated.sdb")
        var flipped = lz4
        flipped[chunks[1].fileOffset + chunks[1].fileBytes / 2] ^= 0x10
        try write(flipped, "dump-bitflip.sdb")

        let truncated = directory + "/aof-truncated-tail"
        try FileManager.default.createDirectory(atPath: truncated, withIntermediateDirectories: true)
        for name in [AOFManifest.manifestName(prefix), AOFManifest.baseName(prefix, sequence: 1, snapshot: true)] {
            try write(try bytes("aof-preamble/" + name), "aof-truncated-tail/" + name)
        }
        let increment = AOFManifest.incrementalName(prefix, sequence: 1)
        let log = try bytes("aof-preamble/" + increment)
        try write(Array(log.dropLast(7)), "aof-truncated-tail/" + increment)

        // Only the manifest: loading stops at it.
        let badManifest = directory + "/aof-bad-manifest"
        try FileManager.default.createDirectory(atPath: badManifest, withIntermediateDirectories: true)
        let base = AOFManifest.baseName(prefix, sequence: 1, snapshot: false)
        try write(
            Array("file \(base) seq 1 type b\nfile \(increment) seq 1\n".utf8),
            "aof-bad-manifest/" + AOFManifest.manifestName(prefix))
    }
}
