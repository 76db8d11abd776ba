import Testing

@testable import StrataEngine

@Suite("Keyspace events")
struct KeyspaceEventsTests {
    /// Redis prints no `n` beside `A` (but keeps it): hence `AKEmn` → `AKEm`.
    @Test(arguments: [
        ("KEA", "AKE"), ("Kg$lshzxetd", "AK"), ("Elm", "lEm"), ("gx", "gx"), ("", ""), ("AKEmn", "AKEm"),
    ])
    func flagsPrintCanonically(input: String, printed: String) {
        #expect(KeyspaceEventTypes(flags: input)?.flags == printed)
    }

    @Test func unknownFlagsAreRejected() {
        #expect(KeyspaceEventTypes(flags: "KEQ") == nil)
        #expect(KeyspaceEventTypes(flags: "a") == nil)
    }

    @Test func commandsRecordOnlyEnabledClassesInOrder() {
        let h = Harness()
        h.engine.keyspaceEvents = KeyspaceEventTypes(flags: "Elg") ?? []
        h.run("SET", "s", "v")  // string class: not enabled
        h.run("RPUSH", "q", "a")
        h.run("LPOP", "q")  // empties the list: lpop, then del
        #expect(
            h.engine.takeEvents().map { "\($0.name) \($0.key.string)" } == ["rpush q", "lpop q", "del q"])
        #expect(h.engine.takeEvents().isEmpty)
    }

    @Test func nothingIsRecordedWithoutKOrE() {
        let h = Harness()
        h.engine.keyspaceEvents = KeyspaceEventTypes(flags: "A") ?? []
        h.run("SET", "s", "v")
        #expect(h.engine.record.events.isEmpty)
    }

    @Test func lazyExpiryIsRecorded() {
        let h = Harness()
        h.engine.keyspaceEvents = KeyspaceEventTypes(flags: "Ex") ?? []
        h.run("SET", "session", "v", "PX", "10")
        h.advance(milliseconds: 20)
        #expect(h.run("GET", "session") == .null)
        #expect(h.engine.takeEvents() == [KeyspaceEvent(type: .expired, name: "expired", key: Bytes("session"), db: 0)])
    }
}
