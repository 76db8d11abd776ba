//! The `ACL` command's subcommands, with Redis 7.0's replies and error texts.

import StrataEngine
import StrataPersistence

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension ServerCore {
    /// Runs an `ACL` subcommand.
    func aclCommand(_ command: ServerCommand, args: [Bytes], session: ClientSession) -> CommandOutcome {
        let catalog = accessControl.catalog
        switch command {
        case .aclWhoAmI:
            return .reply(.bulk(Bytes(session.user?.name ?? "default")))
        case .aclUsers:
            return .reply(.array(accessControl.sortedNames.map { .bulk(Bytes($0)) }))
        case .aclList:
            return .reply(
                .array(
                    accessControl.sortedNames.compactMap { accessControl.user(named: $0) }.map {
                        .bulk(Bytes($0.listLine(catalog: catalog)))
                    }))
        case .aclGetUser:
            guard let user = accessControl.user(named: args[2].string) else { return .reply(.null) }
            return .reply(user.getUserReply(catalog: catalog))
        case .aclSetUser:
            return aclSetUser(args, session: session)
        case .aclDelUser:
            var removed: [ACLUser] = []
            for name in args.dropFirst(2) {
                if name.string == "default" { return .reply(.error("ERR The 'default' user cannot be removed")) }
            }
            for name in args.dropFirst(2) {
                if let user = accessControl.remove(name.string) { removed.append(user) }
            }
            let closesCurrent = disconnectClients(of: removed, current: session)
            return closesCurrent ? .replyThenClose(.integer(removed.count)) : .reply(.integer(removed.count))
        case .aclCat:
            return .reply(aclCat(args))
        case .aclGenPass:
            return .reply(aclGenPass(args))
        case .aclLog:
            return .reply(aclLog(args))
        case .aclDryRun:
            return .reply(aclDryRun(args))
        case .aclLoad:
            return aclLoad(session: session)
        case .aclSave:
            return .reply(aclSave())
        case .aclHelp:
            return .reply(.array(ServerCore.aclHelp.map { .status($0) }))
        default:
            return .reply(.error("ERR unknown subcommand '\(args[1].string)'. Try ACL HELP."))
        }
    }

    private func aclSetUser(_ args: [Bytes], session: ClientSession) -> CommandOutcome {
        let name = args[2].string
        let state: ACLUserState
        do {
            state = try accessControl.stagedState(for: name, rules: args.dropFirst(3).map(\.array))
        } catch {
            return .reply(.error(error.message))
        }
        let (user, previous) = accessControl.store(name, state: state)
        if let previous, disconnectRevokedSubscribers(of: user, previous: previous, current: session) {
            return .replyThenClose(.ok)
        }
        return .reply(.ok)
    }

    private func aclCat(_ args: [Bytes]) -> Reply {
        if args.count > 3 {
            return .error("ERR unknown subcommand or wrong number of arguments for '\(args[1].string)'. Try ACL HELP.")
        }
        guard args.count == 3 else { return .array(ACLCommandCatalog.categories.map { .bulk(Bytes($0)) }) }
        let category = args[2].string.lowercased()
        guard ACLCommandCatalog.categories.contains(category) else {
            return .error("ERR Unknown category '\(args[2].string)'")
        }
        return .array((accessControl.catalog.members[category] ?? []).map { .bulk(Bytes($0.name)) })
    }

    private func aclGenPass(_ args: [Bytes]) -> Reply {
        var bits = 256
        if args.count > 3 {
            return .error("ERR unknown subcommand or wrong number of arguments for '\(args[1].string)'. Try ACL HELP.")
        }
        if args.count == 3 {
            guard let requested = args[2].strictInteger else { return Errors.notInteger }
            guard requested > 0 && requested <= 4096 else {
                return .error(
                    "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096"
                )
            }
            bits = requested
        }
        let characters = (bits + 3) / 4
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(characters)
        for _ in 0..<characters { out.append(digits[Int(generator.next() as UInt8) & 0x0f]) }
        return .bulk(Bytes(out))
    }

    private func aclLog(_ args: [Bytes]) -> Reply {
        if args.count > 3 {
            return .error("ERR unknown subcommand or wrong number of arguments for '\(args[1].string)'. Try ACL HELP.")
        }
        var count = 10
        if args.count == 3 {
            if args[2].equalsIgnoringCase("reset") {
                accessControl.log.reset()
                return .ok
            }
            guard let requested = args[2].strictInteger else { return Errors.notInteger }
            count = max(requested, 0)
        }
        let now = clock.wallMilliseconds()
        return .array(accessControl.log.entries.prefix(count).map { $0.reply(now: now) })
    }

    private func aclDryRun(_ args: [Bytes]) -> Reply {
        guard let user = accessControl.user(named: args[2].string) else {
            return .error("ERR User '\(args[2].string)' not found")
        }
        let invocation = Array(args.dropFirst(3))
        let spec: CommandSpec
        switch engine.commands.resolve(invocation) {
        case .success(let found): spec = found
        case .failure(let error):
            if case .error(let text) = error, text.hasPrefix("ERR wrong number of arguments") { return error }
            return .error("ERR Command '\(args[3].string)' not found")
        }
        guard let denial = user.check(spec, invocation, catalog: accessControl.catalog) else { return .ok }
        let object = denial.position < invocation.count ? invocation[denial.position].string : ""
        switch denial.reason {
        case .command: return .bulk(Bytes("This user has no permissions to run the '\(spec.name)' command"))
        case .key: return .bulk(Bytes("This user has no permissions to access the '\(object)' key"))
        case .channel: return .bulk(Bytes("This user has no permissions to access the '\(object)' channel"))
        }
    }

    /// The configured ACL file, or nil.
    var aclFilePath: String? {
        let path = config.inertValues["aclfile"] ?? ""
        return path.isEmpty ? nil : path
    }

    static let noACLFile = Reply.error(
        "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration."
    )

    private func aclLoad(session: ClientSession) -> CommandOutcome {
        guard let path = aclFilePath else { return .reply(ServerCore.noACLFile) }
        switch loadACLFile(path) {
        case .failure(let error):
            return .reply(.error("ERR " + error.message))
        case .success(let replaced):
            return disconnectClients(of: replaced, current: session) ? .replyThenClose(.ok) : .reply(.ok)
        }
    }

    /// Loads the ACL file at `path`, replacing every user; returns the users replaced.
    func loadACLFile(_ path: String) -> Result<[ACLUser], ACLFileError> {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            let reason = String(cString: strerror(errno == 0 ? ENOENT : errno))
            return .failure(ACLFileError(message: "Error loading ACLs, opening file '\(path)': \(reason)"))
        }
        switch accessControl.parseFile(text, path: path) {
        case .failure(let error): return .failure(error)
        case .success(let users): return .success(accessControl.install(users))
        }
    }

    /// `ACL SAVE`: the file replaced atomically and synced, as CONFIG REWRITE writes its
    /// file.
    private func aclSave() -> Reply {
        guard let path = aclFilePath else { return ServerCore.noACLFile }
        do {
            try DurableFile.write(accessControl.fileText, to: path, fileSystem: persistence.fileSystem)
        } catch {
            logger.warning("Saving the ACL file \(path): \(error)")
            return .error(
                "ERR There was an error trying to save the ACLs. Please check the server logs for more information")
        }
        return .ok
    }

    static let aclHelp = [
        "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CAT [<category>]",
        "    List all commands that belong to <category>, or all command categories",
        "    when no category is specified.",
        "DELUSER <username> [<username> ...]",
        "    Delete a list of users.",
        "DRYRUN <username> <command> [<arg> ...]",
        "    Returns whether the user can execute the given command without executing the command.",
        "GETUSER <username>",
        "    Get the user's details.",
        "GENPASS [<bits>]",
        "    Generate a secure 256-bit user password. The optional `bits` argument can",
        "    be used to specify a different size.",
        "LIST",
        "    Show users details in config file format.",
        "LOAD",
        "    Reload users from the ACL file.",
        "LOG [<count> | RESET]",
        "    Show the ACL log entries.",
        "SAVE",
        "    Save the current config to the ACL file.",
        "SETUSER <username> <attribute> [<attribute> ...]",
        "    Create or modify a user with the specified attributes.",
        "USERS",
        "    List all the registered usernames.",
        "WHOAMI",
        "    Return the current connection username.",
        "HELP",
        "    Prints this help.",
    ]
}

extension ServerCore {
    /// Loads the users of the config file's `user` directives or of `aclfile` at start-up;
    /// returns the fatal error to exit with, or nil.
    func loadInitialUsers() -> String? {
        if !config.users.isEmpty && aclFilePath != nil {
            return
                "Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both."
        }
        for words in config.users {
            guard let name = words.first else { continue }
            let rules = (name == "default" ? ["reset"] : []) + words.dropFirst()
            do {
                let state = try accessControl.stagedState(for: name, rules: rules.map { Array($0.utf8) })
                accessControl.store(name, state: state)
            } catch {
                let detail: String
                switch error {
                case .rule(let rule, let reason):
                    detail = "Error loading ACL rule '\(rule)' for the user named '\(name)': \(reason.reason)"
                default:
                    detail = "Error loading ACL rule for the user named '\(name)': \(error.message)"
                }
                logger.warning("\(detail)")
                return "Critical error while loading ACLs. Exiting."
            }
        }
        if let path = aclFilePath, case .failure(let error) = loadACLFile(path) {
            return "Aborting Redis startup because of ACL errors: \(error.message)"
        }
        return nil
    }
}
