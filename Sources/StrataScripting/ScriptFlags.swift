//! Script flags and the `#!lua` shebang line that declares them, as Redis 7 reads them.

/// Flags a script or function declares (`#!lua flags=...`, `register_function{flags=...}`).
public struct ScriptFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The script never writes: `EVAL_RO`/`FCALL_RO` may run it, writes inside it fail.
    public static let noWrites = ScriptFlags(rawValue: 1 << 0)
    /// Runs even when `maxmemory` is exceeded.
    public static let allowOOM = ScriptFlags(rawValue: 1 << 1)
    /// Runs on a stale replica.
    public static let allowStale = ScriptFlags(rawValue: 1 << 2)
    /// Refused in cluster mode.
    public static let noCluster = ScriptFlags(rawValue: 1 << 3)
    /// May touch keys of several slots.
    public static let allowCrossSlotKeys = ScriptFlags(rawValue: 1 << 4)
    /// Not a flag: the script had a shebang (so the flags apply as declared, not the
    /// permissive defaults of a legacy script).
    public static let declared = ScriptFlags(rawValue: 1 << 7)

    /// The flag names, in the order Redis lists them.
    public static let names: [(String, ScriptFlags)] = [
        ("no-writes", .noWrites), ("allow-oom", .allowOOM), ("allow-stale", .allowStale),
        ("no-cluster", .noCluster), ("allow-cross-slot-keys", .allowCrossSlotKeys),
    ]

    /// The flag called `name`, if there is one.
    public static func named(_ name: String) -> ScriptFlags? {
        names.first { $0.0 == name }?.1
    }

    /// The names of the flags set, for `FUNCTION LIST`.
    public var flagNames: [String] { ScriptFlags.names.filter { contains($0.1) }.map { $0.0 } }
}

/// A script body's shebang, when it has one.
public struct Shebang: Sendable {
    /// The `key=value` options after `#!lua`.
    public var options: [(String, String)]
    /// Bytes of the shebang line, without its newline.
    public var length: Int

    /// Parses the first line of `body` when it starts with `#!`. Returns nil without a
    /// shebang; throws Redis's error text for a bad one.
    public static func parse(_ body: [UInt8]) throws(ScriptError) -> Shebang? {
        guard body.count >= 2, body[0] == UInt8(ascii: "#"), body[1] == UInt8(ascii: "!") else { return nil }
        guard let newline = body.firstIndex(of: UInt8(ascii: "\n")) else {
            throw ScriptError("ERR Invalid script shebang")
        }
        let line = String(decoding: body[0..<newline], as: UTF8.self)
        let parts = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard let engine = parts.first, engine == "#!lua" else {
            throw ScriptError("ERR Unexpected engine in script shebang: \(parts.first ?? line)")
        }
        var options: [(String, String)] = []
        for part in parts.dropFirst() {
            guard let equals = part.firstIndex(of: "=") else {
                options.append((part, ""))
                continue
            }
            options.append((String(part[..<equals]), String(part[part.index(after: equals)...])))
        }
        return Shebang(options: options, length: newline)
    }

    /// The flags of an `EVAL` script's shebang (`flags=` is its only option).
    public func scriptFlags() throws(ScriptError) -> ScriptFlags {
        var flags: ScriptFlags = .declared
        for (key, value) in options {
            guard key == "flags" else {
                throw ScriptError("ERR Unknown lua shebang option: \(value.isEmpty ? key : key + "=" + value)")
            }
            for name in value.split(separator: ",") {
                guard let flag = ScriptFlags.named(String(name)) else {
                    throw ScriptError("ERR Unexpected flag in script shebang: \(name)")
                }
                flags.insert(flag)
            }
        }
        return flags
    }
}

/// An error a script operation replies with; `message` starts with its code.
public struct ScriptError: Error, Sendable, Equatable {
    /// The text of the error reply, e.g. `ERR Invalid script shebang`.
    public var message: String

    /// An error with `message`.
    public init(_ message: String) { self.message = message }
}
