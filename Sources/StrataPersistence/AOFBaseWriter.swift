//! Writes the base of an AOF directory from a frozen copy of the keyspace: either a
//! snapshot (`aof-use-rdb-preamble yes`, Strata's compressed layout or plain RDB when
//! `snapshot-compression` is `none`) or RESP commands that rebuild every key (`SET`,
//! `RPUSH`, `SADD`, `ZADD`, `HSET` in batches of 64 items, then `PEXPIREAT`), as Redis's
//! rewrite does without a preamble. Either way the file is written to a temp name and
//! fsynced; the caller renames it into place when it installs the new manifest.

import NIOCore
import RESP
import StrataEngine

/// RESP encoding of logged commands.
public enum AOFEncoding {
    /// Appends `args` as a RESP multibulk request (the shared encoder of the RESP module,
    /// specialised for ``Bytes``: this runs for every write the server executes).
    @inlinable
    public static func append(_ args: [Bytes], to buffer: inout ByteBuffer) {
        buffer.writeRESPCommand(args)
    }

    /// Appends the effects of one command (or one transaction): `SELECT` when the database
    /// changes, and `MULTI`/`EXEC` around them when there is more than one, so that replay
    /// applies all or none of them.
    public static func append(_ effects: [Effect], selectedDb: inout Int, to buffer: inout ByteBuffer) {
        let wrap = effects.count > 1
        if wrap { append([Bytes("MULTI")], to: &buffer) }
        for effect in effects { append(effect, selectedDb: &selectedDb, to: &buffer) }
        if wrap { append([Bytes("EXEC")], to: &buffer) }
    }

    /// Appends one effect, after a `SELECT` when its database is not `selectedDb`.
    @inlinable
    public static func append(_ effect: Effect, selectedDb: inout Int, to buffer: inout ByteBuffer) {
        if effect.db != selectedDb {
            append([Bytes("SELECT"), Bytes(effect.db)], to: &buffer)
            selectedDb = effect.db
        }
        append(effect.args, to: &buffer)
    }
}

/// Writes AOF base files.
public enum AOFBaseWriter {
    /// Items per rebuilding command, as Redis's `AOF_REWRITE_ITEMS_PER_CMD`.
    static let itemsPerCommand = 64

    /// Writes `databases` as a base file at `tempPath` on `fileSystem`, fsynced (not renamed).
    ///
    /// - Parameters:
    ///   - snapshot: a snapshot file (else RESP commands).
    ///   - now: keys whose deadline has passed are left out.
    /// - Returns: the file's size.
    public static func write(
        _ databases: [Database], tempPath: String, fileSystem: any FileSystem = POSIXFileSystem.shared, snapshot: Bool,
        options: SnapshotOptions, now: Int64
    ) throws -> Int {
        if snapshot {
            var options = options
            options.aofBase = true
            // Written to the temp name itself; the caller renames it.
            return try SnapshotWriter.write(
                databases, to: tempPath, tempPath: tempPath + ".part", fileSystem: fileSystem, options: options,
                now: now
            )
            .fileBytes
        }
        let file = try DurableFileWriter(path: tempPath, tempPath: tempPath + ".part", fileSystem: fileSystem)
        do {
            var buffer = ByteBufferAllocator().buffer(capacity: 1 << 20)
            for (index, database) in databases.enumerated() where database.count > 0 {
                AOFEncoding.append([Bytes("SELECT"), Bytes(index)], to: &buffer)
                let metadata = database.allItemMetadata
                try database.forEachLive(now: now) { key, value, deadline in
                    rebuild(key, value, into: &buffer)
                    if let deadline {
                        AOFEncoding.append([Bytes("PEXPIREAT"), key, Bytes(Int(deadline))], to: &buffer)
                    }
                    if !metadata.isEmpty, let item = metadata[key], !item.persistsNothing {
                        AOFEncoding.append(item.command(key: key), to: &buffer)
                    }
                    if buffer.readableBytes >= 1 << 20 { try flush(&buffer, to: file) }
                }
            }
            try flush(&buffer, to: file)
            try file.commit()
        } catch {
            file.abandon()
            throw error
        }
        return file.bytesWritten
    }

    static func flush(_ buffer: inout ByteBuffer, to file: DurableFileWriter) throws {
        try buffer.withUnsafeReadableBytes { try file.append($0) }
        buffer.clear()
    }

    /// RESP commands that rebuild `key` with `value` and its deadline (for `strata-dump
    /// convert --format resp`, whose output `redis-cli --pipe` can send).
    public static func commands(rebuilding key: Bytes, _ value: Value, deadline: Int64?) -> [UInt8] {
        var bytes: [UInt8] = []
        for command in commandArguments(rebuilding: key, value, deadline: deadline) {
            bytes.appendRESPCommand(command)
        }
        return bytes
    }

    /// The commands that rebuild `key` with `value` (`SET`, or `RPUSH`/`SADD`/`HSET`/`ZADD`
    /// in batches of ``itemsPerCommand`` items) and its deadline (`PEXPIREAT`), as
    /// arguments (for `strata-dump restore --to`).
    public static func commandArguments(rebuilding key: Bytes, _ value: Value, deadline: Int64?) -> [[Bytes]] {
        var commands: [[Bytes]] = []
        func batches(_ command: String, _ items: [Bytes], stride width: Int) {
            var start = 0
            while start < items.count {
                let end = min(start + itemsPerCommand * width, items.count)
                commands.append([Bytes(command), key] + items[start..<end])
                start = end
            }
        }
        switch value {
        case .shortString, .longString, .rawString, .integer:
            commands.append([Bytes("SET"), key, value.stringBytes ?? Bytes()])
        case .list(let list):
            batches("RPUSH", Array(list.elements), stride: 1)
        case .set(let set):
            batches("SADD", Array(set.members), stride: 1)
        case .hash(let hash):
            batches("HSET", hash.entries.flatMap { [$0.field, $0.value] }, stride: 2)
        case .sortedSet(let zset):
            batches("ZADD", zset.all.flatMap { [Bytes(NumberFormat.double($0.score)), $0.member] }, stride: 2)
        case .stream(let storage):
            commands += streamCommands(key, storage.stream)
        }
        if let deadline { commands.append([Bytes("PEXPIREAT"), key, Bytes(Int(deadline))]) }
        return commands
    }

    /// Commands that rebuild a stream with its groups. Pending entries whose stream entry
    /// was deleted are kept (Redis's rewrite drops them): a placeholder entry is added at
    /// their id, claimed, then deleted, and `XSETID` puts back the counters it moved.
    static func streamCommands(_ key: Bytes, _ stream: StreamValue) -> [[Bytes]] {
        var commands: [[Bytes]] = []
        let entries = stream.range(from: .zero, to: .max)
        var placeholders: Set<StreamID> = []
        for group in stream.groups.values {
            group.pending.forEach { id, _ in
                if !stream.contains(id) { placeholders.insert(id) }
                return true
            }
        }
        let ordered = (entries.map { ($0.id, $0.fields) } + placeholders.map { ($0, [Bytes("x"), Bytes("y")]) })
            .sorted { $0.0 < $1.0 }
        if ordered.isEmpty {
            // Redis's way to make an empty stream: add an entry with id 0-1 and trim it
            // away (the XSETID after it sets the real last id, which may be 0-0).
            commands.append([
                Bytes("XADD"), key, Bytes("MAXLEN"), Bytes("0"), Bytes("0-1"), Bytes("x"), Bytes("y"),
            ])
        }
        for (id, fields) in ordered { commands.append([Bytes("XADD"), key, id.bytes] + fields) }
        for name in stream.groupNames {
            guard let group = stream.groups[name] else { continue }
            commands.append([
                Bytes("XGROUP"), Bytes("CREATE"), key, name, group.lastID.bytes, Bytes("ENTRIESREAD"),
                Bytes(String(group.entriesRead)),
            ])
            group.pending.forEach { id, entry in
                commands.append(StreamClaimCommands.claimEffect(key, group: name, id: id, entry, lastID: group.lastID))
                return true
            }
            for consumer in group.consumerNames where group.consumers[consumer]?.pending == 0 {
                commands.append([Bytes("XGROUP"), Bytes("CREATECONSUMER"), key, name, consumer])
            }
        }
        if !placeholders.isEmpty { commands.append([Bytes("XDEL"), key] + placeholders.sorted().map { $0.bytes }) }
        commands.append([
            Bytes("XSETID"), key, stream.lastID.bytes, Bytes("ENTRIESADDED"), Bytes(String(stream.entriesAdded)),
            Bytes("MAXDELETEDID"), stream.maxDeletedID.bytes,
        ])
        return commands
    }

    /// Commands that rebuild `value` at `key`.
    static func rebuild(_ key: Bytes, _ value: Value, into buffer: inout ByteBuffer) {
        for command in commandArguments(rebuilding: key, value, deadline: nil) {
            AOFEncoding.append(command, to: &buffer)
        }
    }
}
