@testable import StrataEngine

/// Drives an engine with a fake clock, the way the server does.
final class Harness {
    let engine = Engine()
    var now: Int64 = 1_700_000_000_000
    var db = 0

    /// Runs a command given as words.
    @discardableResult
    func run(_ words: String...) -> Reply {
        engine.execute(words.map { Bytes($0) }, db: &db, now: now)
    }

    /// Runs a command given as byte strings.
    @discardableResult
    func run(bytes: [Bytes]) -> Reply {
        engine.execute(bytes, db: &db, now: now).expanded
    }

    /// Moves the clock forward.
    func advance(milliseconds: Int64) { now += milliseconds }
}

extension Reply {
    static func b(_ s: String) -> Reply { .bulk(Bytes(s)) }
}
