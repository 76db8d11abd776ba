import Foundation
import StrataEngine
import StrataPersistence
import Testing

/// `verify`: good and damaged snapshots (with `--salvage`), good and cut AOF files (with `--fix`).
@Suite("strata-dump verify")
struct VerifyTests {
    @Test func aGoodFileIsOK() {
        let run = strataDump("verify", redisFixture)
        #expect(run.code == 0)
        #expect(run.output == "\(redisFixture): OK, 21 keys, RDB version 10, checksum absent\n")
        #expect(run.error.isEmpty)
        let json = strataDump("verify", redisFixture, "--json")
        #expect(json.code == 0)
        #expect(
            json.output
                == "{\"checksum\":\"absent\",\"chunks\":0,\"file\":\"\(redisFixture)\",\"keys\":21,\"ok\":true,"
                + "\"rdbBytes\":189211,\"rdbVersion\":10}\n")
    }

    /// An LZ4 snapshot of 2000 keys in chunks of 4 KiB, with one byte changed in the middle
    /// (which that chunk's checksum catches).
    func damagedSnapshot(in scratch: ScratchDirectory) throws -> String {
        var databases = Array(repeating: Database(), count: 16)
        for n in 0..<2000 {
            let value = Bytes(Array(repeating: UInt8(truncatingIfNeeded: n), count: 100))
            databases[0].set(Bytes("key:\(n)"), .string(value), accessClock: 0)
        }
        var options = SnapshotOptions()
        options.chunkBytes = 4096
        let path = scratch.file("damaged.sdb")
        _ = try SnapshotWriter.write(databases, to: path, tempPath: path + ".temp", options: options, now: sampleNow)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count / 2] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func aDamagedSnapshotIsReportedWithCode1() throws {
        let scratch = ScratchDirectory()
        let path = scratch.file("dump.sdb")
        try writeSampleSnapshot(to: path, codec: .none)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes.removeLast(bytes.count / 2)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let run = strataDump("verify", path)
        #expect(run.code == 1)
        #expect(run.output.hasPrefix("DAMAGED: \(path) at offset "))
        #expect(run.output.contains(" keys read before it"))
        #expect(run.error.isEmpty)
        let json = strataDump("verify", path, "--json")
        #expect(json.code == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
        #expect(object["ok"] as? Bool == false)
        #expect(object["file"] as? String == path)
        #expect(object["offset"] is Int)
    }

    @Test func salvageKeepsWhatIsReadable() throws {
        let scratch = ScratchDirectory()
        let source = scratch.file("dump.sdb")
        try writeSampleSnapshot(to: source, codec: .lz4)
        let salvaged = scratch.file("salvaged.sdb")
        let good = strataDump("verify", source, "--salvage", salvaged)
        #expect(good.code == 0)
        #expect(good.output == "wrote \(salvaged): 5 keys\n")
        #expect(strataDump("verify", salvaged).code == 0)
        // A damaged chunk: its records are lost, the others kept, and the exit code is 1.
        let damaged = try damagedSnapshot(in: scratch)
        let partial = strataDump("verify", damaged, "--salvage", scratch.file("partial.sdb"), "--codec", "zlib")
        #expect(partial.code == 1)
        #expect(partial.output.hasPrefix("lost "))
        let lines = partial.output.split(separator: "\n")
        #expect(lines.last?.hasPrefix("wrote \(scratch.file("partial.sdb")): ") == true)
        let kept = Int(lines.last?.split(separator: " ").dropLast().last ?? "") ?? 0
        #expect(kept > 1000 && kept < 2000)
        #expect(strataDump("verify", scratch.file("partial.sdb")).code == 0)
    }

    @Test func aGoodAndACutAppendOnlyFile() throws {
        let scratch = ScratchDirectory()
        let path = scratch.file("appendonly.aof")
        try writeAppendOnlyFile([["SELECT", "0"], ["SET", "a", "1"], ["SET", "b", "2"]], to: path)
        let good = strataDump("verify", path)
        #expect(good.code == 0)
        #expect(good.output == "\(path): 3 commands, OK\n")
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        try whole.prefix(whole.count - 3).write(to: URL(fileURLWithPath: path))
        let cut = strataDump("verify", path)
        #expect(cut.code == 1)
        #expect(
            cut.output
                == "\(path): 2 commands; TRUNCATED at offset 50 of \(whole.count - 3): the file ends in the middle of a command\n"
        )
        let fixed = strataDump("verify", path, "--fix")
        #expect(fixed.code == 0)
        #expect(
            fixed.output.hasSuffix(
                "\n  fixed: cut at offset 50 (\(whole.count - 3 - 50) bytes dropped), original kept as \(path).broken\n"
            ))
        #expect(strataDump("verify", path).code == 0)
        #expect(FileManager.default.fileExists(atPath: path + ".broken"))
        let salvage = strataDump("verify", path, "--salvage", scratch.file("x"))
        #expect(salvage.code == 2)
        #expect(salvage.error.hasPrefix("strata-dump: --salvage is for snapshots; AOF files take --fix\n"))
    }
}
