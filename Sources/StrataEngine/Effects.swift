//! Effect logging, part of the write record (WriteRecord.swift). After a write command runs,
//! the engine records the command in its deterministic effect form: what replaying it must do to rebuild the
//! same keyspace, whatever the clock or random source says at replay time. By default a
//! command that changed the keyspace (it counted a change or wrote a key) is recorded as it was
//! sent; commands whose outcome depends on time, randomness or floating-point formatting
//! replace that with `propagate(_:)`. Keys that expire or are evicted are recorded as
//! `DEL`, at the moment they go.

/// One write as the append-only file records it.
public struct Effect: Sendable, Equatable {
    /// The database the command applies to.
    public var db: Int
    /// The command and its arguments.
    public var args: [Bytes]

    /// An effect on `db`.
    public init(db: Int, args: [Bytes]) {
        self.db = db
        self.args = args
    }
}

extension Engine {
    /// Records `args` as an effect on `db`, when effects are being recorded; `args` is only
    /// built then (no array per expired or evicted key while there is no AOF).
    @inlinable
    public func recordEffect(_ args: @autoclosure () -> [Bytes], db: Int) {
        guard recordsEffects else { return }
        record.effects.append(Effect(db: db, args: args()))
    }

    /// Whether any effect is waiting to be logged.
    @inlinable
    public var hasEffects: Bool { !record.effects.isEmpty }
}

extension CommandContext {
    /// Records `args` instead of the command as sent; called once per command the effect
    /// consists of (none at all after ``propagateNothing()``).
    @inlinable
    public mutating func propagate(_ args: [Bytes]) {
        guard withEngine({ $0.recordsEffects }) else { return }
        if effectReplacement == nil { effectReplacement = [] }
        effectReplacement?.append(args)
    }

    /// Records nothing for this command even though it counted as a change.
    @inlinable
    public mutating func propagateNothing() {
        guard withEngine({ $0.recordsEffects }) else { return }
        effectReplacement = effectReplacement ?? []
    }

    /// `SET key value PXAT deadline` (or without `PXAT`): how a string write with an
    /// absolute deadline is logged.
    @inlinable
    public mutating func propagateSet(_ key: Bytes, _ value: Bytes, deadline: Int64?, keepTTL: Bool = false) {
        guard withEngine({ $0.recordsEffects }) else { return }
        var args: [Bytes] = [Bytes("SET"), key, value]
        if let deadline {
            args += [Bytes("PXAT"), Bytes(String(deadline))]
        } else if keepTTL {
            args.append(Bytes("KEEPTTL"))
        }
        propagate(args)
    }

    /// `PEXPIREAT key deadline`, or `DEL key` when the deadline has passed.
    @inlinable
    public mutating func propagateDeadline(_ key: Bytes, _ deadline: Int64) {
        guard withEngine({ $0.recordsEffects }) else { return }
        if hasPassed(deadline) {
            propagate([Bytes("DEL"), key])
        } else {
            propagate([Bytes("PEXPIREAT"), key, Bytes(String(deadline))])
        }
    }
}
