//! The entry point for keyspace writes of commands the server executes (RESTORE, MIGRATE):
//! the server computes what needs its own modules (decoding a payload, talking to another
//! server) and then writes through a handler run like any engine command's, so the write
//! record sees the keys, changes, events and effects exactly as it does for the engine's
//! own commands.

extension Engine {
    /// Runs `body` as the write of the server command `args` (already counted by the
    /// server as a processed command) in `db`.
    public func runServerWrite(
        args: [Bytes], db: Int, now: Int64, _ body: (inout CommandContext) -> Reply
    ) -> Reply {
        var db = db
        let processed = stats.commandsProcessed
        let reply = run(body, args: args, db: &db, now: now)
        stats.commandsProcessed = processed
        return reply
    }
}
