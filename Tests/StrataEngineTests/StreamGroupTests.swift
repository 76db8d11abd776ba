import TestSupport
import Testing

@testable import StrataEngine

/// Consumer group delivery against a reference model: random XADD, XREADGROUP (new and
/// history), XACK, XCLAIM, XAUTOCLAIM, XDEL and DELCONSUMER, with the pending entries list
/// (owner and delivery count) compared after every step.
@Suite struct StreamGroupTests {
    struct Model {
        var live: [StreamID] = []
        var lastDelivered = StreamID.zero
        var pending: [StreamID: (consumer: String, count: Int)] = [:]

        var rows: [Reply] {
            pending.keys.sorted().compactMap { id in
                guard let entry = pending[id] else { return nil }
                return .array([.bulk(id.bytes), .b(entry.consumer), .integer(0), .integer(entry.count)])
            }
        }
    }

    /// XPENDING's extended reply with the idle times zeroed (the clock stands still).
    func pendingRows(_ h: Harness) -> Reply {
        guard case .array(let rows) = h.run("XPENDING", "s", "g", "-", "+", "100000") else { return .null }
        return .array(
            rows.map { row in
                guard case .array(let fields) = row, fields.count == 4 else { return row }
                return .array([fields[0], fields[1], .integer(0), fields[3]])
            })
    }

    func ids(_ reply: Reply) -> [StreamID] {
        guard case .keyed(let streams) = reply, let entries = streams.first?.1, case .array(let items) = entries else {
            return []
        }
        return items.compactMap { item in
            guard case .array(let parts) = item, case .bulk(let id)? = parts.first else { return nil }
            return StreamID.parse(id)
        }
    }

    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func deliveryMatchesTheModel(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        let h = Harness()
        var model = Model()
        #expect(h.run("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM") == .ok)
        let consumers = ["alice", "bob", "carol"]
        var nextMs: UInt64 = 1
        for _ in 0..<1500 {
            let consumer = consumers[Int(random.next() % 3)]
            let someID = StreamID(ms: 1 + random.next() % nextMs, seq: 0)
            switch random.next() % 8 {
            case 0, 1:
                let id = StreamID(ms: nextMs, seq: 0)
                nextMs += 1
                #expect(h.run("XADD", "s", id.description, "f", "v") == .bulk(id.bytes))
                model.live.append(id)
            case 2:
                let count = Int(1 + random.next() % 4)
                let got = ids(h.run("XREADGROUP", "GROUP", "g", consumer, "COUNT", "\(count)", "STREAMS", "s", ">"))
                let expected = Array(model.live.filter { $0 > model.lastDelivered }.prefix(count))
                #expect(got == expected)
                for id in expected { model.pending[id] = (consumer, 1) }
                if let last = expected.last { model.lastDelivered = last }
            case 3:
                let got = ids(h.run("XREADGROUP", "GROUP", "g", consumer, "STREAMS", "s", "0"))
                let own = model.pending.keys.filter { model.pending[$0]?.consumer == consumer }.sorted()
                #expect(got == own)  // deleted entries come back as [id, nil]
                for id in own where model.live.contains(id) { model.pending[id]?.count += 1 }
            case 4:
                let acknowledged = model.pending.removeValue(forKey: someID) == nil ? 0 : 1
                #expect(h.run("XACK", "s", "g", someID.description) == .integer(acknowledged))
            case 5:
                _ = h.run("XCLAIM", "s", "g", consumer, "0", someID.description, "JUSTID")
                if model.pending[someID] != nil {
                    if model.live.contains(someID) {
                        model.pending[someID]?.consumer = consumer
                    } else {
                        model.pending[someID] = nil
                    }
                }
            case 6:
                let reply = h.run("XAUTOCLAIM", "s", "g", consumer, "0", "0", "COUNT", "3")
                var claimed = 0
                for id in model.pending.keys.sorted() where claimed < 3 {
                    claimed += 1
                    if model.live.contains(id) {
                        model.pending[id]?.consumer = consumer
                        model.pending[id]?.count += 1
                    } else {
                        model.pending[id] = nil
                    }
                }
                guard case .array(let parts) = reply else {
                    Issue.record("XAUTOCLAIM replied \(reply)")
                    return
                }
                #expect(parts.count == 3)
            default:
                let deleted = model.live.contains(someID) ? 1 : 0
                #expect(h.run("XDEL", "s", someID.description) == .integer(deleted))
                model.live.removeAll { $0 == someID }
            }
            #expect(pendingRows(h) == .array(model.rows))
        }
        // Deleting a consumer drops what it owned.
        let owned = model.pending.values.filter { $0.consumer == "alice" }.count
        #expect(h.run("XGROUP", "DELCONSUMER", "s", "g", "alice") == .integer(owned))
        model.pending = model.pending.filter { $0.value.consumer != "alice" }
        #expect(pendingRows(h) == .array(model.rows))
    }

    /// The stream at `s` and its group `g`.
    func streamAndGroup(_ h: Harness) throws -> (StreamValue, StreamGroup) {
        guard case .stream(let storage)? = h.engine.lookup(Bytes("s"), db: 0, now: h.now) else {
            throw CancellationError()
        }
        return (storage.stream, try #require(storage.stream.groups[Bytes("g")]))
    }

    @Test func lagAndEntriesReadFollowRedis() throws {
        let h = Harness()
        for i in 1...5 { h.run("XADD", "s", "\(i)-0", "f", "v") }
        h.run("XGROUP", "CREATE", "s", "g", "0")
        var (stream, group) = try streamAndGroup(h)
        #expect(stream.lag(of: group) == 5)
        h.run("XREADGROUP", "GROUP", "g", "c", "COUNT", "2", "STREAMS", "s", ">")
        (stream, group) = try streamAndGroup(h)
        #expect(group.entriesRead == 2)
        #expect(stream.lag(of: group) == 3)
        // A deletion ahead of the group makes the lag unknown.
        h.run("XDEL", "s", "4-0")
        (stream, group) = try streamAndGroup(h)
        #expect(stream.lag(of: group) == nil)
    }

}
