import Foundation
import StrataEngine
import StrataPersistence
import Testing

/// `FUNCTION DUMP` / `RESTORE` payloads and the snapshot's `FUNCTION2` records.
@Suite struct FunctionPayloadTests {
    let codes = [
        Bytes("#!lua name=a\nredis.register_function('f', function() return 1 end)"), Bytes("#!lua name=b\n--"),
    ]

    @Test func payloadsRoundTrip() throws {
        #expect(try FunctionPayload.decode(FunctionPayload.encode(codes)) == codes)
        #expect(try FunctionPayload.decode(FunctionPayload.encode([])) == [])
    }

    @Test func aRedisPayloadIsRead() throws {
        // FUNCTION DUMP of redis-server 7.0.15 after loading this library.
        let code = Bytes("#!lua name=x\nredis.register_function('f', function() return 1 end)")
        let hex =
            "f5404223216c7561206e616d653d780a72656469732e72656769737465725f66756e6374696f6e282766272c2066756e6374696f6e28292072657475726e203120656e64290a0024df6f43a8d16ed9"
        var payload: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            payload.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        #expect(try FunctionPayload.decode(Bytes(payload)) == [code])
    }

    @Test func damagedPayloadsAreRefused() {
        var damaged = FunctionPayload.encode(codes).array
        damaged[5] ^= 1
        #expect(throws: PayloadError("ERR DUMP payload version or checksum are wrong")) {
            try FunctionPayload.decode(Bytes(damaged))
        }
        #expect(throws: PayloadError("ERR DUMP payload version or checksum are wrong")) {
            try FunctionPayload.decode(Bytes("junk"))
        }
    }

    @Test func snapshotsCarryFunctions() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "fn-\(UInt32.random(in: 0...UInt32.max))"
        ).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var options = SnapshotOptions()
        options.functions = codes
        var database = Database()
        database.set(Bytes("k"), .string(Bytes("v")), deadline: nil, accessClock: 0)
        _ = try SnapshotWriter.write(
            [database], to: directory + "/dump.sdb", tempPath: directory + "/t", options: options, now: 0)
        let (_, report) = try SnapshotReader.load(
            path: directory + "/dump.sdb", databaseCount: 1, settings: EngineSettings(), now: 0)
        #expect(report.functions == codes)
        #expect(report.keys == 1)
    }
}
