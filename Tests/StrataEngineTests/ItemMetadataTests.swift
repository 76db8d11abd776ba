import Testing

@testable import StrataEngine

/// memcached flags and CAS uniques kept by the engine: set after a store, gone with every
/// write or removal of the key, carried by database swaps, restored by the logged command.
@Suite("Item metadata")
struct ItemMetadataTests {
    private func give(_ h: Harness, _ key: String, flags: UInt32, cas: UInt64 = 0) {
        h.engine.databases[h.db].setItemMetadata(ItemMetadata(flags: flags, casUnique: cas), for: Bytes(key))
    }

    private func metadata(_ h: Harness, _ key: String, db: Int? = nil) -> ItemMetadata? {
        h.engine.databases[db ?? h.db].itemMetadata(Bytes(key))
    }

    @Test func everyWriteOrRemovalOfTheKeyForgetsIt() {
        let h = Harness()
        for (write, args) in [
            ("SET", ["SET", "k", "v2"]), ("APPEND", ["APPEND", "k", "x"]), ("DEL", ["DEL", "k"]),
            ("EXPIRE", ["PEXPIRE", "k", "100000"]), ("SETRANGE", ["SETRANGE", "k", "0", "z"]),
            ("RENAME", ["RENAME", "k", "other"]),
        ] {
            h.run("SET", "k", "v")
            give(h, "k", flags: 7, cas: 3)
            h.run("SET", "unrelated", "v")
            #expect(metadata(h, "k") == ItemMetadata(flags: 7, casUnique: 3), "\(write)")
            _ = h.run(bytes: args.map { Bytes($0) })
            #expect(metadata(h, "k") == nil, "\(write) kept the old version's metadata")
        }
    }

    @Test func aRefusedWriteKeepsIt() {
        let h = Harness()
        h.run("SET", "k", "abc")
        give(h, "k", flags: 9)
        #expect(h.run("INCR", "k") == .error("ERR value is not an integer or out of range"))
        #expect(metadata(h, "k")?.flags == 9)
    }

    @Test func expiryAndFlushForgetIt() {
        let h = Harness()
        h.run("SET", "k", "v", "PX", "10")
        give(h, "k", flags: 1)
        h.advance(milliseconds: 10)
        #expect(h.run("GET", "k") == .null)
        h.run("SET", "k", "v")
        #expect(metadata(h, "k") == nil)
        give(h, "k", flags: 1)
        h.run("FLUSHDB")
        #expect(metadata(h, "k") == nil && h.engine.databases[0].itemMetadataCount == 0)
    }

    @Test func swapdbCarriesItWithTheKeys() {
        let h = Harness()
        h.run("SET", "k", "v")
        give(h, "k", flags: 4)
        h.run("SWAPDB", "0", "1")
        #expect(metadata(h, "k", db: 0) == nil)
        #expect(metadata(h, "k", db: 1)?.flags == 4)
    }

    @Test func newCASUniquesPassEveryStoredOne() {
        let h = Harness()
        h.run("SET", "k", "v")
        give(h, "k", flags: 0, cas: 500)
        #expect(h.engine.nextCASUnique() == 501)
        h.engine.lastCASUnique = 1000
        #expect(h.engine.nextCASUnique() == 1001)
    }

    @Test func theLoggedCommandRestoresItAndClientsCannotSendIt() {
        let h = Harness()
        h.run("SET", "k", "v")
        let args = ItemMetadata(flags: 42, casUnique: 77).command(key: Bytes("k"))
        guard case .failure = h.engine.commands.resolve(args) else {
            Issue.record("a client resolved \(args[0])")
            return
        }
        guard case .success(let spec) = h.engine.resolveLogged(args), case .engine(let handler) = spec.handler else {
            Issue.record("the log's command did not resolve")
            return
        }
        var db = 0
        #expect(h.engine.run(handler, args: args, db: &db, now: 0) == .integer(1))
        #expect(metadata(h, "k") == ItemMetadata(flags: 42, casUnique: 77))
        #expect(
            h.engine.run(handler, args: [args[0], Bytes("missing"), args[2], args[3]], db: &db, now: 0) == .integer(0))
        let bad = [args[0], Bytes("k"), Bytes("4294967296"), Bytes("1")]
        #expect(h.engine.run(handler, args: bad, db: &db, now: 0) == .error("ERR invalid item metadata"))
    }

    @Test func auxTextRoundTripsAndRefusesJunk() {
        let item = ItemMetadata(flags: UInt32.max, casUnique: UInt64.max)
        #expect(ItemMetadata(auxText: Bytes(item.auxText)) == item)
        #expect(item.auxText == "4294967295 18446744073709551615")
        // The persisted state bits follow when there are some; whether it was fetched does not.
        let stale = ItemMetadata(flags: 1, casUnique: 2, state: [.stale, .binaryKey, .fetched])
        #expect(stale.auxText == "1 2 5")
        #expect(
            ItemMetadata(auxText: Bytes(stale.auxText))
                == ItemMetadata(flags: 1, casUnique: 2, state: [.stale, .binaryKey]))
        #expect(stale.command(key: Bytes("k")).map(\.string) == ["STRATA.ITEMMETA", "k", "1", "2", "5"])
        #expect(
            ItemMetadata(auxText: Bytes("1 2 3 later"))
                == ItemMetadata(flags: 1, casUnique: 2, state: [.stale, .winTokenSent]))
        for junk in ["", "1", "1 2 256", "-1 2", "1 x", "4294967296 1", "1  2"] {
            #expect(ItemMetadata(auxText: Bytes(junk)) == nil, "\(junk)")
        }
    }
}
