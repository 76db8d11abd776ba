import Foundation
import Testing

/// `restore --into` (a data directory) and the failures of `restore --to` and `backup`
/// without a server.
@Suite("strata-dump restore and backup")
struct RestoreTests {
    @Test func installsADumpIntoADataDirectory() throws {
        let scratch = ScratchDirectory()
        let target = scratch.file("data")
        let run = strataDump("restore", redisFixture, "--into", target)
        #expect(run.code == 0)
        let size = try #require(
            try FileManager.default.attributesOfItem(atPath: target + "/dump.sdb")[.size] as? Int)
        #expect(run.output.hasPrefix("installed \(target)/dump.sdb: 21 keys, "))
        #expect(run.output.hasSuffix(" KB\n") && size > 1024)
        #expect(strataDump("verify", target + "/dump.sdb").output.hasPrefix("\(target)/dump.sdb: OK, 21 keys"))

        let refused = strataDump("restore", redisFixture, "--into", target)
        #expect(refused.code == 1)
        #expect(
            refused.error == "strata-dump: \(target) is not empty (dump.sdb); give --force to replace dump.sdb in it\n")

        let filtered = strataDump(
            "restore", redisFixture, "--into", target, "--force", "--db", "5", "--match", "*hash", "--dbfilename",
            "dump.rdb")
        #expect(filtered.code == 0)
        #expect(filtered.output.hasPrefix("installed \(target)/dump.rdb: 1 keys, "))
        #expect(try FileManager.default.contentsOfDirectory(atPath: target).sorted() == ["dump.rdb", "dump.sdb"])
    }

    @Test func restoresAnAppendOnlyFileUpToAMoment() throws {
        let scratch = ScratchDirectory()
        let aof = scratch.file("appendonly.aof")
        var bytes = Array("#TS:1800000000\r\n".utf8)
        bytes += respCommand("SELECT", "0") + respCommand("SET", "first", "1")
        bytes += Array("#TS:1800000100\r\n".utf8) + respCommand("SET", "second", "2")
        try Data(bytes).write(to: URL(fileURLWithPath: aof))
        let target = scratch.file("then")
        let run = strataDump("restore", aof, "--into", target, "--until", "2027-01-15T08:01:00Z")
        #expect(run.code == 0)
        #expect(
            run.output
                == "installed \(target)/dump.sdb: 1 keys, \(try sizeText(target + "/dump.sdb")); "
                + "stopped before the log of 2027-01-15T08:01:40Z; last replayed: 2027-01-15T08:00:00Z\n")
    }

    func sizeText(_ path: String) throws -> String {
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        return "\(size) B"
    }

    @Test func aServerThatCannotBeReachedFailsWithCode1() throws {
        let restore = strataDump("restore", redisFixture, "--to", "127.0.0.1:1")
        #expect(restore.code == 1)
        #expect(restore.error == "strata-dump: 127.0.0.1:1: Connection refused\n")
        let scratch = ScratchDirectory()
        let backup = strataDump("backup", "--from", "127.0.0.1:1", "--out", scratch.file("b"))
        #expect(backup.code == 1)
        #expect(backup.error == "strata-dump: backup from 127.0.0.1:1 failed: 127.0.0.1:1: Connection refused\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.file("b")).isEmpty)
    }
}
