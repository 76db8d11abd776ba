import Testing

@testable import StrataEngine

/// Stream commands one by one through the engine with an injected clock: id generation
/// (including a clock that goes backwards), reads after an id, claims with their options,
/// the XAUTOCLAIM cursor, XINFO's counters, and the effects logged for replay.
@Suite struct StreamCommandsTests {
    func id(_ reply: Reply) -> StreamID? {
        guard case .bulk(let bytes) = reply else { return nil }
        return StreamID.parse(bytes)
    }

    @Test func generatedIdsStayMonotonicWhenTheClockGoesBack() throws {
        let h = Harness()
        let first = try #require(id(h.run("XADD", "s", "*", "f", "v")))
        #expect(first == StreamID(ms: UInt64(h.now), seq: 0))
        let second = try #require(id(h.run("XADD", "s", "*", "f", "v")))
        #expect(second == StreamID(ms: UInt64(h.now), seq: 1))
        h.now -= 60_000  // the clock steps back a minute
        let third = try #require(id(h.run("XADD", "s", "*", "f", "v")))
        #expect(third == StreamID(ms: first.ms, seq: 2))
        h.now += 120_000
        #expect(id(h.run("XADD", "s", "*", "f", "v")) == StreamID(ms: UInt64(h.now), seq: 0))
        #expect(
            h.run("XADD", "s", "5-5", "f", "v")
                == .error("ERR The ID specified in XADD is equal or smaller than the target stream top item"))
    }

    @Test func readsAfterAnIdAndTheLastId() {
        let h = Harness()
        for i in 1...5 { h.run("XADD", "s", "\(i)-0", "f", "\(i)") }
        guard case .keyed(let streams) = h.run("XREAD", "COUNT", "2", "STREAMS", "s", "2-0") else {
            Issue.record("no reply")
            return
        }
        #expect(streams.count == 1)
        #expect(
            streams.first?.1
                == .array([
                    .array([.b("3-0"), .array([.b("f"), .b("3")])]), .array([.b("4-0"), .array([.b("f"), .b("4")])]),
                ]))
        #expect(h.run("XREAD", "STREAMS", "s", "$") == .nullArray)
        // With BLOCK, `$` is resolved before the client parks, so the retry reads what came later.
        #expect(
            h.run("XREAD", "BLOCK", "0", "STREAMS", "s", "$") == .blockedOn(keys: [Bytes("s")], timeoutMilliseconds: 0))
        #expect(h.engine.blockedArguments?.last == Bytes("5-0"))
    }

    @Test func claimOptionsSetOwnerTimeAndCount() {
        let h = Harness()
        for i in 1...3 { h.run("XADD", "s", "\(i)-0", "f", "v") }
        h.run("XGROUP", "CREATE", "s", "g", "0")
        h.run("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">")
        h.advance(milliseconds: 5000)
        // Not idle long enough: nothing moves.
        #expect(h.run("XCLAIM", "s", "g", "bob", "10000", "1-0", "JUSTID") == .array([]))
        #expect(h.run("XCLAIM", "s", "g", "bob", "1000", "1-0", "JUSTID") == .array([.b("1-0")]))
        #expect(
            h.run("XCLAIM", "s", "g", "bob", "0", "2-0", "IDLE", "300", "RETRYCOUNT", "7", "JUSTID")
                == .array([.b("2-0")]))
        #expect(
            h.run("XPENDING", "s", "g", "-", "+", "10")
                == .array([
                    .array([.b("1-0"), .b("bob"), .integer(0), .integer(1)]),
                    .array([.b("2-0"), .b("bob"), .integer(300), .integer(7)]),
                    .array([.b("3-0"), .b("alice"), .integer(5000), .integer(1)]),
                ]))
        // FORCE creates a pending entry for an entry never delivered; LASTID moves the group.
        h.run("XADD", "s", "4-0", "f", "v")
        #expect(
            h.run("XCLAIM", "s", "g", "carol", "0", "4-0", "FORCE", "LASTID", "4-0", "JUSTID") == .array([.b("4-0")]))
        #expect(h.run("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">") == .nullArray)
    }

    @Test func autoclaimWalksWithACursorAndReportsDeletedEntries() {
        let h = Harness()
        for i in 1...6 { h.run("XADD", "s", "\(i)-0", "f", "v") }
        h.run("XGROUP", "CREATE", "s", "g", "0")
        h.run("XREADGROUP", "GROUP", "g", "dead", "STREAMS", "s", ">")
        h.run("XDEL", "s", "2-0")
        #expect(
            h.run("XAUTOCLAIM", "s", "g", "live", "0", "0", "COUNT", "3", "JUSTID")
                == .array([.b("4-0"), .array([.b("1-0"), .b("3-0")]), .array([.b("2-0")])]))
        #expect(
            h.run("XAUTOCLAIM", "s", "g", "live", "0", "4-0", "COUNT", "3", "JUSTID")
                == .array([.b("0-0"), .array([.b("4-0"), .b("5-0"), .b("6-0")]), .array([])]))
        #expect(
            h.run("XPENDING", "s", "g")
                == .array([.integer(5), .b("1-0"), .b("6-0"), .array([.array([.b("live"), .b("5")])])]))
    }

    @Test func groupReadsLogClaimsAndThePosition() {
        let h = Harness()
        h.engine.recordsEffects = true
        h.run("XADD", "s", "1-0", "f", "v")
        h.run("XGROUP", "CREATE", "s", "g", "0")
        _ = h.engine.takeEffects()
        h.run("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")
        let logged = h.engine.takeEffects().map { $0.args.map(\.string).joined(separator: " ") }
        #expect(
            logged == [
                "XGROUP CREATECONSUMER s g c",
                "XCLAIM s g c 0 1-0 TIME \(h.now) RETRYCOUNT 1 FORCE JUSTID LASTID 1-0",
                "XGROUP SETID s g 1-0 ENTRIESREAD 1",
            ])
        // A read that finds nothing logs nothing.
        h.run("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")
        #expect(h.engine.takeEffects().isEmpty)
    }

    @Test func infoCountsGroupsAndConsumers() {
        let h = Harness()
        h.run("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
        h.run("XGROUP", "CREATECONSUMER", "s", "g", "c")
        h.advance(milliseconds: 250)
        #expect(
            h.run("XINFO", "CONSUMERS", "s", "g")
                == .array([.map([(.b("name"), .b("c")), (.b("pending"), .integer(0)), (.b("idle"), .integer(250))])]))
        #expect(h.run("XINFO", "STREAM", "nokey") == .error("ERR no such key"))
        #expect(
            h.run("XINFO", "CONSUMERS", "s", "nog")
                == .error("NOGROUP No such consumer group 'nog' for key name 's'"))
        #expect(h.run("XGROUP", "DESTROY", "s", "g") == .integer(1))
        #expect(h.run("XINFO", "GROUPS", "s") == .array([]))
    }

    /// Extreme numbers from clients give Redis's answers, never an arithmetic trap.
    @Test func extremeNumbersDoNotTrap() {
        let h = Harness()
        h.run("XADD", "s", "1-0", "f", "v")
        h.run("XGROUP", "CREATE", "s", "g", "0", "ENTRIESREAD", "9223372036854775807")
        h.run("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")
        let minimum = "-9223372036854775808"
        #expect(h.run("XCLAIM", "s", "g", "d", "0", "1-0", "IDLE", minimum, "JUSTID") == .array([.b("1-0")]))
        #expect(h.run("XCLAIM", "s", "g", "d", "0", "1-0", "TIME", minimum, "JUSTID") == .array([.b("1-0")]))
        #expect(h.run("XCLAIM", "s", "g", "d", minimum, "1-0", "RETRYCOUNT", "-5", "JUSTID") == .array([.b("1-0")]))
        // A negative RETRYCOUNT is no RETRYCOUNT (JUSTID leaves the count alone).
        #expect(
            h.run("XPENDING", "s", "g", "IDLE", minimum, "-", "+", "10")
                == .array([.array([.b("1-0"), .b("d"), .integer(0), .integer(1)])]))
        #expect(
            h.run("XAUTOCLAIM", "s", "g", "e", "9223372036854775807", "0")
                == .array([.b("0-0"), .array([]), .array([])]))
        // The counter wraps as Redis's does (redis-server 7.0.15 reports these numbers).
        guard case .array(let groups) = h.run("XINFO", "GROUPS", "s"), case .map(let fields)? = groups.first else {
            Issue.record("XINFO GROUPS failed")
            return
        }
        #expect(fields.first { $0.0 == .b("entries-read") }?.1 == .integer(Int.min))
        #expect(fields.first { $0.0 == .b("lag") }?.1 == .integer(-9_223_372_036_854_775_807))
    }
}
