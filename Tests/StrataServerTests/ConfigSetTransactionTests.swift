import Testing

@testable import StrataServer

@Suite("CONFIG SET staging and rollback")
struct ConfigSetTransactionTests {
    private let remote = ConfigSetTransaction.Caller(isLocal: false)
    private let local = ConfigSetTransaction.Caller(isLocal: true)

    private func stage(_ pairs: [(String, String)], _ config: ServerConfig = ServerConfig(), caller: Bool = false)
        -> Result<ServerConfig, ConfigSetFailure>
    {
        ConfigSetTransaction.stage(pairs.map { (name: $0.0, value: $0.1) }, on: config, caller: caller ? local : remote)
    }

    private func failure(_ result: Result<ServerConfig, ConfigSetFailure>) -> String? {
        if case .failure(let failure) = result { return failure.message }
        return nil
    }

    @Test func stagesEveryValueOrNone() throws {
        let staged = try stage([("hz", "20"), ("maxmemory", "2mb"), ("activerehashing", "NO")]).get()
        #expect(staged.hz == 20)
        #expect(staged.maxMemory == 2 * 1024 * 1024)
        #expect(ConfigDirective.named("activerehashing")?.get(staged) == "no")
        // A bad value after good ones: nothing is returned to apply.
        #expect(
            failure(stage([("hz", "20"), ("maxmemory", "2mb"), ("timeout", "x")]))
                == "CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer"
        )
    }

    @Test func namesAreCheckedBeforeValuesAndTheFirstBadNameWins() {
        #expect(
            failure(stage([("maxmemory", "abc"), ("nosuch", "1")]))
                == "Unknown option or number of arguments for CONFIG SET - 'nosuch'")
        #expect(
            failure(stage([("nosuch", "1"), ("daemonize", "no")]))
                == "Unknown option or number of arguments for CONFIG SET - 'nosuch'")
        #expect(
            failure(stage([("DAEMONIZE", "no"), ("nosuch", "1")]))
                == "CONFIG SET failed (possibly related to argument 'DAEMONIZE') - can't set immutable config")
        #expect(
            failure(stage([("hz", "1"), ("HZ", "2")]))
                == "CONFIG SET failed (possibly related to argument 'HZ') - duplicate parameter")
        // Value errors name the parameter in lowercase, as Redis's table spells it.
        #expect(
            failure(stage([("HZ", "x")]))
                == "CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer"
        )
    }

    @Test func anAliasAndItsParameterAreDistinctNames() throws {
        let staged = try stage([("hash-max-ziplist-entries", "7"), ("hash-max-listpack-entries", "9")]).get()
        #expect(staged.hashMaxListpackEntries == 9)
    }

    @Test func protectedParametersFollowEnableProtectedConfigs() throws {
        #expect(
            failure(stage([("dir", "/tmp")]))
                == "CONFIG SET failed (possibly related to argument 'dir') - can't set protected config")
        var config = ServerConfig()
        config.enableProtectedConfigs = .local
        #expect(failure(stage([("dbfilename", "x")], config)) != nil)
        #expect(try stage([("dbfilename", "x")], config, caller: true).get().dbFilename == "x")
        config.enableProtectedConfigs = .yes
        #expect(
            failure(stage([("dbfilename", "a/b")], config))
                == "CONFIG SET failed (possibly related to argument 'dbfilename') - dbfilename can't be a path, just a filename"
        )
    }

    @Test func inertParametersAreValidatedAndKept() throws {
        let staged = try stage([
            ("maxmemory-clients", "10%"), ("oom-score-adj", "relative"), ("oom-score-adj-values", "+1 02 -2000"),
            ("repl-backlog-size", "1k"), ("key-load-delay", "-5"),
            ("cluster-link-sendbuf-limit", "99999999999999999999"),
        ]).get()
        let get = { (name: String) in ConfigDirective.named(name)?.get(staged) }
        #expect(get("maxmemory-clients") == "10%")
        #expect(get("oom-score-adj") == "yes")
        #expect(get("oom-score-adj-values") == "1 2 -2000")
        #expect(get("repl-backlog-size") == "16384")
        #expect(get("key-load-delay") == "-5")
        #expect(get("cluster-link-sendbuf-limit") == "18446744073709551615")
        #expect(
            failure(stage([("maxmemory-clients", "101%")]))
                == "CONFIG SET failed (possibly related to argument 'maxmemory-clients') - percentage argument must be less or equal to 100"
        )
        #expect(
            failure(stage([("active-expire-effort", "11")]))
                == "CONFIG SET failed (possibly related to argument 'active-expire-effort') - argument must be between 1 and 10 inclusive"
        )
        #expect(
            failure(stage([("proc-title-template", "{nope}")]))
                == "CONFIG SET failed (possibly related to argument 'proc-title-template') - template format is invalid or contains unknown variables"
        )
        #expect(try stage([("proc-title-template", "{{x}} }")]).get().inertValues["proc-title-template"] == "{{x}} }")
    }

    @Test func multipleArgumentsAreCutAtEverySpace() {
        #expect(ConfigDirective.multipleArguments([""]) == [])
        #expect(ConfigDirective.multipleArguments(["100 10"]) == ["100", "10"])
        #expect(ConfigDirective.multipleArguments([" 100  10"]) == ["", "100", "", "10"])
        #expect(ConfigDirective.multipleArguments(["100", "10"]) == ["100", "10"])
        #expect(
            failure(stage([("save", " 100   10 ")]))
                == "CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters")
    }

    @Test func aFailedStepUndoesTheAppliedOnesLastFirst() {
        var log: [String] = []
        let step = { (name: String, fails: Bool) in
            ConfigSetTransaction.Step(
                name: name,
                apply: {
                    log.append("apply \(name)")
                    return fails ? "no way" : nil
                }, undo: { log.append("undo \(name)") })
        }
        let failure = ConfigSetTransaction.apply([
            step("dir", false), step("maxclients", false), step("appendonly", true),
        ])
        #expect(failure?.message == "CONFIG SET failed (possibly related to argument 'appendonly') - no way")
        #expect(log == ["apply dir", "apply maxclients", "apply appendonly", "undo maxclients", "undo dir"])
        log.removeAll()
        #expect(ConfigSetTransaction.apply([step("dir", false), step("maxclients", false)]) == nil)
        #expect(log == ["apply dir", "apply maxclients"])
    }

    @Test func hiddenParametersAreMarked() {
        for name in [
            "key-load-delay", "rdb-key-save-delay", "loading-process-events-interval-bytes",
            "lua-enable-deprecated-api", "use-exit-on-panic", "watchdog-period",
        ] {
            #expect(ConfigDirective.named(name)?.hidden == true, "\(name)")
        }
        // Redis's visible parameters and aliases, and Strata's own (tls-handshake-timeout and
        // the four memcached-* included).
        #expect(ConfigDirective.table.filter { !$0.hidden }.count + ConfigDirective.aliases.count == 199)
    }
}
