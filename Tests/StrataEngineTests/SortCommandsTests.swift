import Testing

@testable import StrataEngine

@Suite("SortCommands")
struct SortCommandsTests {
    @Test func numericAlphaLimitAndStore() {
        let h = Harness()
        h.run("RPUSH", "l", "3", "1", "2", "10")
        #expect(h.run("SORT", "l") == .array([.b("1"), .b("2"), .b("3"), .b("10")]))
        #expect(h.run("SORT", "l", "ALPHA") == .array([.b("1"), .b("10"), .b("2"), .b("3")]))
        #expect(h.run("SORT", "l", "DESC", "LIMIT", "0", "2") == .array([.b("10"), .b("3")]))
        #expect(h.run("SORT", "l", "STORE", "out") == .integer(4))
        #expect(h.run("LRANGE", "out", "0", "-1") == .array([.b("1"), .b("2"), .b("3"), .b("10")]))
        h.run("RPUSH", "words", "b", "a")
        #expect(h.run("SORT", "words") == .error("ERR One or more scores can't be converted into double"))
    }

    @Test func byAndGetPatterns() {
        let h = Harness()
        h.run("SADD", "users", "1", "2", "3")
        h.run("MSET", "age_1", "30", "age_2", "20", "age_3", "25", "name_1", "ann", "name_2", "bob")
        h.run("HSET", "user_3", "name", "cid")
        #expect(h.run("SORT", "users", "BY", "age_*", "GET", "name_*") == .array([.b("bob"), .null, .b("ann")]))
        #expect(
            h.run("SORT", "users", "BY", "age_*", "GET", "#", "GET", "user_*->name", "LIMIT", "0", "2")
                == .array([.b("2"), .null, .b("3"), .b("cid")]))
    }

    @Test func patternsRefusedWhileTheServerSaysSo() {
        let h = Harness()
        h.run("RPUSH", "l", "2", "1")
        h.engine.sortPatternsRefused = true
        #expect(
            h.run("SORT", "l", "BY", "w_*")
                == .error("ERR BY option of SORT denied due to insufficient ACL permissions."))
        #expect(h.run("SORT", "l", "BY", "nosort") == .array([.b("2"), .b("1")]))
        #expect(
            h.run("SORT", "l", "GET", "#")
                == .error("ERR GET option of SORT denied due to insufficient ACL permissions."))
        h.engine.sortPatternsRefused = false
        #expect(h.run("SORT", "l", "GET", "#") == .array([.b("1"), .b("2")]))
    }
}
