import Foundation
import StrataEngine
import Testing

@testable import StrataPersistence

/// The frozen Strata fixtures of `Fixtures/strata` (see `Fixtures/README.md`), read with
/// today's readers: each must hold exactly ``StrataFixture``'s content, or be refused with
/// exactly the damage it was written with. The files are copied into memory first, so that
/// the loader's repairs never touch them.
@Suite("Strata fixtures")
struct StrataFixtureTests {
    let now = StrataFixture.now
    let prefix = "appendonly.aof"

    /// The fixture files `names` (relative to `Fixtures/strata`), in memory under the same names.
    func inMemory(_ names: [String]) throws -> MemoryFileSystem {
        let memory = MemoryFileSystem()
        for name in names {
            memory.install(try POSIXFileSystem.shared.contents(of: StrataFixture.directory + "/" + name), at: name)
        }
        return memory
    }

    /// The files of the AOF fixture directory `name`.
    func aofFiles(_ name: String, preamble: Bool) -> [String] {
        [
            AOFManifest.manifestName(prefix), AOFManifest.baseName(prefix, sequence: 1, snapshot: preamble),
            AOFManifest.incrementalName(prefix, sequence: 1),
        ].map { name + "/" + $0 }
    }

    @Test(arguments: [
        (CompressionCodec.lz4, SnapshotLayout.lz4, 5), (.zlib, .gzip, 5), (.none, .plain, 0),
    ])
    func aSnapshotHoldsItsContent(codec: CompressionCodec, layout: SnapshotLayout, chunks: Int) throws {
        let name = "dump-\(codec.rawValue).sdb"
        let memory = try inMemory([name])
        let (databases, report) = try SnapshotReader.load(
            path: name, fileSystem: memory, databaseCount: 16, settings: EngineSettings(), now: now)
        expectSameContents(contents(StrataFixture.databases(), now: now), contents(databases, now: now))
        #expect(report.layout == layout)
        #expect(report.keys == 20)
        #expect(report.rdbVersion == 10)
        #expect(report.checksumMatches == true)
        #expect(report.functions == [StrataFixture.library])
        #expect(report.aux["redis-ver"] == "7.0.15" && report.aux["ctime"] == "1800000000")
        #expect(report.index?.chunks.count == (codec == .none ? nil : chunks))
        #expect(report.index?.codec == (codec == .none ? nil : codec.rawValue))
        #expect(databases[0].deadline(Bytes("ttl")) == StrataFixture.deadline)
        #expect(databases[1].deadline(Bytes("db1-ttl")) == StrataFixture.deadline + 1)
        #expect(databases[15].rawEntry(Bytes("last-db"))?.value == .string(Bytes("in database 15")))
    }

    @Test(arguments: [("aof-preamble", true, [0, 8], [20, 0]), ("aof-resp", false, [44, 8], [0, 0])])
    func anAOFDirectoryHoldsItsContent(name: String, preamble: Bool, commands: [Int], snapshotKeys: [Int]) throws {
        let memory = try inMemory(aofFiles(name, preamble: preamble))
        let manifest = try AOFManifest.read(path: name + "/" + AOFManifest.manifestName(prefix), fileSystem: memory)
        #expect(
            manifest.replayOrder.map(\.name)
                == Array(aofFiles(name, preamble: preamble).dropFirst().map { String($0.dropFirst(name.count + 1)) }))
        let engine = Engine()
        let report = try AOFLoader.load(
            directory: name, fileSystem: memory, manifest: manifest, into: engine, now: now, allowTruncatedTail: false)
        expectSameContents(
            contents(StrataFixture.databasesAfterIncrement(), now: now), contents(engine.databases, now: now))
        #expect(report.files.map(\.commands) == commands)
        #expect(report.files.map(\.snapshotKeys) == snapshotKeys)
        #expect(report.lastTimestamp == now / 1000)
        #expect(report.truncatedTail == nil)
        // The base snapshot's library; a base of commands has none.
        let load = ["FUNCTION", "LOAD", "REPLACE"].map { Bytes($0) } + [StrataFixture.library]
        #expect(report.functionCommands == (preamble ? [load] : []))
    }

    @Test func aTruncatedSnapshotIsRefusedAtItsLastChunk() throws {
        let memory = try inMemory(["dump-truncated.sdb"])
        #expect(
            throws: FileDamageError(
                path: "dump-truncated.sdb", offset: 3781, reason: "file ends inside an LZ4 frame (truncated)")
        ) {
            _ = try SnapshotReader.load(
                path: "dump-truncated.sdb", fileSystem: memory, databaseCount: 16, settings: EngineSettings(), now: now)
        }
    }

    @Test func aBitFlipIsFoundInItsChunkAndSalvageSkipsIt() throws {
        let memory = try inMemory(["dump-bitflip.sdb"])
        #expect(
            throws: FileDamageError(
                path: "dump-bitflip.sdb", offset: 736, reason: "damaged chunk (lz4: ERROR_blockChecksum_invalid)")
        ) {
            _ = try SnapshotReader.load(
                path: "dump-bitflip.sdb", fileSystem: memory, databaseCount: 16, settings: EngineSettings(), now: now)
        }
        let (databases, report) = try SnapshotReader.load(
            path: "dump-bitflip.sdb", fileSystem: memory, databaseCount: 16, settings: EngineSettings(), now: now,
            salvage: true)
        #expect(
            report.skipped == [
                .init(fileOffset: 736, fileBytes: 874, reason: "damaged chunk (lz4: ERROR_blockChecksum_invalid)")
            ])
        // The second chunk's five keys are lost, the others kept.
        #expect(report.keys == 15)
        #expect(databases.map(\.count) == [12, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
        let kept = contents(databases, now: now)
        for (key, (value, deadline)) in kept {
            #expect(
                contents(StrataFixture.databases(), now: now)[key].map { $0.0 == value && $0.1 == deadline } == true)
        }
    }

    @Test func anAOFWithATruncatedTailLoadsOnlyWhenAllowed() throws {
        let memory = try inMemory(aofFiles("aof-truncated-tail", preamble: true))
        let manifest = try AOFManifest.read(
            path: "aof-truncated-tail/" + AOFManifest.manifestName(prefix), fileSystem: memory)
        let increment = "aof-truncated-tail/" + AOFManifest.incrementalName(prefix, sequence: 1)
        #expect(
            throws: FileDamageError(
                path: increment, offset: 288,
                reason: "the file ends in the middle of a command (aof-load-truncated is no)")
        ) {
            _ = try AOFLoader.load(
                directory: "aof-truncated-tail", fileSystem: memory, manifest: manifest, into: Engine(), now: now,
                allowTruncatedTail: false)
        }
        let engine = Engine()
        let report = try AOFLoader.load(
            directory: "aof-truncated-tail", fileSystem: memory, manifest: manifest, into: engine, now: now,
            allowTruncatedTail: true)
        #expect(report.truncatedTail?.offset == 288)
        #expect(memory.size(of: increment) == 288, "cut back to its last whole command")
        // Everything but the last command, the deadline of `string`.
        var expected = StrataFixture.databasesAfterIncrement()
        _ = expected[0].removeDeadline(Bytes("string"))
        expectSameContents(contents(expected, now: now), contents(engine.databases, now: now))
    }

    @Test func aBadManifestIsRefusedAtItsLine() throws {
        let memory = try inMemory(["aof-bad-manifest/" + AOFManifest.manifestName(prefix)])
        #expect(
            throws: FileDamageError(
                path: "aof-bad-manifest/appendonly.aof.manifest", offset: 44,
                reason: "invalid manifest line (needs file, seq and type)")
        ) {
            _ = try AOFManifest.read(path: "aof-bad-manifest/" + AOFManifest.manifestName(prefix), fileSystem: memory)
        }
    }
}
