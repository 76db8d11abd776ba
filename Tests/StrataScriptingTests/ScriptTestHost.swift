import StrataEngine
import StrataScripting

/// A host that runs `redis.call` on a real engine, as the server does without the network.
final class ScriptTestHost: ScriptHost {
    let engine = Engine()
    var db = 0
    var logged: [(Int, String)] = []
    var killMessage: String?
    var checkpoints = 0
    var replicationFlags = 3

    func scriptCall(_ args: [Bytes]) -> Reply {
        engine.execute(args, db: &db, now: 1_000_000)
    }

    func scriptCheckpoint() -> String? {
        checkpoints += 1
        return killMessage
    }

    func scriptLog(level: Int, message: String) { logged.append((level, message)) }

    func scriptSetReplication(_ flags: Int) { replicationFlags = flags }

    /// Every known command is allowed: the test host has no users.
    func scriptACLCheck(_ args: [Bytes]) -> Bool? {
        if case .success = engine.commands.resolve(args) { return true }
        return nil
    }
}

/// Compiles and runs `body` as EVAL would.
func evaluate(
    _ body: String, keys: [String] = [], args: [String] = [], cache: ScriptCache, host: ScriptHost
) -> Reply {
    cache.interpreter.host = host
    do {
        let (sha, script) = try cache.load(Bytes(body))
        return cache.interpreter.runScript(
            script.ref, keys: keys.map { Bytes($0) }[...], args: args.map { Bytes($0) }[...], name: sha)
    } catch {
        return .error(error.message)
    }
}
