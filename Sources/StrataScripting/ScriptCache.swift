//! The `EVAL` script cache: compiled scripts by the SHA-1 of their body, in their own Lua
//! interpreter (as Redis, `SCRIPT FLUSH` starts a fresh one and functions live apart).

import StrataEngine

/// A compiled `EVAL` script.
public struct CachedScript: Sendable {
    /// Registry reference of its function.
    public var ref: Int32
    /// Its flags; without a shebang none are declared.
    public var flags: ScriptFlags
    /// Its body, as sent.
    public var body: Bytes
    /// Its SHA-1, lower-case hex.
    public var sha: String
}

/// Compiled scripts by SHA-1.
public final class ScriptCache {
    /// The interpreter scripts run in.
    public private(set) var interpreter: LuaInterpreter
    /// Scripts by lower-case hex SHA-1.
    public private(set) var scripts: [Bytes: CachedScript] = [:]
    /// Heap cap of the interpreter (`lua-heap-limit`).
    public var memoryLimit: Int {
        didSet { interpreter.setMemoryLimit(memoryLimit) }
    }
    /// Bytes of the bodies held.
    public private(set) var bodyBytes = 0

    /// An empty cache.
    public init(memoryLimit: Int) throws(ScriptError) {
        self.memoryLimit = memoryLimit
        interpreter = try LuaInterpreter(memoryLimit: memoryLimit)
    }

    /// The lower-case hex SHA-1 of a body.
    public static func sha(of body: Bytes) -> String { body.withUnsafeBytes { SHA1.hex($0) } }

    /// The script for `sha` (any case), if cached.
    public func script(sha: Bytes) -> CachedScript? {
        guard sha.count == 40 else { return nil }
        if let found = scripts[sha] { return found }
        return scripts[sha.lowercased]
    }

    /// Compiles and caches `body` (or finds it cached). Returns its SHA-1 and script.
    public func load(_ body: Bytes) throws(ScriptError) -> (sha: String, script: CachedScript) {
        let sha = ScriptCache.sha(of: body)
        if let cached = scripts[Bytes(sha)] { return (sha, cached) }
        let bytes = body.array
        let shebang = try Shebang.parse(bytes)
        let flags = try shebang?.scriptFlags() ?? []
        let ref = try interpreter.compileScript(sha: sha, body: bytes, shebangLength: shebang?.length ?? 0)
        let script = CachedScript(ref: ref, flags: flags, body: body, sha: sha)
        scripts[Bytes(sha)] = script
        bodyBytes += body.count
        return (sha, script)
    }

    /// Drops every script and starts a fresh interpreter (`SCRIPT FLUSH`).
    public func flush() throws(ScriptError) {
        let fresh = try LuaInterpreter(memoryLimit: memoryLimit)
        fresh.host = interpreter.host
        interpreter = fresh
        scripts.removeAll()
        bodyBytes = 0
    }
}
