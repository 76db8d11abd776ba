//! The Redis 7.0 parameters Strata accepts but does not act on: replication,
//! threads, defragmentation, lazy freeing, process management. Tools read and write them
//! (`CONFIG GET *`, config files written for Redis), so each one is answered with Redis's
//! default, validated on `CONFIG SET` and in config files exactly as Redis validates it
//! (type, range, enumeration, its own rules), and kept, so `CONFIG GET` returns what was
//! set and `CONFIG REWRITE` writes what differs from the default. A value is kept as the
//! text `CONFIG GET` prints, in `ServerConfig.inertValues` by canonical name.

extension ConfigDirective {
    private static let intMax = Int(Int32.max)
    private static let longMax = Int.max

    /// The parameters kept for compatibility only (see the file comment).
    static let inert: [ConfigDirective] = [
        keptEnum("acl-pubsub-default", ["allchannels", "resetchannels"], "resetchannels"),
        keptString("aclfile", "", mutable: false),
        keptInt("acllog-max-len", 0...longMax, 128),
        keptInt("active-defrag-cycle-max", 1...99, 25),
        keptInt("active-defrag-cycle-min", 1...99, 1),
        keptMemory("active-defrag-ignore-bytes", 1...longMax, 104_857_600),
        keptInt("active-defrag-max-scan-fields", 1...longMax, 1000),
        keptInt("active-defrag-threshold-lower", 0...1000, 10),
        keptInt("active-defrag-threshold-upper", 0...1000, 100),
        keptInt("active-expire-effort", 1...10, 1),
        keptBool(
            "activedefrag", false,
            refuse: [
                "yes":
                    "Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution"
            ]),
        keptBool("activerehashing", true),
        keptBool("always-show-logo", false, mutable: false),
        keptBool("aof-disable-auto-gc", false),
        keptString("aof_rewrite_cpulist", "", mutable: false),
        keptString("bgsave_cpulist", "", mutable: false),
        keptString("bind-source-addr", ""),
        keptString("bio_cpulist", "", mutable: false),
        keptBool("crash-log-enabled", true),
        keptBool("crash-memcheck-enabled", true),
        keptBool("disable-thp", true, mutable: false),
        keptBool("dynamic-hz", true),
        keptEnum("enable-module-command", ["no", "yes", "local"], "no", mutable: false),
        keptString("ignore-warnings", ""),
        keptInt("io-threads", 1...128, 1, mutable: false),
        keptBool("io-threads-do-reads", false, mutable: false),
        keptBool("jemalloc-bg-thread", true),
        keptBool("lazyfree-lazy-eviction", false),
        keptBool("lazyfree-lazy-expire", false),
        keptBool("lazyfree-lazy-server-del", false),
        keptBool("lazyfree-lazy-user-del", false),
        keptBool("lazyfree-lazy-user-flush", false),
        keptString("masterauth", ""),
        keptString("masteruser", ""),
        ConfigDirective(
            name: "maxmemory-clients", mutable: true, get: { $0.inertValues["maxmemory-clients"] ?? "0" },
            set: { config, args in
                guard args.count == 1 else { throw ConfigError.badDirective }
                config.inertValues["maxmemory-clients"] = try memoryOrPercent(args[0])
            }),
        keptInt("min-replicas-max-lag", 0...intMax, 10),
        keptInt("min-replicas-to-write", 0...intMax, 0),
        keptEnum("oom-score-adj", ["no", "yes", "relative", "absolute"], "no", synonyms: ["relative": "yes"]),
        ConfigDirective(
            name: "oom-score-adj-values", mutable: true,
            get: { $0.inertValues["oom-score-adj-values"] ?? "0 200 800" },
            set: { config, args in
                let words = multipleArguments(args)
                guard words.count == 3 else { throw ConfigError.invalidValue("wrong number of arguments") }
                var values: [Int] = []
                for word in words {
                    guard let value = Int(word), (-2000...2000).contains(value) else {
                        throw ConfigError.invalidValue(
                            "Invalid oom-score-adj-values, elements must be between -2000 and 2000.")
                    }
                    values.append(value)
                }
                config.inertValues["oom-score-adj-values"] = values.map(String.init).joined(separator: " ")
            }),
        keptString(
            "proc-title-template", "{title} {listen-addr} {server-mode}", validate: validateProcTitleTemplate),
        keptEnum("propagation-error-behavior", ["ignore", "panic", "panic-on-replicas"], "ignore"),
        keptBool("rdb-del-sync-files", false),
        keptBool("rdb-save-incremental-fsync", true),
        // Redis raises a backlog below 16 KB to 16 KB when it applies the value.
        keptMemory("repl-backlog-size", 1...longMax, 1_048_576, atLeast: 16384),
        keptInt("repl-backlog-ttl", 0...longMax, 3600),
        keptBool("repl-disable-tcp-nodelay", false),
        keptEnum("repl-diskless-load", ["disabled", "on-empty-db", "swapdb"], "disabled"),
        keptBool("repl-diskless-sync", true),
        keptInt("repl-diskless-sync-delay", 0...intMax, 5),
        keptInt("repl-diskless-sync-max-replicas", 0...intMax, 0),
        keptInt("repl-ping-replica-period", 1...intMax, 10),
        keptInt("repl-timeout", 1...intMax, 60),
        keptString("replica-announce-ip", ""),
        keptInt("replica-announce-port", 0...65535, 0),
        keptBool("replica-announced", true),
        keptBool("replica-ignore-disk-write-errors", false),
        keptBool("replica-ignore-maxmemory", true),
        keptBool("replica-lazy-flush", false),
        keptInt("replica-priority", 0...intMax, 100),
        keptBool("replica-read-only", true),
        keptBool("replica-serve-stale-data", true),
        ConfigDirective(
            // The primary this server follows from its start (REPLICAOF changes it at run time
            // and CONFIG REWRITE writes it back).
            name: "replicaof", mutable: false, get: { $0.inertValues["replicaof"] ?? "" },
            set: { config, args in
                let words = args.flatMap { $0.split(separator: " ").map(String.init) }
                guard words.count == 2 else { throw ConfigError.badDirective }
                if words[0].lowercased() == "no" && words[1].lowercased() == "one" {
                    config.inertValues["replicaof"] = nil
                    return
                }
                guard let port = Int(words[1]), (0...65535).contains(port) else {
                    throw ConfigError.invalidValue("Invalid master port")
                }
                config.inertValues["replicaof"] = "\(words[0]) \(port)"
            }),
        keptEnum("sanitize-dump-payload", ["no", "yes", "clients"], "no"),
        keptString("server_cpulist", "", mutable: false),
        keptBool("set-proc-title", true, mutable: false),
        keptEnum("shutdown-on-sigint", ["default", "save", "nosave", "now", "force"], "default"),
        keptEnum("shutdown-on-sigterm", ["default", "save", "nosave", "now", "force"], "default"),
        keptInt("shutdown-timeout", 0...intMax, 10),
        keptInt("socket-mark-id", 0...Int(UInt32.max), 0, mutable: false),
        keptEnum("supervised", ["upstart", "systemd", "auto", "no"], "no", mutable: false),
        keptBool("syslog-enabled", false, mutable: false),
        keptEnum(
            "syslog-facility",
            ["user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"],
            "local0", mutable: false),
        keptString("syslog-ident", "redis", mutable: false),
        keptInt("tcp-backlog", 0...intMax, 511, mutable: false),
        keptString("unixsocket", "", mutable: false),
        keptInt("unixsocketperm", 0...0o777, 0, mutable: false),
        // Hidden debugging parameters: answered by exact name only, as Redis does.
        keptInt("key-load-delay", Int(Int32.min)...intMax, 0, hidden: true),
        keptInt("loading-process-events-interval-bytes", 1024...intMax, 2_097_152, hidden: true),
        keptBool("lua-enable-deprecated-api", false, mutable: false, hidden: true),
        keptInt("rdb-key-save-delay", Int(Int32.min)...intMax, 0, hidden: true),
        keptBool("use-exit-on-panic", false, hidden: true),
        // Redis's watchdog never fires more often than every two server ticks.
        ConfigDirective(
            name: "watchdog-period", mutable: true, get: { $0.inertValues["watchdog-period"] ?? "0" },
            set: { config, args in
                guard args.count == 1 else { throw ConfigError.badDirective }
                let period = try ConfigValueParsing.integer(args[0], 0...intMax)
                let shortest = 1000 / min(max(config.hz, 1), 500) * 2
                config.inertValues["watchdog-period"] = String(period == 0 ? 0 : max(period, shortest))
            }, hidden: true),
    ]

    // MARK: - Kept values of each type

    private static func kept(
        _ name: String, _ defaultValue: String, mutable: Bool, hidden: Bool,
        parse: @escaping @Sendable (String) throws -> String
    ) -> ConfigDirective {
        ConfigDirective(
            name: name, mutable: mutable, get: { $0.inertValues[name] ?? defaultValue },
            set: { config, args in
                guard args.count == 1 else { throw ConfigError.badDirective }
                config.inertValues[name] = try parse(args[0])
            }, hidden: hidden)
    }

    /// A `yes`/`no` parameter; `refuse` maps a value to the error Redis gives for it here.
    static func keptBool(
        _ name: String, _ defaultValue: Bool, mutable: Bool = true, hidden: Bool = false,
        refuse: [String: String] = [:]
    ) -> ConfigDirective {
        kept(name, defaultValue ? "yes" : "no", mutable: mutable, hidden: hidden) { text in
            let value = try ConfigValueParsing.bool(text) ? "yes" : "no"
            if let reason = refuse[value] { throw ConfigError.invalidValue(reason) }
            return value
        }
    }

    /// An integer in `range` (`memory: true`: with Redis's memory units).
    static func keptInt(
        _ name: String, _ range: ClosedRange<Int>, _ defaultValue: Int, mutable: Bool = true, hidden: Bool = false,
        memory: Bool = false, refuseNonZero: String? = nil
    ) -> ConfigDirective {
        kept(name, String(defaultValue), mutable: mutable, hidden: hidden) { text in
            let value =
                memory ? try ConfigValueParsing.memory(text, range) : try ConfigValueParsing.integer(text, range)
            if value != 0, let refuseNonZero { throw ConfigError.invalidValue(refuseNonZero) }
            return String(value)
        }
    }

    /// A memory value in bytes (`unsigned`: up to 2^64 - 1, as Redis's unsigned ones).
    /// (`atLeast`: raised to that when smaller, as Redis applies some.)
    static func keptMemory(
        _ name: String, _ range: ClosedRange<Int>, _ defaultValue: Int, unsigned: Bool = false, atLeast: Int = 0
    ) -> ConfigDirective {
        kept(name, String(defaultValue), mutable: true, hidden: false) { text in
            if unsigned { return try unsignedMemory(text) }
            return String(max(try ConfigValueParsing.memory(text, range), atLeast))
        }
    }

    /// One of `values`, case-insensitively, printed as listed, or as the first name of the
    /// same setting (`synonyms`: Redis prints `oom-score-adj relative` as `yes`).
    static func keptEnum(
        _ name: String, _ values: [String], _ defaultValue: String, mutable: Bool = true,
        synonyms: [String: String] = [:]
    ) -> ConfigDirective {
        kept(name, defaultValue, mutable: mutable, hidden: false) { text in
            guard let value = values.first(where: { $0 == text.lowercased() }) else {
                throw ConfigError.invalidValue(
                    "argument(s) must be one of the following: " + values.joined(separator: ", "))
            }
            return synonyms[value] ?? value
        }
    }

    /// Free text, with an optional check of its own.
    static func keptString(
        _ name: String, _ defaultValue: String, mutable: Bool = true,
        validate: (@Sendable (String) throws -> Void)? = nil
    ) -> ConfigDirective {
        kept(name, defaultValue, mutable: mutable, hidden: false) { text in
            try validate?(text)
            return text
        }
    }

    // MARK: - Redis's own rules for some of them

    /// An unsigned 64-bit memory value printed exactly (Redis's `cluster-link-sendbuf-limit`).
    static func unsignedMemory(_ text: String) throws -> String {
        let value = try ConfigValueParsing.memory(text, 0...Int.max, unsigned: true)
        // Values past Int.max saturate in the parser; print the exact unsigned product.
        if value == Int.max, let exact = exactUnsignedMemory(text) { return String(exact) }
        return String(value)
    }

    private static func exactUnsignedMemory(_ text: String) -> UInt64? {
        let lower = text.lowercased()
        let units: [(String, UInt64)] = [
            ("kb", 1024), ("mb", 1024 * 1024), ("gb", 1024 * 1024 * 1024),
            ("k", 1000), ("m", 1_000_000), ("g", 1_000_000_000), ("b", 1),
        ]
        for (suffix, factor) in units where lower.hasSuffix(suffix) {
            guard let digits = UInt64(lower.dropLast(suffix.count)) else { return UInt64.max }
            let product = digits.multipliedReportingOverflow(by: factor)
            return product.overflow ? UInt64.max : product.partialValue
        }
        return UInt64(lower) ?? UInt64.max
    }

    /// `maxmemory-clients`: a memory value, or a percentage of `maxmemory` up to 100%.
    static func memoryOrPercent(_ text: String) throws -> String {
        if text.hasSuffix("%") {
            let digits = text.dropLast()
            guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let percent = Int(digits) else {
                throw ConfigError.invalidValue("argument must be a memory or percent value")
            }
            guard percent <= 100 else {
                throw ConfigError.invalidValue("percentage argument must be less or equal to 100")
            }
            return "\(percent)%"
        }
        do {
            return String(try ConfigValueParsing.memory(text, 0...Int.max))
        } catch {
            throw ConfigError.invalidValue("argument must be a memory or percent value")
        }
    }

    /// `cluster-announce-hostname`: letters, digits, hyphens and dots (or empty).
    @Sendable static func validateHostname(_ text: String) throws {
        guard
            text.utf8.allSatisfy({ byte in
                (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || byte == 0x2D
                    || byte == 0x2E
            })
        else {
            throw ConfigError.invalidValue("Hostnames may only contain alphanumeric characters, hyphens or dots")
        }
    }

    /// `proc-title-template`: `{name}` variables Redis knows (`{{` and `}}` stand for braces),
    /// and something left once expanded, as Redis checks it: with an empty title and
    /// server mode, trimmed of spaces.
    @Sendable static func validateProcTitleTemplate(_ text: String) throws {
        let invalid = ConfigError.invalidValue("template format is invalid or contains unknown variables")
        let emptyVariables: Set = ["title", "server-mode"]
        let variables: Set = ["listen-addr", "port", "tls-port", "unixsocket", "config-file"]
        let chars = Array(text)
        var expanded = ""
        var index = 0
        while index < chars.count {
            let char = chars[index]
            if (char == "{" || char == "}") && index + 1 < chars.count && chars[index + 1] == char {
                expanded.append(char)
                index += 2
                continue
            }
            guard char == "{" else {
                expanded.append(char)
                index += 1
                continue
            }
            guard let close = chars[(index + 1)...].firstIndex(of: "}") else { throw invalid }
            let name = String(chars[(index + 1)..<close])
            if variables.contains(name) {
                expanded += "x"
            } else if !emptyVariables.contains(name) {
                throw invalid
            }
            index = close + 1
        }
        guard expanded.contains(where: { $0 != " " }) else { throw invalid }
    }
}
