//! `strata-dump backup --from HOST:PORT --out DIR [--keep N]`: takes a consistent snapshot
//! of a running server over the network the way `redis-cli --rdb` does (REPLCONF capa eof,
//! REPLCONF rdb-only 1, SYNC; the payload as `$<length>` or, from a diskless Redis, as
//! `$EOF:<mark>` ... `<mark>`), so it works against Strata and Redis alike. The file is
//! written under a temp name, fsynced, renamed to `backup-<UTC time>.rdb`, read back and
//! verified, and only then are the oldest backups beyond `--keep` deleted. With
//! `--compress lz4|zlib` the backup is rewritten in Strata's snapshot format
//! (`backup-<UTC time>.sdb`, function libraries and memcached metadata included), which is
//! verified in turn before the plain file goes. Exit code 0 only when the new backup
//! verified.

import ArgumentParser
import Foundation
import StrataEngine
import StrataPersistence

struct BackupCommand: DumpSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Takes a verified snapshot of a running server (Strata or Redis) over the network.",
        usage:
            "strata-dump backup --from HOST:PORT --out DIR [--keep N] [--compress lz4|zlib] [--password P] [--user U] [--tls [--cacert FILE] [--cert FILE --key FILE] [--insecure]] [--json]"
    )

    static let prefix = "backup-"
    static let suffix = ".rdb"
    /// The suffix of compressed backups (Strata's snapshot format).
    static let compressedSuffix = ".sdb"

    @Option(parsing: .unconditional, help: ArgumentHelp("The server to back up.", valueName: "HOST:PORT"))
    var from: String?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("The directory of the backups (created when missing).", valueName: "DIR"))
    var out: String?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Keep the newest N backups in DIR, deleting older ones.", valueName: "N"))
    var keep: Int?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Keep the backup as a compressed Strata snapshot (.sdb).", valueName: "lz4|zlib"))
    var compress: CompressionCodec?

    @Option(parsing: .unconditional, help: ArgumentHelp("The password for AUTH.", valueName: "P"))
    var password: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("With --password: the user for AUTH.", valueName: "U"))
    var user: String?

    @OptionGroup var tlsOptions: TLSClientOptions

    @Flag(help: "Write the result as one JSON line.")
    var json = false

    init() {}

    func validate() throws {
        guard from != nil, out != nil else { throw ValidationError("backup needs --from HOST:PORT and --out DIR") }
        try tlsOptions.validate()
        try checkRange(keep, "--keep", in: 1...1_000_000)
        if compress == CompressionCodec.none { throw ValidationError("--compress takes lz4 or zlib") }
    }

    func execute(output: DumpOutput) throws {
        guard let address = from, let directory = out else {
            throw DumpFailure.usage("backup needs --from HOST:PORT and --out DIR")
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw DumpFailure.failed("cannot create \(directory): \(error)")
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss.SSS'Z'"
        let start = Date()
        var name = Self.prefix + formatter.string(from: start) + Self.suffix
        var attempt = 1
        while FileManager.default.fileExists(atPath: directory + "/" + name) {
            attempt += 1
            name = Self.prefix + formatter.string(from: start) + "-\(attempt)" + Self.suffix
        }
        let path = directory + "/" + name
        let bytes: Int
        do {
            let connection = try RESPConnection(address, timeoutSeconds: 300, tls: tlsOptions.makeContext())
            try connection.authenticate(user: user, password: password)
            _ = try connection.call(["REPLCONF", "capa", "eof"])
            _ = try connection.call(["REPLCONF", "rdb-only", "1"])
            try connection.send(.respCommand([Array("SYNC".utf8)]))
            bytes = try Self.receive(
                from: connection, into: path, tempPath: directory + "/.\(name).part", output: output)
        } catch {
            throw DumpFailure.failed("backup from \(address) failed: \(error)")
        }
        // Read it back: every record and the checksum.
        var keys: Int
        var kept = (name: name, path: path, bytes: bytes)
        do {
            keys = try Self.verify(path)
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw DumpFailure.failed("the backup did not verify and was removed: \(error)")
        }
        if let codec = compress {
            let compressedName = String(name.dropLast(Self.suffix.count)) + Self.compressedSuffix
            let compressedPath = directory + "/" + compressedName
            do {
                try Self.compress(path, into: compressedPath, codec: codec)
                keys = try Self.verify(compressedPath)
            } catch {
                try? FileManager.default.removeItem(atPath: compressedPath)
                throw DumpFailure.failed(
                    "the compressed backup did not verify and was removed (the plain one stays: \(path)): \(error)")
            }
            try? FileManager.default.removeItem(atPath: path)
            let size = (try? FileManager.default.attributesOfItem(atPath: compressedPath)[.size] as? Int) ?? nil
            kept = (compressedName, compressedPath, size ?? 0)
        }
        var removed: [String] = []
        if let keep {
            let backups = Self.oldestFirst(in: directory)
            for old in backups.dropLast(keep) where old != kept.name {
                if (try? FileManager.default.removeItem(atPath: directory + "/" + old)) != nil { removed.append(old) }
            }
        }
        let remaining = Self.oldestFirst(in: directory)
        let seconds = Date().timeIntervalSince(start)
        if json {
            output.print(
                jsonLine([
                    "file": kept.path, "keys": keys, "bytes": kept.bytes, "received": bytes, "seconds": seconds,
                    "removed": removed, "kept": remaining, "verified": true,
                ]))
        } else {
            var line =
                "backup \(kept.path): \(keys) keys, \(humanBytes(kept.bytes)), verified, in \(String(format: "%.1f", seconds)) s"
            if compress != nil { line += " (\(humanBytes(bytes)) received)" }
            line += "; kept \(remaining.count): \(remaining.joined(separator: ", "))"
            line += removed.isEmpty ? "; removed none" : "; removed \(removed.joined(separator: ", "))"
            output.print(line)
        }
    }

    /// Reads the backup at `path` back (every record and the checksum); its key count.
    static func verify(_ path: String) throws -> Int {
        let report = try SnapshotReader.records(path: path, settings: EngineSettings()) { _ in }
        guard report.checksumMatches != false else {
            throw FileDamageError(path: path, offset: report.rdbBytes, reason: "RDB checksum mismatch")
        }
        return report.keys
    }

    /// Rewrites the plain backup at `source` as a Strata snapshot compressed with `codec`
    /// (keys, deadlines, function libraries and memcached metadata), in bounded memory.
    static func compress(_ source: String, into path: String, codec: CompressionCodec) throws {
        var options = SnapshotOptions()
        options.codec = codec
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let writer = try SnapshotStreamWriter(path: path, tempPath: path + ".part", options: options, now: now)
        do {
            _ = try SnapshotReader.records(
                path: source, settings: EngineSettings(), function: { writer.functions.append($0) }
            ) { record in
                try writer.append(
                    db: record.db, key: record.key, value: record.value, deadline: record.deadline,
                    metadata: record.metadata)
            }
            _ = try writer.finish()
        } catch {
            writer.abandon()
            throw error
        }
    }

    /// The backups in `directory`, oldest first (by modification time, then by name).
    static func oldestFirst(in directory: String) -> [String] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter {
            $0.hasPrefix(prefix) && ($0.hasSuffix(suffix) || $0.hasSuffix(compressedSuffix))
        }
        var dated: [(date: Date, name: String)] = []
        for name in names {
            let attributes = try? FileManager.default.attributesOfItem(atPath: directory + "/" + name)
            dated.append(((attributes?[.modificationDate] as? Date) ?? .distantPast, name))
        }
        dated.sort { $0.date != $1.date ? $0.date < $1.date : $0.name < $1.name }
        return dated.map(\.name)
    }

    /// Reads the snapshot payload that follows SYNC into `path` (through `tempPath`).
    static func receive(
        from connection: RESPConnection, into path: String, tempPath: String, output: DumpOutput
    ) throws -> Int {
        var line: [UInt8] = []
        // Newlines are keepalives sent while the server prepares the snapshot.
        repeat { line = try connection.readLine() } while line.isEmpty
        guard line.first == UInt8(ascii: "$") else {
            let text = String(decoding: line, as: UTF8.self)
            throw ConnectionError(
                description:
                    "\(connection.address): \(text.hasPrefix("-") ? String(text.dropFirst()) : "unexpected reply \(text)")"
            )
        }
        let header = String(decoding: line.dropFirst(), as: UTF8.self)
        let file = try DurableFileWriter(path: path, tempPath: tempPath)
        do {
            var total = 0
            if header.hasPrefix("EOF:") {
                let mark = Array(header.dropFirst(4).utf8)
                guard mark.count == 40 else { throw ConnectionError(description: "bad EOF mark \(header)") }
                var pending: [UInt8] = []
                let progress = Progress(totalBytes: 0, output: output)
                defer { progress.finish() }
                while true {
                    progress.update(bytes: total, keys: 0)
                    pending += try connection.readSome(limit: 1 << 20)
                    if pending.count >= mark.count && Array(pending.suffix(mark.count)) == mark {
                        pending.removeLast(mark.count)
                        try file.append(pending)
                        total += pending.count
                        break
                    }
                    if pending.count > mark.count {
                        let ready = pending.count - mark.count
                        try file.append(Array(pending.prefix(ready)))
                        total += ready
                        pending.removeFirst(ready)
                    }
                }
            } else {
                guard let length = Int(header), length >= 0 else {
                    throw ConnectionError(description: "bad payload length \(header)")
                }
                let progress = Progress(totalBytes: length, output: output)
                defer { progress.finish() }
                while total < length {
                    let piece = try connection.readSome(limit: min(1 << 20, length - total))
                    try file.append(piece)
                    total += piece.count
                    progress.update(bytes: total, keys: 0)
                }
            }
            try file.commit()
            return total
        } catch {
            file.abandon()
            throw error
        }
    }
}
