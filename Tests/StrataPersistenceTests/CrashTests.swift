import Foundation
import StrataEngine
import Testing

@testable import StrataPersistence

/// What a crash leaves is what loads: a snapshot or an AOF cut at every byte of its last
/// record (as a crash while writing it leaves it), and appends lost or torn by a power cut.
@Suite("Crashes")
struct CrashTests {
    let now: Int64 = 1_800_000_000_000

    /// Every key of `engine` as `db/key=value`, sorted.
    static func dump(_ databases: [Database], now: Int64) -> [String] {
        contents(databases, now: now).map { "\($0.key)=\($0.value.0.stringBytes?.string ?? "\($0.value.0.typeName)")" }
            .sorted()
    }

    /// A snapshot of `smallDatabases` in `codec`, in chunks of a few records, and its report.
    func snapshot(_ codec: CompressionCodec) throws -> (bytes: [UInt8], report: SnapshotReport) {
        let memory = MemoryFileSystem()
        var options = SnapshotOptions()
        options.codec = codec
        options.chunkBytes = 64
        _ = try SnapshotWriter.write(
            smallDatabases(now: now), to: "dump.sdb", tempPath: "temp.sdb", fileSystem: memory, options: options,
            now: now)
        let report = try SnapshotReader.read(path: "dump.sdb", fileSystem: memory, settings: EngineSettings(), now: now)
        { _, _, _, _ in }
        return (memory.bytes(at: "dump.sdb") ?? [], report)
    }

    /// Reads `bytes` as a snapshot file.
    func read(_ bytes: [UInt8], salvage: Bool = false) throws -> (keys: [String], report: SnapshotReport) {
        let memory = MemoryFileSystem()
        memory.install(bytes, at: "dump.sdb")
        var keys: [String] = []
        let report = try SnapshotReader.read(
            path: "dump.sdb", fileSystem: memory, settings: EngineSettings(), now: now, salvage: salvage
        ) { db, key, _, _ in keys.append("\(db)/\(key.string)") }
        return (keys, report)
    }

    @Test(arguments: [CompressionCodec.lz4, .zlib])
    func aFramedSnapshotCutInItsLastChunkOrIndexIsRefused(codec: CompressionCodec) throws {
        let (bytes, report) = try snapshot(codec)
        let chunks = try #require(report.index?.chunks)
        let last = try #require(chunks.last)
        let indexStart = last.fileOffset + last.fileBytes
        let keysBeforeLast = chunks.dropLast().reduce(0) { $0 + $1.keys }
        #expect(chunks.count > 3 && indexStart < bytes.count)
        let previousChunkStart = chunks[chunks.count - 2].fileOffset
        for cut in last.fileOffset..<bytes.count {
            if cut == indexStart {
                // Whole chunks without the index: the index is optional, every key loads.
                let whole = try read(Array(bytes[..<cut]))
                #expect(whole.keys.count == report.keys && whole.report.index == nil, "cut at \(cut)")
                continue
            }
            // The damage is reported in the cut frame, or (the last chunk missing whole) in
            // the chunk before it, whose stream has no end.
            #expect("cut at \(cut)") {
                _ = try read(Array(bytes[..<cut]))
            } throws: { error in
                guard let damage = error as? FileDamageError else { return false }
                return cut < indexStart
                    ? damage.offset >= previousChunkStart && damage.offset <= cut
                    : damage.offset >= indexStart && damage.offset <= cut
            }
            // Salvage skips the cut frame; a cut index costs nothing, a cut last chunk its keys and
            // the end of the stream, which salvage cannot do without.
            if cut > indexStart {
                let salvaged = try read(Array(bytes[..<cut]), salvage: true)
                #expect(salvaged.keys.count == report.keys, "cut at \(cut)")
                #expect(salvaged.report.skipped.map(\.fileOffset) == [indexStart], "cut at \(cut)")
            } else {
                var delivered = 0
                let memory = MemoryFileSystem()
                memory.install(Array(bytes[..<cut]), at: "dump.sdb")
                #expect("salvage of cut at \(cut)") {
                    _ = try SnapshotReader.read(
                        path: "dump.sdb", fileSystem: memory, settings: EngineSettings(), now: now, salvage: true
                    ) { _, _, _, _ in delivered += 1 }
                } throws: { error in
                    (error as? FileDamageError)?.reason.contains("unexpected end of data") == true
                }
                #expect(delivered == keysBeforeLast, "salvage of cut at \(cut) delivered the whole chunks")
            }
        }
    }

    @Test func aPlainSnapshotCutInItsLastRecordIsRefusedAtTheCut() throws {
        let (bytes, report) = try snapshot(.none)
        #expect(try read(bytes).keys.count == report.keys)
        // The last 40 bytes: the CRC-64 (8), the EOF opcode and the last record (or more: the
        // records come in hash order).
        var deliveredBefore: [Int] = []
        for cut in (bytes.count - 40)..<bytes.count {
            var delivered = 0
            let memory = MemoryFileSystem()
            memory.install(Array(bytes[..<cut]), at: "dump.sdb")
            #expect("cut at \(cut)") {
                _ = try SnapshotReader.read(
                    path: "dump.sdb", fileSystem: memory, settings: EngineSettings(), now: now, salvage: true
                ) { _, _, _, _ in delivered += 1 }
            } throws: { error in
                let damage = error as? FileDamageError
                return damage?.offset == cut && damage?.reason.contains("unexpected end of data") == true
            }
            deliveredBefore.append(delivered)
        }
        // Every whole record before the cut is delivered, and none after it.
        #expect(deliveredBefore == deliveredBefore.sorted())
        #expect(deliveredBefore.first.map { $0 < report.keys } == true, "the last record is cut at first")
        #expect(deliveredBefore.suffix(9).allSatisfy { $0 == report.keys }, "a cut in the CRC or EOF loses no key")
    }

    /// `db/key` as `contents` names it.
    static func name(_ db: Int, _ key: String) -> String { "\(db)/\(Array(key.utf8))" }

    /// A base written from `smallDatabases` (snapshot or commands) in `aof/` on `memory`,
    /// followed by an incremental file holding `log`; the manifest listing both.
    func aofDirectory(on memory: MemoryFileSystem, preamble: Bool, log: [UInt8]) throws -> AOFManifest {
        let base = preamble ? "appendonly.aof.1.base.rdb" : "appendonly.aof.1.base.aof"
        _ = try AOFBaseWriter.write(
            smallDatabases(now: now), tempPath: "aof/" + base, fileSystem: memory, snapshot: preamble,
            options: SnapshotOptions(), now: now)
        memory.install(log, at: "aof/appendonly.aof.1.incr.aof")
        return AOFManifest(
            base: .init(name: base, sequence: 1, type: .base),
            incrementals: [.init(name: "appendonly.aof.1.incr.aof", sequence: 1, type: .incremental)])
    }

    @Test(arguments: [true, false])
    func anAOFCutInItsLastCommandOrTransactionLoadsWhatIsWhole(preamble: Bool) throws {
        let commands = [
            ["SELECT", "1"], ["SET", "a", "1"], ["MULTI"], ["SET", "b", "2"], ["INCR", "c"], ["EXEC"],
            ["SET", "last", "value"],
        ]
        let log = resp(commands)
        let multiStart = resp(Array(commands.prefix(2))).count
        let lastStart = resp(Array(commands.dropLast())).count
        let base = Set(contents(smallDatabases(now: now), now: now).keys)
        for cut in multiStart..<log.count {
            let whole = cut < lastStart ? multiStart : lastStart
            var expected = base.union([CrashTests.name(1, "a")])
            if cut >= lastStart { expected.formUnion([CrashTests.name(1, "b"), CrashTests.name(1, "c")]) }
            let memory = MemoryFileSystem()
            let manifest = try aofDirectory(on: memory, preamble: preamble, log: Array(log[..<cut]))
            if cut != whole {
                #expect("cut at \(cut)") {
                    _ = try AOFLoader.load(
                        directory: "aof", fileSystem: memory, manifest: manifest, into: Engine(), now: now,
                        allowTruncatedTail: false)
                } throws: { error in
                    guard let damage = error as? FileDamageError else { return false }
                    return damage.offset == whole && damage.reason.hasSuffix("(aof-load-truncated is no)")
                        && damage.path == "aof/appendonly.aof.1.incr.aof"
                }
            }
            let engine = Engine()
            let report = try AOFLoader.load(
                directory: "aof", fileSystem: memory, manifest: manifest, into: engine, now: now,
                allowTruncatedTail: true)
            #expect(Set(contents(engine.databases, now: now).keys) == expected, "cut at \(cut)")
            #expect(report.truncatedTail?.offset == (cut == whole ? nil : whole), "cut at \(cut)")
            #expect(memory.size(of: "aof/appendonly.aof.1.incr.aof") == whole, "the partial command is cut off")
        }
    }

    @Test func appendsLostOrTornByAPowerCutLoadUpToTheLastWholeCommand() throws {
        let first = resp([["SET", "k1", "v1"]])
        let second = resp([["SET", "k2", "v2"]])
        let third = resp([["SET", "k3", "v3"]])
        for keep in -1..<third.count {
            let memory = MemoryFileSystem()
            let fileSystem = FaultInjectingFileSystem(wrapping: memory)
            let manifest = AOFManifest(incrementals: [
                .init(name: "appendonly.aof.1.incr.aof", sequence: 1, type: .incremental)
            ])
            try manifest.write(to: "aof/appendonly.aof.manifest", fileSystem: fileSystem)
            let file = try AOFAppendFile(path: "aof/appendonly.aof.1.incr.aof", fileSystem: fileSystem)
            fileSystem.syncDirectory("aof")
            #expect(first.withUnsafeBytes { file.append($0) }.error == nil)
            #expect(file.sync() == nil)
            #expect(second.withUnsafeBytes { file.append($0) }.error == nil)
            var expected = [CrashTests.name(0, "k1")]
            if keep >= 0 {
                // The third write is torn: `keep` bytes reach the disk, with what came before.
                fileSystem.faults.arm(FileFault(operation: .write, action: .tear(keeping: keep), remaining: 1))
                #expect(third.withUnsafeBytes { file.append($0) }.error?.code == EIO)
                expected.append(CrashTests.name(0, "k2"))
            }
            memory.crash()
            let engine = Engine()
            let report = try AOFLoader.load(
                directory: "aof", fileSystem: memory,
                manifest: try AOFManifest.read(path: "aof/appendonly.aof.manifest", fileSystem: memory), into: engine,
                now: now, allowTruncatedTail: true)
            #expect(contents(engine.databases, now: now).keys.sorted() == expected.sorted(), "kept \(keep)")
            let whole = first.count + (keep >= 0 ? second.count : 0)
            #expect(report.truncatedTail?.offset == (keep > 0 ? whole : nil), "kept \(keep)")
            #expect(memory.size(of: "aof/appendonly.aof.1.incr.aof") == whole)
        }
    }

    @Test(arguments: CompressionCodec.allCases)
    func aSnapshotTornAtAnyWriteLeavesTheOldSnapshot(codec: CompressionCodec) throws {
        var options = SnapshotOptions()
        options.codec = codec
        options.chunkBytes = 64
        let old = smallDatabases(now: now, keys: 4)
        let new = smallDatabases(now: now)
        let probe = MemoryFileSystem()
        let chunks = try SnapshotWriter.write(
            new, to: "d/dump.sdb", tempPath: "d/temp.sdb", fileSystem: probe, options: options, now: now
        ).chunks
        let writes = codec == .none ? chunks : chunks + 1  // the index frame is one more write
        for skip in 0..<writes {
            let memory = MemoryFileSystem()
            let fileSystem = FaultInjectingFileSystem(wrapping: memory)
            _ = try SnapshotWriter.write(
                old, to: "d/dump.sdb", tempPath: "d/temp.sdb", fileSystem: fileSystem, options: options, now: now)
            fileSystem.faults.arm(FileFault(operation: .write, action: .tear(keeping: 5), remaining: 1, skip: skip))
            #expect(throws: DurableFileError.self) {
                _ = try SnapshotWriter.write(
                    new, to: "d/dump.sdb", tempPath: "d/temp.sdb", fileSystem: fileSystem, options: options, now: now)
            }
            memory.crash()
            let loaded = try SnapshotReader.load(
                path: "d/dump.sdb", fileSystem: memory, databaseCount: 4, settings: EngineSettings(), now: now)
            expectSameContents(contents(old, now: now), contents(loaded.databases, now: now))
        }
    }
}
