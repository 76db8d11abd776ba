//! Writing into a string value where it is stored. HyperLogLog registers and BITFIELD
//! counters change a few bytes of a string per command; copying the string out, changing
//! it and storing a new one cost a 12 KB copy per PFADD of a dense HyperLogLog. Here the
//! bytes are written in place when nothing else holds them; a string shared with a
//! snapshot's frozen copy or a reply not yet written is copied once first, as copy on
//! write requires. The string takes the `raw` encoding, as Redis unshares a string before
//! writing into it.

extension Value {
    /// Calls `body` with the bytes of a string value, read in place; nil (and `body` is not
    /// called) for other types.
    @inlinable
    public func withStringBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R? {
        switch self {
        case .longString(let storage, let count), .rawString(let storage, let count):
            return storage.withBytes(count: count, body)
        case .shortString, .integer:
            return stringBytes?.withUnsafeBytes(body)
        case .hash, .set, .list, .sortedSet, .stream:
            return nil
        }
    }

    /// Calls `body` with the bytes of a string value, writable in place, grown with zeros to
    /// at least `minimumCount` bytes first; `body` also learns whether it grew. Nil (and
    /// `body` is not called) for other types, and when `condition` refuses the bytes as
    /// they are (the value is then left exactly as it was).
    @inlinable
    public mutating func withMutableStringBytes<R>(
        minimumCount: Int = 0, if condition: (UnsafeRawBufferPointer) -> Bool = { _ in true },
        _ body: (UnsafeMutableRawBufferPointer, _ grown: Bool) -> R
    ) -> R? {
        // The condition reads the bytes where they are; then the value is moved out of
        // `self` rather than bound by a pattern: a binding is a second reference (a retain
        // and a release per call), and it would also hide whether the stored one is the
        // only one. (`condition` is not optional: an optional closure escapes, and calling
        // it copied the value and the closure each time.)
        guard withStringBytes(condition) == true else { return nil }
        var taken = Value.integer(0)
        swap(&self, &taken)
        var storage: ByteStorage
        let oldCount: Int
        switch consume taken {
        case .longString(let held, let heldCount), .rawString(let held, let heldCount):
            storage = held
            oldCount = heldCount
        case let other:
            self = other
            guard let bytes = stringBytes else { return nil }
            oldCount = bytes.count
            storage = bytes.withUnsafeBytes {
                ByteStorage.make(copying: $0, capacity: ByteStorage.capacity(growing: $0.count, to: minimumCount))
            }
        }
        let count = Swift.max(oldCount, minimumCount)
        if !isKnownUniquelyReferenced(&storage) || (count > oldCount && storage.capacity < count) {
            let old = storage
            let capacity = count > oldCount ? ByteStorage.capacity(growing: oldCount, to: count) : count
            storage = old.withBytes(count: oldCount) { ByteStorage.make(copying: $0, capacity: capacity) }
        }
        // From here on a constant: calls on the variable retained and released it. The
        // address is taken first: `body` called inside the storage's closure kept the
        // storage retained around it (this function holds it until it is stored back).
        let target = consume storage
        let pointer = target.withUnsafeMutablePointerToElements { $0 }
        if count > oldCount { (pointer + oldCount).initialize(repeating: 0, count: count - oldCount) }
        let result = body(UnsafeMutableRawBufferPointer(start: pointer, count: count), count > oldCount)
        self = .rawString(target, count: count)
        return result
    }
}

extension Value {
    /// A new `raw` string of `count` zero bytes, written by `body` before it is stored.
    @inlinable
    public static func newRawString<R>(
        zeroes count: Int, _ body: (UnsafeMutableRawBufferPointer) -> R
    ) -> (value: Value, result: R) {
        let storage = ByteStorage.make(copying: UnsafeRawBufferPointer(start: nil, count: 0), capacity: count)
        let result = storage.withUnsafeMutablePointerToElements { pointer -> R in
            pointer.initialize(repeating: 0, count: count)
            return body(UnsafeMutableRawBufferPointer(start: pointer, count: count))
        }
        return (.rawString(storage, count: count), result)
    }
}

extension Engine {
    /// Runs `body` on the live value at `key` in place, without noting a write: for
    /// commands that note one (``noteWritten(_:db:)``) only when they changed something.
    /// Applies lazy expiry; nil when the key does not exist.
    @inlinable
    public func modifyUnrecorded<R>(_ key: Bytes, db: Int, now: Int64, _ body: (inout Value) -> R) -> R? {
        let (outcome, expired) = databases[db].modify(key, now: expiryTime(now), body)
        if expired { noteExpired(key, db: db) }
        return outcome
    }
}

extension CommandContext {
    /// ``Engine/modifyUnrecorded(_:db:now:_:)`` in the client's database.
    @inlinable
    public func modifyUnrecorded<R>(_ key: Bytes, _ body: (inout Value) -> R) -> R? {
        let (db, now) = (self.db, self.now)
        return withEngine { $0.modifyUnrecorded(key, db: db, now: now, body) }
    }
}
