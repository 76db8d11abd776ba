import TestSupport
import Testing

@testable import StrataEngine

private func members(_ reply: Reply) -> Set<String> {
    switch reply {
    case .set(let items), .array(let items):
        return Set(items.compactMap { if case .bulk(let b) = $0 { return b.string } else { return nil } })
    default:
        return []
    }
}

@Suite("SetCommands")
struct SetCommandsTests {
    @Test func addRemoveAndQuery() {
        let h = Harness()
        #expect(h.run("SADD", "s", "a", "b", "a") == .integer(2))
        #expect(h.run("SADD", "s", "b", "c") == .integer(1))
        #expect(members(h.run("SMEMBERS", "s")) == ["a", "b", "c"])
        #expect(h.run("SISMEMBER", "s", "a") == .integer(1))
        #expect(h.run("SMISMEMBER", "s", "a", "z") == .array([.integer(1), .integer(0)]))
        #expect(h.run("SCARD", "s") == .integer(3))
        #expect(h.run("SREM", "s", "a", "z") == .integer(1))
        #expect(h.run("SREM", "s", "b", "c") == .integer(2))
        #expect(h.run("EXISTS", "s") == .integer(0))
        #expect(h.run("SMEMBERS", "nosuch") == .set([]))
        #expect(h.run("TYPE", "t") == .status("none"))
        h.run("SADD", "t", "x")
        #expect(h.run("TYPE", "t") == .status("set"))
    }

    @Test func intsetIsSortedAndConverts() {
        let h = Harness()
        h.run("SADD", "i", "3", "1", "2", "-5")
        #expect(h.run("OBJECT", "ENCODING", "i") == .b("intset"))
        #expect(h.run("SMEMBERS", "i") == .set([.b("-5"), .b("1"), .b("2"), .b("3")]))
        h.run("SADD", "i", "abc")
        #expect(h.run("OBJECT", "ENCODING", "i") == .b("hashtable"))
        for n in 0..<512 { h.run("SADD", "big", String(n)) }
        #expect(h.run("OBJECT", "ENCODING", "big") == .b("intset"))
        h.run("SADD", "big", "512")
        #expect(h.run("OBJECT", "ENCODING", "big") == .b("hashtable"))
        h.run("SADD", "lead", "007")
        #expect(h.run("OBJECT", "ENCODING", "lead") == .b("hashtable"))
    }

    @Test func algebra() {
        let h = Harness()
        h.run("SADD", "a", "1", "2", "3", "x")
        h.run("SADD", "b", "2", "3", "4")
        #expect(members(h.run("SINTER", "a", "b")) == ["2", "3"])
        #expect(members(h.run("SUNION", "a", "b")) == ["1", "2", "3", "4", "x"])
        #expect(members(h.run("SDIFF", "a", "b")) == ["1", "x"])
        #expect(members(h.run("SINTER", "a", "nosuch")) == [])
        #expect(members(h.run("SDIFF", "nosuch", "a")) == [])
        #expect(h.run("SINTERSTORE", "d", "a", "b") == .integer(2))
        #expect(members(h.run("SMEMBERS", "d")) == ["2", "3"])
        #expect(h.run("SUNIONSTORE", "d", "a", "b") == .integer(5))
        #expect(h.run("SDIFFSTORE", "d", "a", "a") == .integer(0))
        #expect(h.run("EXISTS", "d") == .integer(0))
        #expect(h.run("SINTERCARD", "2", "a", "b") == .integer(2))
        #expect(h.run("SINTERCARD", "2", "a", "b", "LIMIT", "1") == .integer(1))
        #expect(h.run("SINTERCARD", "0", "a") == .error("ERR numkeys should be greater than 0"))
        #expect(h.run("SINTERCARD", "3", "a", "b") == .error("ERR Number of keys can't be greater than number of args"))
        #expect(h.run("SINTERCARD", "2", "a", "b", "LIMIT", "-1") == .error("ERR LIMIT can't be negative"))
        h.run("SET", "str", "v")
        #expect(h.run("SINTER", "a", "str") == Errors.wrongType)
    }

    @Test func moveAndPop() {
        let h = Harness()
        h.run("SADD", "src", "a", "b")
        #expect(h.run("SMOVE", "src", "dst", "a") == .integer(1))
        #expect(h.run("SMOVE", "src", "dst", "zz") == .integer(0))
        #expect(h.run("SISMEMBER", "dst", "a") == .integer(1))
        #expect(h.run("SMOVE", "src", "dst", "b") == .integer(1))
        #expect(h.run("EXISTS", "src") == .integer(0))
        h.run("SADD", "p", "1", "2", "3", "4", "5")
        #expect(members(h.run("SPOP", "p", "2")).count == 2)
        #expect(h.run("SCARD", "p") == .integer(3))
        #expect(members(h.run("SPOP", "p", "10")).count == 3)
        #expect(h.run("EXISTS", "p") == .integer(0))
        #expect(h.run("SPOP", "p") == .null)
        #expect(h.run("SPOP", "p", "-1") == .error("ERR value is out of range, must be positive"))
        h.run("SADD", "r", "a", "b", "c")
        guard case .array(let repeated) = h.run("SRANDMEMBER", "r", "-7") else {
            Issue.record("unexpected reply shape")
            return
        }
        #expect(repeated.count == 7)
        #expect(members(h.run("SRANDMEMBER", "r", "2")).count == 2)
        #expect(members(h.run("SRANDMEMBER", "r", "20")) == ["a", "b", "c"])
        #expect(h.run("SCARD", "r") == .integer(3))
    }

    @Test func sscanCoversALargeSet() {
        let h = Harness()
        for i in 0..<1500 { h.run("SADD", "big", "m\(i)") }
        var cursor = "0"
        var seen = Set<String>()
        var calls = 0
        repeat {
            calls += 1
            guard case .array(let parts) = h.run("SSCAN", "big", cursor, "COUNT", "100"),
                case .bulk(let next) = parts[0]
            else {
                Issue.record("unexpected reply shape")
                return
            }
            seen.formUnion(members(parts[1]))
            cursor = next.string
        } while cursor != "0" && calls < 1000
        #expect(seen.count == 1500)
    }
}

@Suite("SetValue model")
struct SetValueModelTests {
    @Test(arguments: [7, 8, 9])
    func matchesAReferenceSet(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        var limits = SetLimits()
        limits.maxIntsetEntries = 10
        var set = SetValue()
        var model = Set<Bytes>()
        for step in 0..<3000 {
            let pool = step < 1500 ? 30 : 60
            let n = Int.random(in: -5..<pool, using: &rng)
            let member = n % 17 == 0 ? Bytes("s\(n)") : Bytes(String(n))
            if Bool.random(using: &rng) {
                #expect(set.insert(member, limits: limits) == model.insert(member).inserted)
            } else {
                #expect(set.remove(member) == (model.remove(member) != nil))
            }
            #expect(set.count == model.count)
            #expect(set.contains(member) == model.contains(member))
        }
        #expect(Set(set.members) == model)
    }
}
