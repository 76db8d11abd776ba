import StrataEngine
import Testing

/// The stream type against a plain array model: appends, ranges both ways, deletes, trims.
@Suite struct StreamValueTests {
    struct Model {
        var entries: [StreamEntry] = []
        func range(_ from: StreamID, _ to: StreamID, _ count: Int?, reverse: Bool) -> [StreamEntry] {
            var inRange = entries.filter { $0.id >= from && $0.id <= to }
            if reverse { inRange.reverse() }
            return Array(inRange.prefix(count ?? Int.max))
        }
    }

    func fields(_ i: Int) -> [Bytes] {
        i % 7 == 0
            ? [Bytes("other"), Bytes("\(i)")] : [Bytes("name"), Bytes("user\(i)"), Bytes("score"), Bytes("\(i * 3)")]
    }

    @Test func idsParseAndBound() throws {
        #expect(StreamID.parse(Bytes("5-3")) == StreamID(ms: 5, seq: 3))
        #expect(StreamID.parse(Bytes("5")) == StreamID(ms: 5, seq: 0))
        #expect(StreamID.parse(Bytes("18446744073709551615-18446744073709551615")) == .max)
        #expect(StreamID.parse(Bytes("18446744073709551616-0")) == nil)
        #expect(StreamID.parse(Bytes("1-x")) == nil)
        #expect(StreamID.parse(Bytes("-1")) == nil)
        #expect(try StreamID.bound(Bytes("(5-3"), isStart: true)?.get() == StreamID(ms: 5, seq: 4))
        #expect(try StreamID.bound(Bytes("(5-0"), isStart: false)?.get() == StreamID(ms: 4, seq: .max))
        #expect(try StreamID.bound(Bytes("7"), isStart: false)?.get() == StreamID(ms: 7, seq: .max))
        #expect(StreamID.bound(Bytes("(0-0"), isStart: false).map { (try? $0.get()) == nil } == true)
    }

    @Test func matchesTheModel() {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<20 {
            var stream = StreamValue()
            var model = Model()
            var ms: UInt64 = 1
            for i in 0..<Int.random(in: 1...700, using: &generator) {
                ms += UInt64.random(in: 0...2, using: &generator)
                let id = StreamID(ms: ms, seq: UInt64(i))
                let entry = StreamEntry(id: id, fields: fields(i))
                stream.append(entry)
                model.entries.append(entry)
            }
            let shared = stream  // a frozen copy must not see later writes
            let frozen = model
            for _ in 0..<30 {
                let a = model.entries.randomElement(using: &generator)?.id ?? .zero
                let b = model.entries.randomElement(using: &generator)?.id ?? .zero
                let (from, to) = (min(a, b), max(a, b))
                let count: Int? = Bool.random(using: &generator) ? Int.random(in: 1...50, using: &generator) : nil
                for reverse in [false, true] {
                    #expect(
                        stream.range(from: from, to: to, count: count, reverse: reverse)
                            == model.range(from, to, count, reverse: reverse))
                }
                let victims = (0..<3).compactMap { _ in model.entries.randomElement(using: &generator)?.id }
                let expected = Set(victims).count
                #expect(stream.delete(Array(Set(victims))) == expected)
                model.entries.removeAll { victims.contains($0.id) }
                #expect(stream.length == model.entries.count)
            }
            let maximum = Int.random(in: 0...200, using: &generator)
            let approximate = round % 2 == 0
            let removed = stream.trim(.maxLength(maximum), approximate: approximate)
            #expect(stream.length == model.entries.count - removed)
            if approximate {
                #expect(stream.length >= min(maximum, model.entries.count))
            } else {
                #expect(stream.length == min(maximum, model.entries.count))
            }
            model.entries.removeFirst(removed)
            #expect(stream.range(from: .zero, to: .max) == model.entries)
            #expect(shared.range(from: .zero, to: .max) == frozen.entries)
            if let middle = model.entries.dropFirst(model.entries.count / 2).first?.id {
                let cut = stream.trim(.minID(middle), approximate: false)
                model.entries.removeFirst(cut)
                #expect(stream.firstEntry?.id == middle)
                #expect(stream.range(from: .zero, to: .max) == model.entries)
            }
        }
    }

    @Test func packsSmallEntriesTightly() {
        var stream = StreamValue()
        for i in 0..<10_000 {
            stream.append(
                StreamEntry(
                    id: StreamID(ms: 1_700_000_000_000 + UInt64(i), seq: 0),
                    fields: [Bytes("a"), Bytes("1"), Bytes("b"), Bytes("2"), Bytes("c"), Bytes("3")]))
        }
        // redis-server 7.0.15 used 16 bytes an entry for this shape (200,000 XADDs,
        // `used_memory` before and after); the bar is 1.5 times that.
        #expect(stream.footprint / 10_000 <= 24, "\(stream.footprint / 10_000) bytes an entry")
        #expect(stream.length == 10_000)
        #expect(stream.lastEntry?.id == StreamID(ms: 1_700_000_000_000 + 9_999, seq: 0))
    }
}
