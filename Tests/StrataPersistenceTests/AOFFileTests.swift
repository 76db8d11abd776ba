import Foundation
import NIOCore
import StrataEngine
import Testing

@testable import StrataPersistence

/// RESP text of `commands`.
func resp(_ commands: [[String]]) -> [UInt8] {
    var buffer = ByteBufferAllocator().buffer(capacity: 256)
    for command in commands { AOFEncoding.append(command.map { Bytes($0) }, to: &buffer) }
    return Array(buffer.readableBytesView)
}

@Suite("AOF files")
struct AOFFileTests {
    let now: Int64 = 1_800_000_000_000

    @Test func manifestRoundTripsInRedisSyntax() throws {
        let manifest = AOFManifest(
            base: .init(name: "appendonly.aof.3.base.rdb", sequence: 3, type: .base),
            incrementals: [
                .init(name: "appendonly.aof.4.incr.aof", sequence: 4, type: .incremental),
                .init(name: "appendonly.aof.5.incr.aof", sequence: 5, type: .incremental),
            ],
            history: [.init(name: "appendonly.aof.2.base.rdb", sequence: 2, type: .history)])
        let text = manifest.serialized()
        #expect(text.hasPrefix("file appendonly.aof.3.base.rdb seq 3 type b\n"))
        #expect(try AOFManifest.parse(text, path: "m") == manifest)
        #expect(manifest.nextBaseSequence == 4)
        #expect(manifest.nextIncrementalSequence == 6)
        // Keys in any order, comments, quoted names (as Redis's sdssplitargs).
        let other = try AOFManifest.parse(
            "# comment\ntype i seq 1 file \"my file.aof\"\n\nfile b.rdb type b seq 1\n", path: "m")
        #expect(other.base?.name == "b.rdb")
        #expect(other.incrementals.first?.name == "my file.aof")
        #expect(AOFManifest.quoted("my file.aof") == "\"my file.aof\"")
    }

    @Test func manifestRejectsWhatRedisRejects() {
        for bad in [
            "", "file a seq 1\n", "file a seq x type i\n", "file a seq 1 type z\n",
            "file a seq 1 type b\nfile b seq 2 type b\n", "file a seq 2 type i\nfile b seq 1 type i\n",
            "file \"a seq 1 type i\n", "file ../a seq 1 type i\n",
        ] {
            #expect(throws: FileDamageError.self, "\(bad)") { try AOFManifest.parse(bad, path: "m") }
        }
    }

    @Test func readerDeliversCommandsTransactionsAndSkipsAnnotations() throws {
        let directory = TempDirectory()
        let path = directory.file("a.aof")
        var bytes = Array("#TS:1700000000\r\n".utf8)
        bytes += resp([["SET", "a", "1"], ["MULTI"], ["INCR", "a"], ["INCR", "a"], ["EXEC"], ["DEL", "b"]])
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        var seen: [[String]] = []
        let result = try AOFCommandReader.read(path: path) { seen.append($0.map(\.string)) }
        #expect(seen == [["SET", "a", "1"], ["INCR", "a"], ["INCR", "a"], ["DEL", "b"]])
        #expect(result.validBytes == bytes.count)
        #expect(result.truncation == nil)
        #expect(result.lastTimestamp == 1_700_000_000)
    }

    @Test func readerReportsATruncatedTailWithTheLastGoodOffset() throws {
        let directory = TempDirectory()
        let path = directory.file("a.aof")
        let whole = resp([["SET", "a", "1"], ["SET", "b", "2"]])
        let partial = Array(resp([["SET", "c", "3"]]).prefix(9))
        for tail in [partial, Array("*".utf8), resp([["MULTI"], ["INCR", "a"]])] {
            try Data(whole + tail).write(to: URL(fileURLWithPath: path))
            var count = 0
            let result = try AOFCommandReader.read(path: path) { _ in count += 1 }
            #expect(count == 2, "a cut transaction is not applied")
            #expect(result.validBytes == whole.count)
            #expect(result.truncation != nil)
        }
    }

    @Test func readerNamesTheOffsetOfDamageInTheMiddle() throws {
        let directory = TempDirectory()
        let path = directory.file("a.aof")
        let first = resp([["SET", "a", "1"]])
        let bytes = first + Array("garbage\r\n".utf8) + resp([["SET", "b", "2"]])
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try AOFCommandReader.read(path: path) { _ in }
        } throws: { error in
            (error as? FileDamageError)?.offset == first.count
        }
        let badLength = first + Array("*1\r\n$x\r\n".utf8) + resp([["SET", "b", "2"]])
        try Data(badLength).write(to: URL(fileURLWithPath: path))
        #expect(throws: FileDamageError.self) { _ = try AOFCommandReader.read(path: path) { _ in } }
    }

    @Test func loaderCutsATruncatedLastFileAndRefusesOtherwise() throws {
        let directory = TempDirectory()
        let whole = resp([["SELECT", "0"], ["SET", "a", "1"]])
        let partial = whole + Array(resp([["SET", "b", "2"]]).prefix(12))
        let name = "appendonly.aof.1.incr.aof"
        let manifest = AOFManifest(incrementals: [.init(name: name, sequence: 1, type: .incremental)])
        try Data(partial).write(to: URL(fileURLWithPath: directory.file(name)))
        #expect(throws: FileDamageError.self) {
            _ = try AOFLoader.load(
                directory: directory.path, manifest: manifest, into: Engine(), now: now, allowTruncatedTail: false)
        }
        let engine = Engine()
        let report = try AOFLoader.load(
            directory: directory.path, manifest: manifest, into: engine, now: now, allowTruncatedTail: true)
        #expect(report.truncatedTail?.offset == whole.count)
        #expect(AOFLoader.fileSize(directory.file(name)) == whole.count)
        #expect(engine.databases[0].count == 1)
        // A truncated file that is not the last one is damage.
        let two = AOFManifest(incrementals: [
            .init(name: name, sequence: 1, type: .incremental),
            .init(name: "appendonly.aof.2.incr.aof", sequence: 2, type: .incremental),
        ])
        try Data(partial).write(to: URL(fileURLWithPath: directory.file(name)))
        try Data(whole).write(to: URL(fileURLWithPath: directory.file("appendonly.aof.2.incr.aof")))
        #expect(throws: FileDamageError.self) {
            _ = try AOFLoader.load(
                directory: directory.path, manifest: two, into: Engine(), now: now, allowTruncatedTail: true)
        }
    }

    @Test func unknownCommandsAreDamage() throws {
        let directory = TempDirectory()
        let name = "x.aof"
        try Data(resp([["SET", "a", "1"], ["NOSUCH", "x"]])).write(to: URL(fileURLWithPath: directory.file(name)))
        let manifest = AOFManifest(incrementals: [.init(name: name, sequence: 1, type: .incremental)])
        #expect {
            _ = try AOFLoader.load(
                directory: directory.path, manifest: manifest, into: Engine(), now: now, allowTruncatedTail: true)
        } throws: { error in
            guard let error = error as? FileDamageError else { return false }
            return error.offset == resp([["SET", "a", "1"]]).count && error.reason.contains("unknown command")
        }
    }

    @Test(arguments: [true, false])
    func baseRoundTripsEveryType(snapshot: Bool) throws {
        let directory = TempDirectory()
        let databases = sampleDatabases(now: now)
        let base = snapshot ? "appendonly.aof.1.base.rdb" : "appendonly.aof.1.base.aof"
        var options = SnapshotOptions()
        options.codec = .lz4
        _ = try AOFBaseWriter.write(
            databases, tempPath: directory.file(base), snapshot: snapshot, options: options, now: now)
        #expect(AOFLoader.startsWithSnapshot(directory.file(base)) == snapshot)
        let manifest = try writeIncrement(
            resp([["SELECT", "2"], ["SET", "after", "base"]]), after: base, in: directory)
        let engine = Engine()
        _ = try AOFLoader.load(
            directory: directory.path, manifest: manifest, into: engine, now: now, allowTruncatedTail: false)
        var expected = contents(databases, now: now)
        expected["2/\(Array("after".utf8))"] = (.string(Bytes("base")), nil)
        let actual = contents(engine.databases, now: now)
        expectSameContents(expected, actual)
    }

    @Test func oldSingleFileWithAnRDBPreambleLoadsBothParts() throws {
        let directory = TempDirectory()
        let name = "appendonly.aof"
        var options = SnapshotOptions()
        options.codec = .none
        _ = try SnapshotWriter.write(
            sampleDatabases(now: now), to: directory.file(name), tempPath: directory.file("t"), options: options,
            now: now)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: directory.file(name)))
        handle.seekToEndOfFile()
        handle.write(Data(resp([["SELECT", "0"], ["SET", "tail", "yes"]])))
        try handle.close()
        let engine = Engine()
        let manifest = AOFManifest(base: .init(name: name, sequence: 1, type: .base))
        let report = try AOFLoader.load(
            directory: directory.path, manifest: manifest, into: engine, now: now, allowTruncatedTail: false)
        #expect(report.files.first?.commands == 2)
        #expect(
            engine.databases[0].count == contents(sampleDatabases(now: now), now: now).keys.filter {
                $0.hasPrefix("0/")
            }.count + 1)
    }

    @Test func verifierFindsAndCutsADamagedTail() throws {
        let directory = TempDirectory()
        let path = directory.file("a.aof")
        let whole = resp([["SET", "a", "1"]])
        let tail = Array("*2\r\n$3\r\nSE".utf8)
        try Data(whole + tail).write(to: URL(fileURLWithPath: path))
        let check = AOFVerifier.check(path: path)
        #expect(check.truncated)
        #expect(check.validBytes == whole.count)
        try AOFVerifier.cut(path: path, at: check.validBytes)
        #expect(AOFLoader.fileSize(path) == whole.count)
        #expect(AOFLoader.fileSize(path + ".broken") == whole.count + tail.count)
        #expect(AOFVerifier.check(path: path).problem == nil)
    }
}

/// Writes `log` as the increment that follows the base file `base` in `directory` and
/// returns the manifest listing both.
func writeIncrement<Log: Sequence>(_ log: Log, after base: String, in directory: TempDirectory) throws -> AOFManifest
where Log.Element == UInt8 {
    let incr = "appendonly.aof.1.incr.aof"
    try Data(log).write(to: URL(fileURLWithPath: directory.file(incr)))
    return AOFManifest(
        base: .init(name: base, sequence: 1, type: .base),
        incrementals: [.init(name: incr, sequence: 1, type: .incremental)])
}
