//! The manifest of a multi-part append-only file, in Redis 7's syntax: one line per file,
//! `file <name> seq <n> type <b|h|i>`, naming the base (a snapshot or a RESP file), the
//! incremental files in the order they are replayed, and history files waiting to be
//! deleted after a rewrite. Names follow Redis 7: `<appendfilename>.<seq>.base.rdb`,
//! `<appendfilename>.<seq>.base.aof`, `<appendfilename>.<seq>.incr.aof`, and
//! `<appendfilename>.manifest`.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The manifest of an AOF directory.
public struct AOFManifest: Equatable, Sendable {
    /// What a listed file is.
    public enum FileType: String, Sendable {
        /// The base: a snapshot, or RESP commands.
        case base = "b"
        /// Left over from before a rewrite; deleted once the new manifest is on disk.
        case history = "h"
        /// Commands appended since the base was written.
        case incremental = "i"
    }

    /// One listed file.
    public struct File: Equatable, Sendable {
        /// The file name inside the AOF directory.
        public var name: String
        /// Its sequence number.
        public var sequence: Int
        /// Its role.
        public var type: FileType

        /// A listed file.
        public init(name: String, sequence: Int, type: FileType) {
            self.name = name
            self.sequence = sequence
            self.type = type
        }
    }

    /// The base file, if any.
    public var base: File?
    /// Incremental files, in replay order (increasing sequence).
    public var incrementals: [File] = []
    /// History files to delete.
    public var history: [File] = []

    /// An empty manifest.
    public init(base: File? = nil, incrementals: [File] = [], history: [File] = []) {
        self.base = base
        self.incrementals = incrementals
        self.history = history
    }

    /// The files to replay at start-up, in order.
    public var replayOrder: [File] { (base.map { [$0] } ?? []) + incrementals }

    /// The sequence number a new base gets.
    public var nextBaseSequence: Int { (base?.sequence ?? 0) + 1 }

    /// The sequence number a new incremental file gets.
    public var nextIncrementalSequence: Int { (incrementals.last?.sequence ?? 0) + 1 }

    // MARK: Names

    /// `<prefix>.manifest`.
    public static func manifestName(_ prefix: String) -> String { prefix + ".manifest" }

    /// `<prefix>.<seq>.base.rdb` or `.base.aof`.
    public static func baseName(_ prefix: String, sequence: Int, snapshot: Bool) -> String {
        "\(prefix).\(sequence).base.\(snapshot ? "rdb" : "aof")"
    }

    /// `<prefix>.<seq>.incr.aof`.
    public static func incrementalName(_ prefix: String, sequence: Int) -> String {
        "\(prefix).\(sequence).incr.aof"
    }

    // MARK: Text

    /// The manifest as Redis 7 writes it: base, then incrementals, then history.
    public func serialized() -> String {
        var text = ""
        for file in (base.map { [$0] } ?? []) + history + incrementals {
            text += AOFManifest.line(for: file) + "\n"
        }
        return text
    }

    /// The largest manifest read: a real one lists a few files on short lines.
    public static let maxBytes = 1 << 20

    /// Reads and parses the manifest at `path` on `fileSystem`.
    ///
    /// - Throws: ``FileDamageError`` when it cannot be read or is not a valid manifest.
    public static func read(path: String, fileSystem: any FileSystem = POSIXFileSystem.shared) throws -> AOFManifest {
        let bytes: [UInt8]
        do {
            bytes = try fileSystem.contents(of: path, limit: AOFManifest.maxBytes)
        } catch {
            throw FileDamageError(path: path, offset: 0, reason: String(cString: strerror(error.code)))
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw FileDamageError(path: path, offset: 0, reason: "the manifest is not UTF-8 text")
        }
        return try parse(text, path: path)
    }

    /// Replaces the manifest at `path` on `fileSystem` durably (temp file, fsync, rename,
    /// directory fsync): a crash leaves the old manifest or this one.
    public func write(to path: String, fileSystem: any FileSystem = POSIXFileSystem.shared) throws {
        try DurableFile.write(Array(serialized().utf8), to: path, fileSystem: fileSystem)
    }

    /// Longest manifest line Redis reads.
    static let maxLineBytes = 1024

    /// The line that names `file` in a manifest (without its newline).
    static func line(for file: File) -> String {
        "file \(quoted(file.name)) seq \(file.sequence) type \(file.type.rawValue)"
    }

    /// Parses manifest text as Redis 7 does: `#` comments and blank lines are skipped,
    /// keys may come in any order, every line needs `file`, `seq` and `type`, at most one
    /// base, incremental sequence numbers increasing.
    ///
    /// - Throws: ``FileDamageError`` naming `path` and the line's offset.
    public static func parse(_ text: String, path: String) throws -> AOFManifest {
        var manifest = AOFManifest()
        var offset = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            defer { offset += rawLine.utf8.count + 1 }
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            if line.utf8.count > maxLineBytes {
                throw FileDamageError(
                    path: path, offset: offset, reason: "manifest line longer than \(maxLineBytes) bytes")
            }
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            guard let words = splitArguments(String(trimmed)), words.count % 2 == 0 else {
                throw FileDamageError(path: path, offset: offset, reason: "invalid manifest line")
            }
            var fields: [String: String] = [:]
            for i in stride(from: 0, to: words.count, by: 2) { fields[words[i]] = words[i + 1] }
            guard let name = fields["file"], !name.isEmpty, !name.contains("/"),
                let seqText = fields["seq"], let sequence = Int(seqText), sequence > 0, sequence < Int(Int32.max),
                let typeText = fields["type"], let type = FileType(rawValue: typeText)
            else {
                throw FileDamageError(
                    path: path, offset: offset, reason: "invalid manifest line (needs file, seq and type)")
            }
            let file = File(name: name, sequence: sequence, type: type)
            // Names are written back quoted (a byte can take four), and a manifest whose
            // lines grew past the limit would not load again after the next rewrite.
            if AOFManifest.line(for: file).utf8.count > maxLineBytes {
                throw FileDamageError(
                    path: path, offset: offset, reason: "file name too long for a manifest line once quoted")
            }
            switch type {
            case .base:
                if manifest.base != nil {
                    throw FileDamageError(path: path, offset: offset, reason: "more than one base file in the manifest")
                }
                manifest.base = file
            case .history:
                manifest.history.append(file)
            case .incremental:
                if let last = manifest.incrementals.last, last.sequence >= sequence {
                    throw FileDamageError(
                        path: path, offset: offset, reason: "incremental files are not in increasing sequence order")
                }
                manifest.incrementals.append(file)
            }
        }
        if manifest.base == nil && manifest.incrementals.isEmpty {
            throw FileDamageError(path: path, offset: 0, reason: "the manifest lists no base and no incremental file")
        }
        return manifest
    }

    /// A name as Redis writes it: bare, or double-quoted with escapes when it holds
    /// spaces, quotes or control characters.
    static func quoted(_ name: String) -> String {
        let needsQuotes = name.utf8.contains { $0 <= 32 || $0 == 34 || $0 == 39 || $0 == 92 || $0 >= 127 }
        guard needsQuotes else { return name }
        var out = "\""
        for byte in name.utf8 {
            switch byte {
            case 92: out += "\\\\"
            case 34: out += "\\\""
            case 10: out += "\\n"
            case 13: out += "\\r"
            case 9: out += "\\t"
            case 32..<127: out.unicodeScalars.append(Unicode.Scalar(byte))
            default: out += "\\x" + (byte < 16 ? "0" : "") + String(byte, radix: 16)
            }
        }
        return out + "\""
    }

    /// Splits a line into words as Redis's `sdssplitargs` does (double quotes with
    /// escapes, single quotes verbatim); nil on unbalanced quotes.
    static func splitArguments(_ line: String) -> [String]? {
        var words: [String] = []
        var bytes = Array(line.utf8)[...]
        while true {
            while let first = bytes.first, first == 32 || first == 9 { bytes = bytes.dropFirst() }
            guard let first = bytes.first else { return words }
            var word: [UInt8] = []
            if first == 34 || first == 39 {
                bytes = bytes.dropFirst()
                var closed = false
                while let c = bytes.first {
                    bytes = bytes.dropFirst()
                    if c == first {
                        closed = true
                        break
                    }
                    if first == 34 && c == 92, let e = bytes.first {
                        bytes = bytes.dropFirst()
                        switch e {
                        case UInt8(ascii: "n"): word.append(10)
                        case UInt8(ascii: "r"): word.append(13)
                        case UInt8(ascii: "t"): word.append(9)
                        case UInt8(ascii: "x"):
                            let hex = String(decoding: bytes.prefix(2), as: UTF8.self)
                            guard hex.count == 2, let v = UInt8(hex, radix: 16) else { return nil }
                            word.append(v)
                            bytes = bytes.dropFirst(2)
                        default: word.append(e)
                        }
                    } else {
                        word.append(c)
                    }
                }
                guard closed, bytes.first.map({ $0 == 32 || $0 == 9 }) ?? true else { return nil }
            } else {
                while let c = bytes.first, c != 32 && c != 9 {
                    word.append(c)
                    bytes = bytes.dropFirst()
                }
            }
            words.append(String(decoding: word, as: UTF8.self))
        }
    }
}
