//! Shared access to collection values (hashes, sets, ...): read a typed collection, or
//! modify it in place with one lookup — the stored value is swapped out so the collection
//! is uniquely referenced and mutates without a copy — creating it on demand and deleting
//! the key when the collection ends up empty, as Redis does.

/// A collection type kept in one case of `Value`. Static requirements rather than stored
/// closures, so the shared helpers below specialize and inline per type.
protocol CollectionValue {
    /// The collection inside a value, or nil for another type.
    static func extract(_ value: Value) -> Self?
    /// A value holding the collection.
    var wrapped: Value { get }
    /// A new empty collection.
    init()
    /// Number of members.
    var count: Int { get }
}

/// Names a collection type at call sites: `c.readCollection(key, .hash)`.
struct CollectionKind<T: CollectionValue> {}

extension CommandContext {
    /// The collection at `key` for reading: nil when missing, WRONGTYPE for another type.
    func readCollection<T>(_ key: Bytes, _ kind: CollectionKind<T>) -> Result<T?, Reply> {
        guard let value = read(key) else { return .success(nil) }
        guard let collection = T.extract(value) else { return .failure(Errors.wrongType) }
        return .success(collection)
    }

    /// Runs `body` on the collection at `key` in place, creating it when `create`.
    ///
    /// - Returns: `body`'s result; nil when the key is missing and not created; or the
    ///   WRONGTYPE error reply.
    mutating func modifyCollection<T, R>(
        _ key: Bytes, _ kind: CollectionKind<T>, create: Bool, _ body: (inout T) -> R
    ) -> Result<R?, Reply> {
        var wrongType = false
        var emptied = false
        let (db, now) = (self.db, self.now)
        let outcome = withEngine { engine in
            engine.modify(key, db: db, now: now) { value -> R? in
                guard var collection = T.extract(value) else {
                    wrongType = true
                    return nil
                }
                value = .integer(0)  // release the table's reference so the collection is unique
                let result = body(&collection)
                emptied = collection.count == 0
                value = collection.wrapped
                return result
            }
        }
        if wrongType { return .failure(Errors.wrongType) }
        if let outcome, let outcome {
            if emptied {
                let keepsEvent = withEngine { engine in
                    engine.remove(key, db: db)
                    return engine.keyspaceEvents.contains(.generic)
                }
                if keepsEvent {
                    if emptiedKeys == nil { emptiedKeys = [key] } else { emptiedKeys?.append(key) }
                }
            }
            return .success(outcome)
        }
        guard create else { return .success(nil) }
        var collection = T()
        let result = body(&collection)
        if collection.count > 0 { store(key, collection.wrapped) }
        return .success(result)
    }
}

extension CommandContext {
    /// Records the `del` events of collections emptied so far now, for commands that go on
    /// to write another key (SMOVE), so the events keep Redis's order.
    mutating func announceEmptied() {
        for key in emptiedKeys ?? [] { notify(.generic, "del", key) }
        emptiedKeys = nil
    }

    /// The reply of a read-only command on the collection at `key`: `body` gets the
    /// collection (nil when missing); another type gets WRONGTYPE.
    func replyReading<T>(_ key: Bytes, _ kind: CollectionKind<T>, _ body: (T?) -> Reply) -> Reply {
        switch readCollection(key, kind) {
        case .failure(let error): return error
        case .success(let collection): return body(collection)
        }
    }

    /// The reply of a write that counts what it changed (fields, members): the count, with
    /// the change recorded for save points and, when something changed, the keyspace
    /// event `name` of class `type` on the command's key; or the error.
    mutating func countReply(_ outcome: Result<Int?, Reply>, _ type: KeyspaceEventTypes, _ name: String) -> Reply {
        switch outcome {
        case .failure(let error):
            return error
        case .success(let count):
            changed(count ?? 0)
            if let count, count > 0 { notify(type, name, args[1]) }
            return .integer(count ?? 0)
        }
    }
}

extension CollectionKind where T == HashValue {
    /// Hashes.
    static var hash: Self { Self() }
}

extension CollectionKind where T == SetValue {
    /// Sets.
    static var set: Self { Self() }
}

extension CollectionKind where T == ListValue {
    /// Lists.
    static var list: Self { Self() }
}

extension CollectionKind where T == SortedSetValue {
    /// Sorted sets.
    static var sortedSet: Self { Self() }
}

extension HashValue: CollectionValue {
    static func extract(_ value: Value) -> HashValue? {
        if case .hash(let h) = value { return h } else { return nil }
    }
    var wrapped: Value { .hash(self) }
}

extension SetValue: CollectionValue {
    static func extract(_ value: Value) -> SetValue? {
        if case .set(let s) = value { return s } else { return nil }
    }
    var wrapped: Value { .set(self) }
}

extension ListValue: CollectionValue {
    static func extract(_ value: Value) -> ListValue? {
        if case .list(let l) = value { return l } else { return nil }
    }
    var wrapped: Value { .list(self) }
}

extension SortedSetValue: CollectionValue {
    static func extract(_ value: Value) -> SortedSetValue? {
        if case .sortedSet(let z) = value { return z } else { return nil }
    }
    var wrapped: Value { .sortedSet(self) }
}
