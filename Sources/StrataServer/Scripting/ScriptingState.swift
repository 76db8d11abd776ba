//! The server's scripting state: the EVAL script cache, the function libraries, the fake
//! client scripts run their commands as, and the script running now.

import StrataEngine
import StrataScripting

/// A script or function being executed.
final class ScriptRun {
    /// The script's SHA-1, or the function's name.
    let name: String
    /// Whether it is a function (`FCALL`), not an `EVAL` script.
    let isFunction: Bool
    /// Its declared flags.
    let flags: ScriptFlags
    /// Whether writes are refused (`*_RO`, or `no-writes`).
    let readOnly: Bool
    /// The client that called it.
    let caller: ConnectionHandler
    /// When it started (monotonic ns), for `busy-reply-threshold`.
    let startedAt: UInt64
    /// The time every command of the script sees (Unix ms).
    let now: Int64
    /// Whether `maxmemory` was exceeded when the script started.
    let outOfMemoryAtStart: Bool
    /// Set once the script called a write command: it can no longer be killed.
    /// The error texts `redis.call`/`redis.pcall` returned, already counted in the error
    /// stats: the script's final error is not counted again when it is one of them.
    var countedErrors: [String] = []
    var wrote = false
    /// Cluster mode: the slot of the keys the script touched first (the others must share it
    /// unless the script allows cross-slot keys).
    var clusterSlot: Int?
    /// Set once it ran past `busy-reply-threshold`.
    var timedOut = false
    /// The error that stops it (`SCRIPT KILL`, `SHUTDOWN NOSAVE`).
    var killMessage: String?
    /// `SHUTDOWN NOSAVE` arrived while it ran.
    var shutdownAfter = false
    /// Whether its writes go to the AOF (`redis.set_repl`).
    var propagates = true
    /// When clients were last served while it is busy (monotonic ns).
    var lastBusyService: UInt64 = 0

    init(
        name: String, isFunction: Bool, flags: ScriptFlags, readOnly: Bool, caller: ConnectionHandler, now: Int64,
        startedAt: UInt64, outOfMemoryAtStart: Bool
    ) {
        self.name = name
        self.isFunction = isFunction
        self.flags = flags
        self.readOnly = readOnly
        self.caller = caller
        self.now = now
        self.outOfMemoryAtStart = outOfMemoryAtStart
        self.startedAt = startedAt
    }
}

extension ScriptRun {
    /// What the interpreter's periodic checkpoint must do.
    enum CheckpointAction: Equatable {
        /// Keep running; nothing to do.
        case carryOn
        /// The script just ran past `busy-reply-threshold`: say so in the log, then serve
        /// the other clients.
        case becameBusy(elapsedMilliseconds: UInt64)
        /// Serve the other clients (every 10 ms while busy, as Redis's
        /// processEventsWhileBlocked).
        case serveClients
        /// Stop the script with this error (SCRIPT KILL, FUNCTION KILL, SHUTDOWN NOSAVE).
        case stop(String)
    }

    /// How often clients are served while a script is busy, in nanoseconds.
    static let busyServiceIntervalNanoseconds: UInt64 = 10_000_000

    /// Decides the checkpoint at monotonic time `now` with `busyThresholdNanoseconds`.
    func checkpoint(now: UInt64, busyThresholdNanoseconds: UInt64) -> CheckpointAction {
        if let killMessage { return .stop(killMessage) }
        let elapsed = now &- startedAt
        var action = CheckpointAction.carryOn
        if !timedOut {
            guard elapsed >= busyThresholdNanoseconds else { return .carryOn }
            timedOut = true
            action = .becameBusy(elapsedMilliseconds: elapsed / 1_000_000)
        }
        if now &- lastBusyService >= ScriptRun.busyServiceIntervalNanoseconds {
            lastBusyService = now
            if action == .carryOn { action = .serveClients }
        }
        return action
    }
}

/// Scripts, functions and what runs now.
struct ScriptingState {
    /// Compiled `EVAL` scripts.
    let cache: ScriptCache
    /// Loaded function libraries.
    let libraries: FunctionLibraries
    /// The client scripts execute their commands as.
    let session: ClientSession
    /// The script running now.
    var run: ScriptRun?

    init(heapLimit: Int, now: Int64) {
        guard let cache = try? ScriptCache(memoryLimit: heapLimit),
            let libraries = try? FunctionLibraries(memoryLimit: heapLimit)
        else { fatalError("could not create a Lua interpreter (out of memory)") }
        self.cache = cache
        self.libraries = libraries
        session = ClientSession(
            id: 0, authenticated: true, address: "", localAddress: "", fd: -1, now: now)
        session.name = "lua"
    }
}

extension ServerCore {
    /// The scripting fields of `INFO memory`, in Redis 7.0's order.
    var scriptingMemoryFields: [(String, String)] {
        let evalHeap = scripting.cache.interpreter.memoryBytes
        let functionHeap = scripting.libraries.interpreter.memoryBytes
        let codeBytes = scripting.libraries.libraries.values.reduce(0) { $0 + $1.code.count }
        return [
            ("used_memory_lua", String(evalHeap)), ("used_memory_vm_eval", String(evalHeap)),
            ("used_memory_lua_human", ProcessMemory.human(evalHeap)),
            ("used_memory_scripts_eval", String(scripting.cache.bodyBytes)),
            ("number_of_cached_scripts", String(scripting.cache.scripts.count)),
            ("number_of_functions", String(scripting.libraries.functionCount)),
            ("number_of_libraries", String(scripting.libraries.libraries.count)),
            ("used_memory_vm_functions", String(functionHeap)),
            ("used_memory_vm_total", String(evalHeap + functionHeap)),
            ("used_memory_vm_total_human", ProcessMemory.human(evalHeap + functionHeap)),
            ("used_memory_functions", String(codeBytes)),
            ("used_memory_scripts", String(scripting.cache.bodyBytes + codeBytes)),
            ("used_memory_scripts_human", ProcessMemory.human(scripting.cache.bodyBytes + codeBytes)),
        ]
    }
}
