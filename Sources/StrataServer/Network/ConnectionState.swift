//! A connection's state as one value: whether it reads and executes its input, waits for a
//! blocking command, holds its replies for an fsync, sends a snapshot, or is closing. One
//! enum instead of independent flags, so that the transitions are explicit and tested
//! (ConnectionStateTests) and impossible mixes (a snapshot transfer while blocked) cannot be
//! represented. Being inside MULTI or subscribed does not stop input from executing, so
//! those are modes of the session (its queued commands, its channel sets), not states here.

/// What governs a connection's input and output.
enum ConnectionState {
    /// Reading and executing commands, replies flushed with the event-loop pass.
    case serving
    /// Parked by a blocking command until a key it waits on is ready or it times out;
    /// `repliesHeld` when replies sent before it also wait for an fsync.
    case blocked(BlockedClient, repliesHeld: Bool)
    /// Replies wait until the AOF is synced as far as this client's writes
    /// (`appendfsync always`); input waits meanwhile.
    case heldForDurability
    /// Holding a command back while CLIENT PAUSE is in effect; it runs when the pause ends
    /// (the connection keeps the command).
    case postponed
    /// Waiting for a snapshot to send (SYNC/PSYNC); input waits meanwhile. A snapshot-only
    /// caller is closed after it, a replica serves again once it is on its way.
    case sendingSnapshot
    /// Closing: nothing more is read, executed or queued.
    case closing

    /// Whether the next command of the input may execute now.
    var executesInput: Bool {
        if case .serving = self { return true }
        return false
    }

    /// Whether the connection is closing.
    var isClosing: Bool {
        if case .closing = self { return true }
        return false
    }

    /// Whether replies wait for an fsync.
    var holdsReplies: Bool {
        switch self {
        case .heldForDurability: return true
        case .blocked(_, let held): return held
        default: return false
        }
    }

    /// The blocking command's parking record, while blocked.
    var blockedClient: BlockedClient? {
        if case .blocked(let client, _) = self { return client }
        return nil
    }

    /// Parks on a blocking command (from serving only: nothing else executes commands).
    mutating func block(_ client: BlockedClient) {
        guard case .serving = self else { return }
        self = .blocked(client, repliesHeld: false)
    }

    /// Leaves the blocked state (served, timed out, released), keeping held replies held.
    mutating func unblock() {
        guard case .blocked(_, let held) = self else { return }
        self = held ? .heldForDurability : .serving
    }

    /// Holds replies for an fsync.
    mutating func holdReplies() {
        switch self {
        case .serving: self = .heldForDurability
        case .blocked(let client, _): self = .blocked(client, repliesHeld: true)
        default: break
        }
    }

    /// Releases replies held for an fsync.
    mutating func releaseReplies() {
        switch self {
        case .heldForDurability: self = .serving
        case .blocked(let client, _): self = .blocked(client, repliesHeld: false)
        default: break
        }
    }

    /// Holds the next command back for a pause (from serving only).
    mutating func postpone() {
        guard case .serving = self else { return }
        self = .postponed
    }

    /// Ends a postponement: input executes again.
    mutating func resume() {
        guard case .postponed = self else { return }
        self = .serving
    }

    /// Whether a command waits for a pause to end.
    var isPostponed: Bool {
        if case .postponed = self { return true }
        return false
    }

    /// Starts a snapshot transfer (from serving only).
    mutating func startSnapshotTransfer() {
        guard case .serving = self else { return }
        self = .sendingSnapshot
    }

    /// A replica's snapshot is on its way: its input executes again.
    mutating func endSnapshotTransfer() {
        guard case .sendingSnapshot = self else { return }
        self = .serving
    }
}
