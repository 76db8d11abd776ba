import Testing

@testable import StrataEngine
@testable import StrataServer

/// The parts the server coordinates, each tested alone.
@Suite("Server parts")
struct ServerPartsTests {
    static func key(_ name: String, db: Int = 0) -> KeyRef { KeyRef(db: db, key: Bytes(name)) }

    /// A write record made by running commands on an engine.
    static func record(_ commands: [[String]], evicting: Bool = false) -> WriteRecord {
        let engine = Engine()
        var db = 0
        for words in [["set", "a", "1"], ["rpush", "l", "x"], ["xadd", "x", "1-1", "f", "v"]] {
            _ = engine.execute(words.map { Bytes($0) }, db: &db, now: 1_000)
        }
        _ = engine.execute(["xgroup", "create", "x", "g", "0"].map { Bytes($0) }, db: &db, now: 1_000)
        _ = engine.execute(
            ["xreadgroup", "group", "g", "c", "streams", "x", ">"].map { Bytes($0) }, db: &db, now: 1_000)
        engine.discardRecord()
        for words in commands { _ = engine.execute(words.map { Bytes($0) }, db: &db, now: 1_000) }
        if evicting {
            engine.settings.evictionPolicy = .allKeysRandom
            _ = engine.evictOne(now: 1_000)
        }
        return engine.record
    }

    @Test func pubsubDeliversToChannelsAndMatchingPatterns() {
        var hub = PubSubHub()
        hub.subscribe(1, to: Bytes("news"), .channel)
        hub.subscribe(2, to: Bytes("n*"), .pattern)
        hub.subscribe(3, to: Bytes("other"), .channel)
        hub.subscribe(1, to: Bytes("n*"), .pattern)
        var deliveries: [(client: UInt64, frame: Reply)] = []
        hub.forEachDelivery(channel: Bytes("news"), message: Bytes("hi")) { deliveries.append(($0, $1)) }
        #expect(deliveries.filter { $0.client == 1 }.count == 2)
        #expect(
            deliveries.filter { $0.client == 2 }.map(\.frame) == [
                .push([.text("pmessage"), .bulk(Bytes("n*")), .bulk(Bytes("news")), .bulk(Bytes("hi"))])
            ])
        #expect(!deliveries.contains { $0.client == 3 })
        #expect(hub.channelNames(matching: nil) == [Bytes("news"), Bytes("other")])
        #expect(hub.channelNames(matching: Bytes("o*")) == [Bytes("other")])
        hub.unsubscribe(1, from: Bytes("news"), .channel)
        #expect(hub.subscriberCount(of: Bytes("news")) == 0)
        #expect(hub.channels[Bytes("news")] == nil, "a channel nobody listens to is dropped")
        hub.unsubscribe(2, from: Bytes("n*"), .pattern)
        hub.unsubscribe(1, from: Bytes("n*"), .pattern)
        #expect(hub.patterns.isEmpty)
    }

    @Test func watchesAreInvalidatedByWrittenEvictedAndFlushedKeysOnly() {
        var watches = WatchRegistry()
        watches.watch(Self.key("a"), by: 1)
        watches.watch(Self.key("l"), by: 2)
        watches.watch(Self.key("x"), by: 3)
        watches.watch(Self.key("a", db: 5), by: 4)
        #expect(watches.clientsInvalidated(by: Self.record([["set", "a", "2"]])) == [1])
        #expect(watches.clientsInvalidated(by: Self.record([["get", "a"], ["llen", "l"]])).isEmpty)
        #expect(watches.clientsInvalidated(by: Self.record([["xack", "x", "g", "1-1"]])).isEmpty, "group state")
        #expect(watches.clientsInvalidated(by: Self.record([["xadd", "x", "*", "f", "v"]])) == [3])
        #expect(watches.clientsInvalidated(by: Self.record([["swapdb", "5", "6"]])) == [4])
        #expect(!watches.clientsInvalidated(by: Self.record([], evicting: true)).isEmpty)
        watches.unwatch([Self.key("a")], by: 1)
        #expect(watches.clientsInvalidated(by: Self.record([["set", "a", "2"]])).isEmpty)
    }

    final class Waiter {}

    @Test func waitQueuesServeKeysInTheOrderTheyBecameReady() {
        var queues = WaitQueues<Waiter>()
        let (first, second) = (Waiter(), Waiter())
        queues.park(first, on: [Self.key("l"), Self.key("a")])
        queues.park(second, on: [Self.key("l")])
        #expect(
            queues.waiters(on: Self.key("l")).map(ObjectIdentifier.init) == [first, second].map(ObjectIdentifier.init))
        queues.noteReady(Self.record([["set", "a", "2"], ["rpush", "l", "y"], ["set", "nobody", "1"]]))
        #expect(queues.ready == [Self.key("a"), Self.key("l")])
        queues.noteReady(Self.record([["rpush", "l", "z"]]))
        #expect(queues.ready == [Self.key("a"), Self.key("l")], "a key is ready once")
        #expect(queues.nextReady() == Self.key("a"))
        queues.release(first, from: [Self.key("l"), Self.key("a")])
        #expect(queues.waiters(on: Self.key("l")).count == 1)
        #expect(queues.waiters(on: Self.key("a")).isEmpty)
        queues.release(second, from: [Self.key("l")])
        #expect(queues.isEmpty)
    }

    @Test func waitQueuesWakeGroupReadersAndWholeDatabases() {
        var queues = WaitQueues<Waiter>()
        queues.park(Waiter(), on: [Self.key("x")])
        queues.park(Waiter(), on: [Self.key("q", db: 3)])
        queues.noteReady(Self.record([["xgroup", "destroy", "x", "g"]]))
        #expect(queues.ready == [Self.key("x")])
        _ = queues.nextReady()
        queues.noteReady(Self.record([["flushall"]]))
        #expect(Set(queues.ready) == [Self.key("x"), Self.key("q", db: 3)])
    }
}

@Suite("Client registry")
struct ClientRegistryTests {
    final class Client {}

    @Test func idsIncreaseAndAdmissionFollowsTheLimits() {
        var registry = ClientRegistry<Client>()
        let ids = (0..<3).map { _ in registry.makeID() }
        #expect(ids == [1, 2, 3])
        let (a, b, c) = (Client(), Client(), Client())
        #expect(registry.admit(a, id: ids[0], maxClients: 2, protectedModeRefuses: false) == nil)
        #expect(registry.admit(b, id: ids[1], maxClients: 2, protectedModeRefuses: true) == .protectedMode)
        #expect(registry.admit(b, id: ids[1], maxClients: 2, protectedModeRefuses: false) == nil)
        #expect(registry.admit(c, id: ids[2], maxClients: 2, protectedModeRefuses: false) == .tooManyClients)
        #expect(registry.count == 2)
        #expect(registry[ids[1]] === b)
    }

    @Test func removingForgetsOnlyTheSameClient() {
        var registry = ClientRegistry<Client>()
        let (old, new) = (Client(), Client())
        _ = registry.admit(new, id: 7, maxClients: 10, protectedModeRefuses: false)
        registry.remove(old, id: 7)
        #expect(registry[7] === new, "a stale close leaves the registered client")
        registry.remove(new, id: 7)
        #expect(registry.isEmpty)
    }
}

@Suite("AOF feed")
struct AOFFeedTests {
    static func effect(_ db: Int, _ words: String...) -> Effect {
        Effect(db: db, args: words.map { Bytes($0) })
    }

    static func text(_ feed: AOFFeed) -> String { String(buffer: feed.buffer) }

    @Test func selectsOnlyWhenTheDatabaseChangesAndWrapsTransactions() {
        var feed = AOFFeed()
        let first = feed.append([Self.effect(0, "SET", "k", "v")], timestampSecond: nil)
        #expect(Self.text(feed) == "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n")
        #expect(first == Self.text(feed).utf8.count)
        feed.append([Self.effect(0, "DEL", "k")], timestampSecond: nil)
        #expect(Self.text(feed).hasSuffix("v\r\n*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n"), "same database: no SELECT")
        feed.append([Self.effect(0, "INCR", "a"), Self.effect(2, "INCR", "b")], timestampSecond: nil)
        #expect(
            Self.text(feed).hasSuffix(
                "*1\r\n$5\r\nMULTI\r\n*2\r\n$4\r\nINCR\r\n$1\r\na\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n"
                    + "*2\r\n$4\r\nINCR\r\n$1\r\nb\r\n*1\r\n$4\r\nEXEC\r\n"))
        #expect(feed.appendedOffset == UInt64(Self.text(feed).utf8.count))
        feed.startNewFile()
        feed.append([Self.effect(2, "DEL", "b")], timestampSecond: nil)
        #expect(
            Self.text(feed).hasSuffix("EXEC\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n*2\r\n$3\r\nDEL\r\n$1\r\nb\r\n"),
            "a new file selects even the same database")
    }

    @Test func annotatesEachSecondOnce() {
        var feed = AOFFeed()
        feed.append([Self.effect(0, "DEL", "a")], timestampSecond: 100)
        feed.append([Self.effect(0, "DEL", "b")], timestampSecond: 100)
        feed.append([Self.effect(0, "DEL", "c")], timestampSecond: 101)
        let lines = Self.text(feed).components(separatedBy: "\r\n").filter { $0.hasPrefix("#TS:") }
        #expect(lines == ["#TS:100", "#TS:101"])
    }

    struct Full: Error {}

    @Test func aShortWriteKeepsTheRestForTheNextTry() {
        var feed = AOFFeed()
        feed.append([Self.effect(0, "SET", "k", "v")], timestampSecond: nil)
        let total = feed.pendingBytes
        var written: [UInt8] = []
        let (first, error) = feed.write { bytes -> (Int, Full?) in
            written += bytes.prefix(10)
            return (10, Full())
        }
        #expect(first == 10 && error != nil)
        #expect(feed.pendingBytes == total - 10)
        let (second, noError) = feed.write { bytes -> (Int, Full?) in
            written += bytes
            return (bytes.count, nil)
        }
        #expect(second == total - 10 && noError == nil)
        #expect(feed.pendingBytes == 0)
        #expect(String(decoding: written, as: UTF8.self).hasSuffix("$1\r\nv\r\n"))
        #expect(feed.appendedOffset == UInt64(total), "the offset counts what was taken, not what was written")
    }
}

struct ShardPubSubTests {
    @Test func shardChannelsAreANamespaceOfTheirOwn() {
        var hub = PubSubHub()
        hub.subscribe(1, to: "news", .shard)
        hub.subscribe(2, to: "news", .channel)
        hub.subscribe(3, to: "n*", .pattern)
        var shard: [(UInt64, Reply)] = []
        hub.forEachShardDelivery(channel: "news", message: "m") { shard.append(($0, $1)) }
        #expect(shard.map(\.0) == [1])
        #expect(shard.first?.1 == .push([.text("smessage"), .bulk("news"), .bulk("m")]))
        var plain: [UInt64] = []
        hub.forEachDelivery(channel: "news", message: "m") { id, _ in plain.append(id) }
        #expect(plain.sorted() == [2, 3])
        #expect(hub.channelNames(matching: nil, shard: true) == ["news"])
        #expect(hub.subscriberCount(of: "news", shard: true) == 1)
        hub.unsubscribe(1, from: "news", .shard)
        #expect(hub.shardChannels.isEmpty && hub.subscriberCount(of: "news") == 1)
    }
}
