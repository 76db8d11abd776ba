//! `strata-dump convert SOURCE OUT`: a snapshot (any codec, or a Redis `dump.rdb`) or an
//! AOF directory into a Strata snapshot (`sdb`, LZ4 or zlib), a plain Redis RDB (`rdb`),
//! RESP commands that `redis-cli --pipe` sends (`resp`), or JSON lines (`jsonl`). A snapshot
//! source is streamed key by key (memory bounded by a chunk); an AOF source is replayed
//! into memory first. Keys already expired are left out, as a save would. OUT is written
//! under a temp name and renamed when complete.

import ArgumentParser
import Foundation
import RESP
import StrataEngine
import StrataPersistence

struct ConvertCommand: DumpSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Converts a snapshot, an RDB file or an AOF directory into a snapshot, RESP commands or JSON lines.",
        usage: "strata-dump convert SOURCE OUT [--format sdb|rdb|resp|jsonl] [--codec lz4|zlib|none]")

    /// What `convert` writes.
    enum Target: String, CaseIterable, ExpressibleByArgument {
        case sdb, rdb, resp, jsonl
    }

    @Argument(
        help: ArgumentHelp("A snapshot, an RDB file, or an AOF directory, manifest or file.", valueName: "SOURCE"))
    var source: String?

    @Argument(help: ArgumentHelp("The file to write, or - for standard output (resp and jsonl).", valueName: "OUT"))
    var out: String?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("What to write; by default told from OUT's extension.", valueName: "FORMAT"))
    var format: Target?

    @Option(parsing: .unconditional, help: ArgumentHelp("The codec of sdb output (default lz4).", valueName: "CODEC"))
    var codec: CompressionCodec?

    init() {}

    func validate() throws {
        guard let out, source != nil else { throw ValidationError("convert takes SOURCE and OUT") }
        let target = try Self.target(format, out: out)
        switch target {
        case .rdb:
            if let codec, codec != .none { throw ValidationError("--format rdb is uncompressed") }
        case .sdb:
            break
        case .resp, .jsonl:
            if codec != nil { throw ValidationError("--codec applies to sdb output") }
        }
        if out == "-" && (target == .sdb || target == .rdb) {
            throw ValidationError("snapshots are written to a file, not -")
        }
    }

    func execute(output: DumpOutput) throws {
        guard let source, let out else { throw DumpFailure.usage("convert takes SOURCE and OUT") }
        let target = try Self.target(format, out: out)
        var snapshotOptions = SnapshotOptions()
        snapshotOptions.codec = target == .rdb ? .none : codec ?? .lz4
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let sink = try KeySink(target: target, path: out, options: snapshotOptions, now: now, output: output)
        do {
            let outcome = try KeySource(path: source, output: output).forEachKey(function: sink.function) {
                db, key, value, deadline, metadata in
                try sink.append(db: db, key: key, value: value, deadline: deadline, metadata: metadata)
            }
            let written = try sink.finish()
            var line = "wrote \(out) (\(target.rawValue)): \(written.keys) keys, \(humanBytes(written.bytes))"
            if outcome.expired > 0 { line += "; \(outcome.expired) expired keys left out" }
            if out == "-" {
                output.printError(line)
            } else {
                output.print(line)
            }
        } catch {
            sink.abandon()
            throw error
        }
    }

    /// The output format: `format`, else from OUT's extension.
    static func target(_ format: Target?, out: String) throws -> Target {
        if let format { return format }
        if out == "-" { throw ValidationError("writing to standard output needs --format resp or --format jsonl") }
        switch (out as NSString).pathExtension.lowercased() {
        case "sdb": return .sdb
        case "rdb": return .rdb
        case "resp", "aof": return .resp
        case "jsonl", "ndjson", "json": return .jsonl
        default: throw ValidationError("cannot tell the format from \(out)'s name; give --format sdb|rdb|resp|jsonl")
        }
    }
}

/// Where converted keys go: a snapshot stream, or a RESP or JSON-lines file.
final class KeySink {
    private let snapshot: SnapshotStreamWriter?
    private let file: DurableFileWriter?
    private let target: ConvertCommand.Target
    private let output: DumpOutput
    private var buffer: [UInt8] = []
    private var selectedDb = -1
    private var keys = 0
    private var written = 0

    init(target: ConvertCommand.Target, path: String, options: SnapshotOptions, now: Int64, output: DumpOutput) throws {
        self.target = target
        self.output = output
        let temp = path + ".tmp-\(getpid())"
        switch target {
        case .sdb, .rdb:
            snapshot = try SnapshotStreamWriter(path: path, tempPath: temp, options: options, now: now)
            file = nil
        case .resp, .jsonl:
            snapshot = nil
            file = path == "-" ? nil : try DurableFileWriter(path: path, tempPath: temp)
        }
        buffer.reserveCapacity(1 << 20)
    }

    /// Adds a function library (they come before the keys): a snapshot's FUNCTION2 record,
    /// `FUNCTION LOAD REPLACE` in RESP output, a `{"function": code}` line in JSON lines.
    func function(_ code: Bytes) throws {
        switch target {
        case .sdb, .rdb:
            snapshot?.functions.append(code)
        case .resp:
            buffer.appendRESPCommand([Bytes("FUNCTION"), Bytes("LOAD"), Bytes("REPLACE"), code])
        case .jsonl:
            buffer += Array(jsonLine(["function": code.string]).utf8) + [10]
        }
    }

    /// Adds one key. Its memcached metadata goes to snapshots and JSON lines; RESP output
    /// (for `redis-cli --pipe`) has no command a client may send for it.
    func append(db: Int, key: Bytes, value: Value, deadline: Int64?, metadata: ItemMetadata? = nil) throws {
        keys += 1
        switch target {
        case .sdb, .rdb:
            try snapshot?.append(db: db, key: key, value: value, deadline: deadline, metadata: metadata)
            return
        case .resp:
            if db != selectedDb {
                buffer.appendRESPCommand([Bytes("SELECT"), Bytes(db)])
                selectedDb = db
            }
            buffer += AOFBaseWriter.commands(rebuilding: key, value, deadline: deadline)
        case .jsonl:
            var object: [String: Any] = [
                "db": db, "key": key.jsonValue, "type": value.typeName, "value": KeySink.json(value),
            ]
            if let deadline { object["expiresAt"] = deadline }
            if let metadata { object.merge(metadata.jsonFields) { $1 } }
            buffer += Array(jsonLine(object).utf8) + [10]
        }
        if buffer.count >= 1 << 20 { try flush() }
    }

    private func flush() throws {
        if let file {
            try file.append(buffer)
        } else {
            try output.writeOutput(buffer)
        }
        written += buffer.count
        buffer.removeAll(keepingCapacity: true)
    }

    /// Publishes the output.
    func finish() throws -> (keys: Int, bytes: Int) {
        if let snapshot {
            let summary = try snapshot.finish()
            return (summary.keys, summary.fileBytes)
        }
        try flush()
        try file?.commit()
        return (keys, written)
    }

    /// Removes the partial output.
    func abandon() {
        snapshot?.abandon()
        file?.abandon()
    }

    /// A value as JSON: strings as text, lists and sets as arrays, hashes as objects, sorted
    /// sets as arrays of `[member, score]` (`"inf"`/`"-inf"` for infinite scores); bytes that are not UTF-8 as `{"base64": ...}`
    /// (a hash field that is not UTF-8 is keyed by `base64:` and its base64).
    static func json(_ value: Value) -> Any {
        switch value {
        case .integer, .shortString, .longString, .rawString:
            return (value.stringBytes ?? Bytes()).jsonValue
        case .list(let list): return list.elements.map { $0.jsonValue }
        case .set(let set): return set.members.map { $0.jsonValue }
        case .hash(let hash):
            var object: [String: Any] = [:]
            for entry in hash.entries {
                let name = entry.field.withUnsafeBytes { raw in
                    String(validating: raw, as: UTF8.self) ?? "base64:" + Data(raw).base64EncodedString()
                }
                object[name] = entry.value.jsonValue
            }
            return object
        case .sortedSet(let zset):
            // JSON has no infinity: `inf` and `-inf` scores are written as those strings.
            return zset.all.map {
                [$0.member.jsonValue, $0.score.isFinite ? $0.score : NumberFormat.double($0.score)] as [Any]
            }
        case .stream(let storage):
            return storage.stream.range(from: .zero, to: .max).map {
                [$0.id.description, $0.fields.map { $0.jsonValue }] as [Any]
            }
        }
    }
}
