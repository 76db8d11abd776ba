//! Effect logging for the append-only file. After a write command runs, the engine records
//! the command in its deterministic effect form: what replaying it must do to rebuild the
//! same keyspace, whatever the clock or random source says at replay time. By default a
//! command that changed the keyspace (the `dirty` counter moved) is recorded as it was
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
        pendingEffects.append(Effect(db: db, args: args()))
    }

    /// Hands over the effects recorded so far.
    public func takeEffects() -> [Effect] {
        settleEffects()
        defer { pendingEffects.removeAll(keepingCapacity: true) }
        return pendingEffects
    }

    /// Moves the last command's as-sent effect into ``pendingEffects``.
    @inlinable
    public func settleEffects() {
        if let effect = commandAsSent {
            pendingEffects.append(effect)
            commandAsSent = nil
        }
    }

    /// Whether any effect is waiting to be taken.
    @inlinable
    public var hasEffects: Bool { commandAsSent != nil || !pendingEffects.isEmpty }

    /// Records what a finished command did: its replacement effects if it gave any,
    /// otherwise the command itself when it changed the keyspace.
    @inlinable
    func recordEffects(of context: CommandContext, db: Int, dirtyBefore: Int) {
        if let replacement = context.effectReplacement {
            for args in replacement { pendingEffects.append(Effect(db: db, args: args)) }
        } else if stats.dirty != dirtyBefore {
            // The common case, kept out of the array (the server encodes it straight away).
            commandAsSent = Effect(db: db, args: context.args)
        }
    }
}

extension CommandContext {
    /// Records `args` instead of the command as sent; called once per command the effect
    /// consists of (none at all after ``propagateNothing()``).
    @inlinable
    public mutating func propagate(_ args: [Bytes]) {
        guard engine.recordsEffects else { return }
        if effectReplacement == nil { effectReplacement = [] }
        effectReplacement?.append(args)
    }

    /// Records nothing for this command even though it counted as a change.
    @inlinable
    public mutating func propagateNothing() {
        guard engine.recordsEffects else { return }
        effectReplacement = effectReplacement ?? []
    }

    /// `SET key value PXAT deadline` (or without `PXAT`): how a string write with an
    /// absolute deadline is logged.
    @inlinable
    public mutating func propagateSet(_ key: Bytes, _ value: Bytes, deadline: Int64?, keepTTL: Bool = false) {
        guard engine.recordsEffects else { return }
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
        guard engine.recordsEffects else { return }
        if hasPassed(deadline) {
            propagate([Bytes("DEL"), key])
        } else {
            propagate([Bytes("PEXPIREAT"), key, Bytes(String(deadline))])
        }
    }
}
