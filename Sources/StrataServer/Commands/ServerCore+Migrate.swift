//! MIGRATE (Redis 7.0 `cluster.c`): sends the keys to another server as RESTORE commands,
//! after AUTH and SELECT, over one blocking connection bounded by the timeout, then deletes
//! the keys the target acknowledged (unless COPY), logged as one DEL. Replies and errors are
//! Redis's: `NOKEY` when no key exists, `IOERR` when the connection fails, the target's
//! first error otherwise. Redis caches the connection for ten seconds; Strata connects
//! each time, which only means a SELECT is always sent.

import RESP
import StrataEngine
import StrataPersistence

extension ServerCore {
    /// `MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH password]
    /// [AUTH2 username password] [KEYS key [key ...]]`.
    func migrateCommand(_ args: [Bytes], session: ClientSession, now: Int64) -> Reply {
        var copy = false
        var replace = false
        var username: Bytes?
        var password: Bytes?
        var keys = [args[3]]
        var index = 6
        while index < args.count {
            let option = args[index]
            let more = args.count - 1 - index
            if option.equalsIgnoringCase("copy") {
                copy = true
            } else if option.equalsIgnoringCase("replace") {
                replace = true
            } else if option.equalsIgnoringCase("auth") {
                guard more >= 1 else { return Errors.syntax }
                password = args[index + 1]
                index += 1
            } else if option.equalsIgnoringCase("auth2") {
                guard more >= 2 else { return Errors.syntax }
                username = args[index + 1]
                password = args[index + 2]
                index += 2
            } else if option.equalsIgnoringCase("keys") {
                guard args[3].isEmpty else {
                    return .error(
                        "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string")
                }
                keys = Array(args[(index + 1)...])
                break
            } else {
                return Errors.syntax
            }
            index += 1
        }
        guard var timeout = args[5].strictInteger, let db = args[4].strictInteger else { return Errors.notInteger }
        if timeout <= 0 { timeout = 1000 }

        var found: [(key: Bytes, value: Value)] = []
        for key in keys {
            if let value = engine.read(key, db: session.db, now: now) { found.append((key, value)) }
        }
        guard !found.isEmpty else { return .status("NOKEY") }

        // Redis reads the port with atoi: leading digits, anything else is 0.
        let port = Int(args[2].string.prefix { $0.isASCII && $0.isNumber }.prefix(9)) ?? 0
        guard let connection = migrateConnection(host: args[1].string, port: port, timeoutMilliseconds: timeout)
        else { return .error("IOERR error or timeout connecting to the client") }

        var request: [UInt8] = []
        if let password {
            request.appendRESPCommand([Bytes("AUTH")] + (username.map { [$0] } ?? []) + [password])
        }
        request.appendRESPCommand([Bytes("SELECT"), Bytes(db)])
        var sent: [Bytes] = []
        for (key, value) in found {
            var ttl: Int64 = 0
            if let deadline = engine.databases[session.db].deadline(key) {
                ttl = deadline &- now
                if ttl < 0 { continue }
                if ttl < 1 { ttl = 1 }
            }
            var restore = [
                Bytes(cluster != nil ? "RESTORE-ASKING" : "RESTORE"), key, Bytes(String(ttl)),
                DumpPayload.encode(value),
            ]
            if replace { restore.append(Bytes("REPLACE")) }
            request.appendRESPCommand(restore)
            sent.append(key)
        }
        guard connection.write(request, timeoutMilliseconds: timeout) else {
            return .error("IOERR error or timeout writing to target instance")
        }
        let authReply = password == nil ? nil : connection.readLine(timeoutMilliseconds: timeout)
        if password != nil && authReply == nil { return .error("IOERR error or timeout reading to target instance") }
        guard let selectReply = connection.readLine(timeoutMilliseconds: timeout) else {
            return .error("IOERR error or timeout reading to target instance")
        }
        var targetError: [UInt8]?
        var acknowledged: [Bytes] = []
        var socketError = false
        for key in sent {
            guard let reply = connection.readLine(timeoutMilliseconds: timeout) else {
                socketError = true
                break
            }
            let failed = [authReply, selectReply, reply].first { $0?.first == UInt8(ascii: "-") } ?? nil
            if let failed {
                if targetError == nil { targetError = Array(failed.dropFirst()) }
            } else if !copy {
                acknowledged.append(key)
            }
        }
        if !acknowledged.isEmpty {
            _ = engine.runServerWrite(args: args, db: session.db, now: now) { c in
                for key in acknowledged where c.delete(key) {
                    c.notify(.generic, "del", key)
                    c.changed()
                }
                c.propagate([Bytes("DEL")] + acknowledged)
                return .ok
            }
        }
        if let targetError {
            return .error("ERR Target instance replied with error: \(String(decoding: targetError, as: UTF8.self))")
        }
        if socketError { return .error("IOERR error or timeout reading to target instance") }
        return .ok
    }

    /// The connection to MIGRATE's target: TLS with `tls-cluster yes` (this server's client
    /// certificate, as Redis 7.0 connects then), plaintext otherwise.
    private func migrateConnection(host: String, port: Int, timeoutMilliseconds: Int) -> BlockingConnection? {
        guard config.tls.cluster else {
            return SyncConnection.connect(host: host, port: port, timeoutMilliseconds: timeoutMilliseconds)
        }
        guard let context = tlsRuntime.contexts?.client else {
            logger.warning("tls-cluster is on but TLS is not configured; MIGRATE cannot connect")
            return nil
        }
        return TLSSyncConnection.connect(
            host: host, port: port, context: context, timeoutMilliseconds: timeoutMilliseconds)
    }
}
