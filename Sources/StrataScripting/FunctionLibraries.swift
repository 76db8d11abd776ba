//! Function libraries (`FUNCTION LOAD`, `FCALL`): `#!lua name=<lib>` code whose load-time
//! run registers functions with `redis.register_function`. Libraries live in their own
//! interpreter; function names are global across libraries, as in Redis 7.

import StrataEngine

/// A loaded library.
public struct FunctionLibrary: Sendable {
    /// Its name.
    public var name: String
    /// Its code, as loaded (what `FUNCTION DUMP`, snapshots and the AOF keep).
    public var code: Bytes
    /// Its functions, in registration order.
    public var functions: [RegisteredFunction]
}

/// The loaded libraries and their functions.
public final class FunctionLibraries {
    /// The interpreter functions run in.
    public private(set) var interpreter: LuaInterpreter
    /// Libraries by name.
    public private(set) var libraries: [String: FunctionLibrary] = [:]
    /// Function name → library name.
    public private(set) var functionOwners: [String: String] = [:]
    /// Heap cap of the interpreter (`lua-heap-limit`).
    public var memoryLimit: Int {
        didSet { interpreter.setMemoryLimit(memoryLimit) }
    }
    /// How long a library's load-time code may run.
    public var loadTimeoutMilliseconds = 500

    /// No libraries.
    public init(memoryLimit: Int) throws(ScriptError) {
        self.memoryLimit = memoryLimit
        interpreter = try LuaInterpreter(memoryLimit: memoryLimit)
    }

    /// The function called `name` and its library.
    public func function(named name: String) -> (library: FunctionLibrary, function: RegisteredFunction)? {
        guard let owner = functionOwners[name], let library = libraries[owner],
            let function = library.functions.first(where: { $0.name == name })
        else { return nil }
        return (library, function)
    }

    /// The number of functions.
    public var functionCount: Int { functionOwners.count }

    /// Reads a library's name from its shebang, with Redis's errors.
    public static func libraryName(of code: [UInt8]) throws(ScriptError) -> (name: String, shebangLength: Int) {
        guard code.starts(with: Array("#!".utf8)) else { throw ScriptError("ERR Missing library metadata") }
        guard let newline = code.firstIndex(of: UInt8(ascii: "\n")) else {
            throw ScriptError("ERR Invalid library metadata")
        }
        let parts = String(decoding: code[2..<newline], as: UTF8.self).split(separator: " ").map(String.init)
        guard let engine = parts.first else { throw ScriptError("ERR Invalid library metadata") }
        guard engine.lowercased() == "lua" else { throw ScriptError("ERR Engine '\(engine)' not found") }
        var name: String?
        for part in parts.dropFirst() {
            if part.hasPrefix("name=") {
                name = String(part.dropFirst(5))
            } else {
                throw ScriptError("ERR Invalid metadata value given: \(part)")
            }
        }
        guard let name else { throw ScriptError("ERR Library name was not given") }
        guard LibraryRegistration.isValidName(name) else {
            throw ScriptError(
                "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"
            )
        }
        return (name, newline)
    }

    /// Loads (or with `replace`, replaces) the library in `code`; returns its name.
    @discardableResult
    public func load(_ code: Bytes, replace: Bool) throws(ScriptError) -> String {
        let bytes = code.array
        let (name, shebangLength) = try FunctionLibraries.libraryName(of: bytes)
        if libraries[name] != nil && !replace { throw ScriptError("ERR Library '\(name)' already exists") }
        let body = Array(bytes[shebangLength...])
        let registration = LibraryRegistration(timeoutMilliseconds: loadTimeoutMilliseconds)
        let functions: [RegisteredFunction]
        do {
            functions = try interpreter.loadLibrary(code: body, registration: registration)
        } catch {
            for function in registration.functions { interpreter.release(function.ref) }
            throw error
        }
        func discard() { for function in functions { interpreter.release(function.ref) } }
        guard !functions.isEmpty else { throw ScriptError("ERR No functions registered") }
        for function in functions {
            if let owner = functionOwners[function.name], owner != name {
                discard()
                throw ScriptError("ERR Function \(function.name) already exists")
            }
        }
        if libraries[name] != nil { delete(name) }
        libraries[name] = FunctionLibrary(name: name, code: code, functions: functions)
        for function in functions { functionOwners[function.name] = name }
        return name
    }

    /// Removes a library; returns whether it existed.
    @discardableResult
    public func delete(_ name: String) -> Bool {
        guard let library = libraries.removeValue(forKey: name) else { return false }
        for function in library.functions {
            functionOwners.removeValue(forKey: function.name)
            interpreter.release(function.ref)
        }
        return true
    }

    /// Removes every library and starts a fresh interpreter.
    public func flush() throws(ScriptError) {
        let fresh = try LuaInterpreter(memoryLimit: memoryLimit)
        fresh.host = interpreter.host
        interpreter = fresh
        libraries.removeAll()
        functionOwners.removeAll()
    }

    /// Libraries sorted by name (for listings, dumps and snapshots).
    public var sortedLibraries: [FunctionLibrary] { libraries.values.sorted { $0.name < $1.name } }
}
