import TestSupport
import Testing

@testable import StrataEngine

@Suite("HashCommands")
struct HashCommandsTests {
    @Test func setGetAndCounts() {
        let h = Harness()
        #expect(h.run("HSET", "h", "a", "1", "b", "2") == .integer(2))
        #expect(h.run("HSET", "h", "a", "9", "c", "3") == .integer(1))
        #expect(h.run("HGET", "h", "a") == .b("9"))
        #expect(h.run("HGET", "h", "zz") == .null)
        #expect(h.run("HMGET", "h", "a", "zz", "c") == .array([.b("9"), .null, .b("3")]))
        #expect(h.run("HLEN", "h") == .integer(3))
        #expect(h.run("HSTRLEN", "h", "a") == .integer(1))
        #expect(h.run("HEXISTS", "h", "b") == .integer(1))
        #expect(h.run("HGETALL", "h") == .map([(.b("a"), .b("9")), (.b("b"), .b("2")), (.b("c"), .b("3"))]))
        #expect(h.run("HKEYS", "h") == .array([.b("a"), .b("b"), .b("c")]))
        #expect(h.run("HVALS", "h") == .array([.b("9"), .b("2"), .b("3")]))
        #expect(h.run("HSET", "h", "a") == .error("ERR wrong number of arguments for 'hset' command"))
        #expect(h.run("HMSET", "h", "x", "y") == .ok)
        #expect(h.run("HSETNX", "h", "x", "z") == .integer(0))
        #expect(h.run("HSETNX", "h", "y", "z") == .integer(1))
        #expect(h.run("TYPE", "h") == .status("hash"))
    }

    @Test func deletingTheLastFieldDeletesTheKey() {
        let h = Harness()
        h.run("HSET", "h", "a", "1", "b", "2")
        #expect(h.run("HDEL", "h", "a", "zz") == .integer(1))
        #expect(h.run("HDEL", "h", "b") == .integer(1))
        #expect(h.run("EXISTS", "h") == .integer(0))
        #expect(h.run("HDEL", "h", "b") == .integer(0))
    }

    @Test func counters() {
        let h = Harness()
        #expect(h.run("HINCRBY", "h", "n", "5") == .integer(5))
        #expect(h.run("HINCRBY", "h", "n", "-7") == .integer(-2))
        #expect(h.run("HINCRBY", "h", "n", "x") == Errors.notInteger)
        h.run("HSET", "h", "s", "abc", "big", "9223372036854775807")
        #expect(h.run("HINCRBY", "h", "s", "1") == .error("ERR hash value is not an integer"))
        #expect(h.run("HINCRBY", "h", "big", "1") == Errors.overflow)
        #expect(h.run("HINCRBYFLOAT", "h", "f", "10.5") == .b("10.5"))
        #expect(h.run("HINCRBYFLOAT", "h", "f", "0.1") == .b("10.6"))
        #expect(h.run("HINCRBYFLOAT", "h", "s", "1") == .error("ERR hash value is not a float"))
        #expect(h.run("HINCRBYFLOAT", "h", "f", "abc") == Errors.notFloat)
    }

    @Test func wrongTypeBothWays() {
        let h = Harness()
        h.run("SET", "s", "v")
        h.run("HSET", "h", "f", "v")
        #expect(h.run("HGET", "s", "f") == Errors.wrongType)
        #expect(h.run("HSET", "s", "f", "v") == Errors.wrongType)
        #expect(h.run("GET", "h") == Errors.wrongType)
        #expect(h.run("APPEND", "h", "x") == Errors.wrongType)
        #expect(h.run("INCR", "h") == Errors.wrongType)
        #expect(h.run("MGET", "h", "s") == .array([.null, .b("v")]))
    }

    @Test func encodingConvertsPastTheLimits() {
        let h = Harness()
        for i in 0..<128 { h.run("HSET", "small", "f\(i)", "v") }
        #expect(h.run("OBJECT", "ENCODING", "small") == .b("listpack"))
        h.run("HSET", "small", "f128", "v")
        #expect(h.run("OBJECT", "ENCODING", "small") == .b("hashtable"))
        h.run("HSET", "long", "f", String(repeating: "x", count: 64))
        #expect(h.run("OBJECT", "ENCODING", "long") == .b("listpack"))
        h.run("HSET", "long", "g", String(repeating: "x", count: 65))
        #expect(h.run("OBJECT", "ENCODING", "long") == .b("hashtable"))
        h.engine.settings.hashLimits.maxListpackEntries = 2
        h.run("HSET", "tiny", "a", "1", "b", "2", "c", "3")
        #expect(h.run("OBJECT", "ENCODING", "tiny") == .b("hashtable"))
    }

    @Test func randfield() {
        let h = Harness()
        #expect(h.run("HRANDFIELD", "none") == .null)
        #expect(h.run("HRANDFIELD", "none", "3") == .array([]))
        h.run("HSET", "h", "a", "1", "b", "2", "c", "3")
        guard case .array(let all) = h.run("HRANDFIELD", "h", "10") else {
            Issue.record("unexpected reply shape")
            return
        }
        #expect(all.count == 3)
        guard case .array(let repeated) = h.run("HRANDFIELD", "h", "-10") else {
            Issue.record("unexpected reply shape")
            return
        }
        #expect(repeated.count == 10)
        guard case .pairs(let pairs) = h.run("HRANDFIELD", "h", "2", "WITHVALUES") else {
            Issue.record("unexpected reply shape")
            return
        }
        #expect(pairs.count == 2)
        for (field, value) in pairs {
            guard case .bulk(let f) = field else { continue }
            #expect(h.run("HGET", "h", f.string) == value)
        }
        #expect(h.run("HRANDFIELD", "h", "0") == .array([]))
        #expect(h.run("HRANDFIELD", "h", "1", "WITH") == Errors.syntax)
        #expect(h.run("HRANDFIELD", "h", "x") == Errors.notInteger)
    }

    @Test func hscanReturnsEveryFieldOfALargeHash() {
        let h = Harness()
        for i in 0..<1000 { h.run("HSET", "big", "f\(i)", "v\(i)") }
        var cursor = "0"
        var seen: [String: String] = [:]
        var calls = 0
        repeat {
            calls += 1
            guard case .array(let parts) = h.run("HSCAN", "big", cursor, "COUNT", "50"),
                case .bulk(let next) = parts[0], case .array(let items) = parts[1]
            else {
                Issue.record("unexpected reply shape")
                return
            }
            for i in stride(from: 0, to: items.count, by: 2) {
                if case .bulk(let f) = items[i], case .bulk(let v) = items[i + 1] { seen[f.string] = v.string }
            }
            cursor = next.string
        } while cursor != "0" && calls < 1000
        #expect(seen.count == 1000)
        #expect(seen["f500"] == "v500")
        #expect(calls > 10)
    }
}

@Suite("HashValue model")
struct HashValueModelTests {
    /// Random operations against a dictionary reference model, with tiny limits so both
    /// encodings and the conversion are exercised.
    @Test(arguments: [1, 2, 3, 4])
    func matchesAReferenceDictionary(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        var limits = HashLimits()
        limits.maxListpackEntries = 8
        limits.maxListpackValue = 6
        var hash = HashValue()
        var model: [Bytes: Bytes] = [:]
        for _ in 0..<2000 {
            let field = Bytes("f\(Int.random(in: 0..<20, using: &rng))")
            let value = Bytes(String(repeating: "v", count: Int.random(in: 0..<8, using: &rng)))
            if Bool.random(using: &rng) {
                #expect(hash.set(field, value, limits: limits) == (model.updateValue(value, forKey: field) == nil))
            } else {
                #expect(hash.remove(field) == (model.removeValue(forKey: field) != nil))
            }
            #expect(hash.count == model.count)
            #expect(hash.get(field) == model[field])
        }
        #expect(Dictionary(uniqueKeysWithValues: hash.entries.map { ($0.field, $0.value) }) == model)
    }
}
