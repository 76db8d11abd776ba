//! The client-side caching table alone: keys read, OPTIN/OPTOUT, prefixes and their
//! overlap errors, invalidation fan-out, NOLOOP, flushes and the bounded size.

import StrataEngine
import Testing

@testable import StrataServer

@Suite struct TrackingTableTests {
    private func key(_ text: String) -> Bytes { Bytes(text) }

    /// Runs a mutating call outside `#expect`, which cannot mutate its operands.
    private func run<T>(_ table: inout TrackingTable, _ body: (inout TrackingTable) -> T) -> T { body(&table) }

    @Test func readKeysAreInvalidatedOnceForEachReader() {
        var table = TrackingTable()
        #expect(run(&table) { $0.enable(1, redirect: 0, options: [], prefixes: []) } == nil)
        #expect(run(&table) { $0.enable(2, redirect: 0, options: [], prefixes: []) } == nil)
        _ = table.remember([key("a"), key("b")], for: 1)
        _ = table.remember([key("a")], for: 2)
        #expect(table.keyCount == 2 && table.totalItems == 3)
        #expect(
            run(&table) { $0.invalidate(key("a"), writer: 3) } == [
                .init(client: 1, keys: [key("a")]), .init(client: 2, keys: [key("a")]),
            ])
        #expect(run(&table) { $0.invalidate(key("a"), writer: 3) }.isEmpty)  // forgotten until read again
        #expect(table.totalItems == 1)
    }

    @Test func noLoopSkipsOwnWrites() {
        var table = TrackingTable()
        _ = table.enable(1, redirect: 0, options: [.noLoop], prefixes: [])
        _ = table.remember([key("a")], for: 1)
        #expect(run(&table) { $0.invalidate(key("a"), writer: 1) }.isEmpty)
        _ = table.remember([key("a")], for: 1)
        #expect(run(&table) { $0.invalidate(key("a"), writer: 0) } == [.init(client: 1, keys: [key("a")])])
    }

    @Test func optInTracksOnlyAfterCachingYes() {
        var table = TrackingTable()
        _ = table.enable(1, redirect: 0, options: [.optIn], prefixes: [])
        _ = table.remember([key("a")], for: 1)
        #expect(table.keyCount == 0)
        #expect(run(&table) { $0.setCaching(1, yes: true) } == nil)
        _ = table.remember([key("b")], for: 1)
        table.clearCaching(1)
        _ = table.remember([key("c")], for: 1)
        #expect(table.keyCount == 1)
        #expect(
            run(&table) { $0.setCaching(1, yes: false) }
                == "CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")
    }

    @Test func optionErrorsInRedisOrder() {
        var table = TrackingTable()
        #expect(
            run(&table) { $0.enable(1, redirect: 0, options: [], prefixes: [key("a")]) }?.hasPrefix("PREFIX option")
                == true)
        #expect(
            run(&table) { $0.enable(1, redirect: 0, options: [.broadcast, .optIn], prefixes: []) }
                == "OPTIN and OPTOUT are not compatible with BCAST")
        #expect(
            run(&table) { $0.enable(1, redirect: 0, options: [.optIn, .optOut], prefixes: []) }
                == "You can't specify both OPTIN mode and OPTOUT mode")
        #expect(run(&table) { $0.enable(1, redirect: 0, options: [.broadcast], prefixes: [key("p:")]) } == nil)
        #expect(
            run(&table) { $0.enable(1, redirect: 0, options: [.broadcast], prefixes: [key("p:x")]) }
                == "Prefix 'p:x' overlaps with an existing prefix 'p:'. Prefixes for a single client must not overlap.")
        #expect(
            run(&table) { $0.enable(1, redirect: 0, options: [.broadcast], prefixes: [key("q"), key("qq")]) }
                == "Prefix 'q' overlaps with another provided prefix 'qq'. Prefixes for a single client must not overlap."
        )
        #expect(
            run(&table) { $0.enable(1, redirect: 0, options: [], prefixes: []) }?.hasPrefix("You can't switch BCAST")
                == true)
    }

    @Test func broadcastsGoOutPerPrefixSortedWithoutNoLoopWrites() {
        var table = TrackingTable()
        _ = table.enable(1, redirect: 0, options: [.broadcast], prefixes: [key("p:"), key("q:")])
        _ = table.enable(2, redirect: 0, options: [.broadcast, .noLoop], prefixes: [])
        _ = table.invalidate(key("q:2"), writer: 2)
        _ = table.invalidate(key("p:b"), writer: 3)
        _ = table.invalidate(key("p:a"), writer: 2)
        _ = table.invalidate(key("zz"), writer: 2)
        #expect(table.hasPendingBroadcasts)
        #expect(
            run(&table) { $0.takeBroadcasts() } == [
                .init(client: 2, keys: [key("p:b")]),
                .init(client: 1, keys: [key("p:a"), key("p:b")]),
                .init(client: 1, keys: [key("q:2")]),
            ])
        #expect(run(&table) { $0.takeBroadcasts() }.isEmpty)
        table.disable(1)
        table.disable(2)
        #expect(table.prefixCount == 0 && table.isEmpty)
    }

    @Test func flushInvalidatesEveryClientWithNull() {
        var table = TrackingTable()
        _ = table.enable(2, redirect: 0, options: [], prefixes: [])
        _ = table.enable(1, redirect: 0, options: [.broadcast], prefixes: [])
        _ = table.remember([key("a")], for: 2)
        #expect(run(&table) { $0.invalidateAll() } == [.init(client: 1, keys: nil), .init(client: 2, keys: nil)])
        #expect(table.keyCount == 0 && table.totalItems == 0)
    }

    @Test func sizeStaysWithinMaxKeys() {
        var table = TrackingTable()
        table.maxKeys = 3
        _ = table.enable(1, redirect: 0, options: [], prefixes: [])
        let dropped = table.remember((0..<10).map { key("k\($0)") }, for: 1)
        #expect(table.keyCount == 3)
        #expect(dropped.count == 7 && dropped.allSatisfy { $0.client == 1 && $0.keys?.count == 1 })
    }
}

@Suite struct ClientPauseTests {
    @Test func writeModeHoldsWritesAndMayReplicateOnly() {
        var pause = ClientPause()
        pause.pause(.write, until: 1000)
        #expect(pause.postpones([.write], queuedWrite: false, now: 10))
        #expect(pause.postpones([.mayReplicate], queuedWrite: false, now: 10))
        #expect(!pause.postpones([.readonly], queuedWrite: false, now: 10))
        #expect(pause.postpones([], queuedWrite: true, now: 10))
        #expect(!pause.postpones([.write], queuedWrite: false, now: 1000))
    }

    @Test func overlappingPausesKeepTheStricterModeAndLaterEnd() {
        var pause = ClientPause()
        pause.pause(.all, until: 500)
        pause.pause(.write, until: 2000)
        #expect(pause.mode == .all && pause.end == 2000)
        #expect(pause.postpones([.readonly], queuedWrite: false, now: 1500))
        let early = pause.expire(now: 1999)
        #expect(!early)
        let ended = pause.expire(now: 2000)
        #expect(ended)
        #expect(pause.mode == nil && !pause.isActive(now: 2000))
    }

    @Test func unpauseEndsAtOnce() {
        var pause = ClientPause()
        pause.pause(.all, until: 10_000)
        pause.unpause()
        #expect(!pause.postpones([.write], queuedWrite: false, now: 1))
        let ended = pause.expire(now: 1)
        #expect(!ended)
    }

    @Test func aFailoverHoldsWritesUntilItEndsWhateverClientPauseDoes() {
        var pause = ClientPause()
        pause.holdsForFailover = true
        #expect(pause.isPausing && pause.isActive(now: 1))
        #expect(pause.postpones([.write], queuedWrite: false, now: 1))
        #expect(pause.postpones([], queuedWrite: true, now: 1))
        #expect(!pause.postpones([.readonly], queuedWrite: false, now: 1))
        pause.pause(.all, until: 100)
        _ = pause.expire(now: 200)
        pause.unpause()
        #expect(pause.postpones([.write], queuedWrite: false, now: 300))
        pause.holdsForFailover = false
        #expect(!pause.isPausing && !pause.postpones([.write], queuedWrite: false, now: 300))
    }
}
