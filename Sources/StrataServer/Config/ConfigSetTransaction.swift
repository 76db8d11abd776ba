//! `CONFIG SET p1 v1 p2 v2 ...` as one change, the way Redis 7.0 makes it one: every name
//! is checked first (unknown, immutable, protected, given twice), then every value is
//! parsed into a copy of the configuration, and only then are the side effects applied
//! (entering a directory, raising the open-files limit, starting the AOF); when one of
//! those fails, the ones already applied are undone and the old configuration stays.
//! Kept apart from the server so the ordering of checks and the rollback are unit-tested.

/// The staging and application of one `CONFIG SET`.
public enum ConfigSetTransaction {
    /// Who sent the command, for `enable-protected-configs local`.
    public struct Caller: Sendable {
        /// Whether the client is on a loopback address or a Unix socket.
        public var isLocal: Bool

        public init(isLocal: Bool) { self.isLocal = isLocal }
    }

    /// Checks the names and parses the values of `pairs` into a copy of `config`.
    ///
    /// - Returns: the new configuration, or the error text of Redis's reply (without the
    ///   `ERR ` code).
    public static func stage(
        _ pairs: [(name: String, value: String)], on config: ServerConfig, caller: Caller
    ) -> Result<ServerConfig, ConfigSetFailure> {
        var directives: [ConfigDirective] = []
        var seen = Set<String>()
        // First pass, as Redis: the first bad name decides the error.
        for (name, _) in pairs {
            guard let directive = ConfigDirective.named(name) else {
                return .failure(ConfigSetFailure("Unknown option or number of arguments for CONFIG SET - '\(name)'"))
            }
            if !directive.mutable {
                return .failure(.related(name, "can't set immutable config"))
            }
            if directive.protected && !protectedAllowed(config.enableProtectedConfigs, caller) {
                return .failure(.related(name, "can't set protected config"))
            }
            // Redis tells aliases from the names they stand for: only the same name twice is
            // a duplicate.
            guard seen.insert(name.lowercased()).inserted else {
                return .failure(.related(name, "duplicate parameter"))
            }
            directives.append(directive)
        }
        var updated = config
        for (directive, pair) in zip(directives, pairs) {
            do {
                try directive.set(&updated, [pair.value])
            } catch {
                return .failure(.related(pair.name.lowercased(), "\(error)"))
            }
        }
        return .success(updated)
    }

    /// One side effect of a change: `apply` returns an error text when it fails; `undo`
    /// reverses it once it succeeded.
    public struct Step {
        /// The parameter it belongs to, named in the error.
        public var name: String
        public var apply: () -> String?
        public var undo: () -> Void

        public init(name: String, apply: @escaping () -> String?, undo: @escaping () -> Void) {
            self.name = name
            self.apply = apply
            self.undo = undo
        }
    }

    /// Applies `steps` in order; when one fails, undoes the applied ones, last first.
    ///
    /// - Returns: nil when all applied, else the failure naming the step's parameter.
    public static func apply(_ steps: [Step]) -> ConfigSetFailure? {
        var applied: [Step] = []
        for step in steps {
            if let reason = step.apply() {
                for done in applied.reversed() { done.undo() }
                return .related(step.name, reason)
            }
            applied.append(step)
        }
        return nil
    }

    static func protectedAllowed(_ access: DebugCommandAccess, _ caller: Caller) -> Bool {
        switch access {
        case .yes: return true
        case .local: return caller.isLocal
        case .no: return false
        }
    }
}

/// Why a `CONFIG SET` was refused: the text of the error reply after `ERR `.
public struct ConfigSetFailure: Error, Equatable, Sendable {
    public let message: String

    public init(_ message: String) { self.message = message }

    /// Redis's `CONFIG SET failed (possibly related to argument '...') - reason`.
    public static func related(_ name: String, _ reason: String) -> ConfigSetFailure {
        ConfigSetFailure("CONFIG SET failed (possibly related to argument '\(name)') - \(reason)")
    }
}
