import Testing

@testable import StrataServer

@Suite("ConfigLoader")
struct ConfigLoaderTests {
    @Test func readsRedisConfSyntax() throws {
        var config = ServerConfig()
        let text = """
            # comment
            port 7777
            bind 127.0.0.1 -::1
            requirepass "secret with space"
            timeout 30
            proto-max-bulk-len 64mb
            client-query-buffer-limit 2gb
            loglevel WARNING
            hz 1000

            protected-mode no
            """
        try ConfigLoader.apply(text, source: "test.conf", to: &config)
        #expect(config.port == 7777)
        #expect(config.bind == ["127.0.0.1", "-::1"])
        #expect(config.requirePass == "secret with space")
        #expect(config.timeout == 30)
        #expect(config.protoMaxBulkLen == 64 * 1024 * 1024)
        #expect(config.clientQueryBufferLimit == 2 * 1024 * 1024 * 1024)
        #expect(config.logLevel == "warning")
        #expect(config.hz == 500)
        #expect(config.protectedMode == false)
    }

    @Test(arguments: [
        ("port 1\nnonsense 1\n", 2, "Bad directive or wrong number of arguments"),
        ("port abc\n", 1, "argument couldn't be parsed into an integer"),
        ("port 70000\n", 1, "argument must be between 0 and 65535 inclusive"),
        ("protected-mode maybe\n", 1, "argument must be 'yes' or 'no'"),
        ("requirepass \"unterminated\n", 1, "Unbalanced quotes in configuration line"),
        ("port 1 2\n", 1, "Bad directive or wrong number of arguments"),
    ])
    func namesTheBadLine(text: String, line: Int, reason: String) {
        var config = ServerConfig()
        do {
            try ConfigLoader.apply(text, source: "bad.conf", to: &config)
            Issue.record("accepted \(text)")
        } catch let error as ConfigLoadError {
            #expect(error.line == line)
            #expect(error.reason == reason)
            #expect(error.description.contains("at line \(line) of bad.conf"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func commandLineOptionsBecomeLines() {
        let (file, options) = ConfigLoader.parseArguments([
            "/etc/strata.conf", "--port", "6380", "--requirepass", "a b",
        ])
        #expect(file == "/etc/strata.conf")
        #expect(options == "port 6380\nrequirepass \"a b\"")
        #expect(ConfigLoader.parseArguments(["--save", ""]).options == "save \"\"")
    }

    @Test func memoryUnitsFollowRedisConf() throws {
        #expect(try ConfigValueParsing.memory("1k") == 1000)
        #expect(try ConfigValueParsing.memory("1kb") == 1024)
        #expect(try ConfigValueParsing.memory("2GB") == 2 * 1024 * 1024 * 1024)
        #expect(throws: ConfigError.self) { try ConfigValueParsing.memory("12xb") }
    }
}

@Suite("ProtectedMode")
struct ProtectedModeTests {
    @Test(arguments: [
        ("127.0.0.1:5000", true), ("127.9.8.7:1", true), ("::1", true), ("[::1]:5000", true),
        ("::ffff:127.0.0.1:5000", true), ("10.0.0.5:5000", false), ("192.168.1.1:80", false),
        ("::ffff:10.1.1.1:9", false),
    ])
    func recognisesLoopback(address: String, loopback: Bool) {
        #expect(ProtectedMode.isLoopback(address) == loopback)
    }

    @Test func refusesOnlyNonLoopbackClientsWithoutPassword() {
        #expect(ProtectedMode.refuses(protectedMode: true, hasPassword: false, clientAddress: "10.0.0.1:5"))
        #expect(!ProtectedMode.refuses(protectedMode: true, hasPassword: false, clientAddress: "127.0.0.1:5"))
        #expect(!ProtectedMode.refuses(protectedMode: true, hasPassword: true, clientAddress: "10.0.0.1:5"))
        #expect(!ProtectedMode.refuses(protectedMode: false, hasPassword: false, clientAddress: "10.0.0.1:5"))
        #expect(ProtectedMode.deniedMessage.hasPrefix("DENIED Redis is running in protected mode"))
    }
}

@Suite("CommandSynopsis")
struct CommandSynopsisTests {
    @Test func buildsDocArgumentsRedisCliCanHint() {
        let args = CommandSynopsis.parse("key value [NX|XX] [GET] [EX seconds|PX milliseconds]")
        #expect(args.map(\.name) == ["key", "value", "choice", "get", "choice"])
        #expect(args[0].type == "key")
        #expect(args[2].optional && args[2].type == "oneof")
        #expect(args[2].children.map(\.token) == ["NX", "XX"])
        #expect(args[4].children.map(\.name) == ["seconds", "milliseconds"])
        #expect(args[4].children.map(\.token) == ["EX", "PX"])
        let multi = CommandSynopsis.parse("key [key ...]")
        #expect(multi.count == 1 && multi[0].multiple)
    }

    @Test func numbersAreReadAsRedisReadsThem() throws {
        // Integers as string2ll: no `+`, no spaces, no leading zeros.
        for text in ["+1", " 1", "1 ", "01", "-0", ""] {
            #expect(throws: ConfigError.self) { try ConfigValueParsing.integer(text, 0...100) }
        }
        #expect(try ConfigValueParsing.integer("-5", -10...10) == -5)
        // Memory values as memtoull: digits and a unit, no sign; nothing at all is 0.
        for text in ["+1", "-1", " 1", "1 k", "1.5mb"] {
            #expect(throws: ConfigError.self) { try ConfigValueParsing.memory(text) }
        }
        #expect(try ConfigValueParsing.memory("") == 0)
        #expect(try ConfigValueParsing.memory("2kb") == 2048)
        #expect(throws: ConfigError.self) { try ConfigValueParsing.memory("18446744073709551615") }
        // maxmemory is unsigned in Redis: up to and past 2^64 - 1, meaning no limit.
        #expect(try ConfigValueParsing.memory("18446744073709551615", unsigned: true) == Int.max)
        #expect(try ConfigValueParsing.memory("18446744073709551616", unsigned: true) == Int.max)
        #expect(try ConfigValueParsing.memory("9223372036854775807gb", unsigned: true) == Int.max)
    }
}

@Suite("CONFIG REWRITE")
struct ConfigRewriteTests {
    static let file = """
        # Sentinel rewrites this file.
        port 7777

        save 900 1
        replicaof 10.0.0.1 6379
        # a comment kept in place
        maxmemory 10mb
        save 60 5

        """

    @Test func keepsCommentsAndOrderAndReplacesValuesInPlace() throws {
        var config = ServerConfig()
        try ConfigLoader.apply(Self.file, source: "test.conf", to: &config)
        config.maxMemory = 20 * 1024 * 1024
        config.inertValues["replicaof"] = "127.0.0.1 7001"
        config.hz = 50
        let text = ConfigRewrite.rewrite(Self.file, config: config)
        #expect(
            text == """
                # Sentinel rewrites this file.
                port 7777

                save 900 1 60 5
                replicaof 127.0.0.1 7001
                # a comment kept in place
                maxmemory 20971520
                \(ConfigRewrite.marker)
                hz 50

                """)
        // What it wrote reads back to the same settings, and rewriting again changes nothing.
        var reread = ServerConfig()
        try ConfigLoader.apply(text, source: "test.conf", to: &reread)
        #expect(reread.maxMemory == config.maxMemory && reread.hz == 50)
        #expect(reread.inertValues["replicaof"] == "127.0.0.1 7001")
        #expect(ConfigRewrite.rewrite(text, config: reread) == text)
    }

    @Test func aPrimaryAgainLosesItsReplicaofLine() throws {
        var config = ServerConfig()
        try ConfigLoader.apply(Self.file, source: "test.conf", to: &config)
        config.inertValues["replicaof"] = nil
        let text = ConfigRewrite.rewrite(Self.file, config: config)
        #expect(!text.contains("replicaof"))
        #expect(text.contains("# a comment kept in place\nmaxmemory"))
    }

    @Test func anEmptyListIsWrittenAsAnEmptyString() {
        var config = ServerConfig()
        config.savePoints = []
        #expect(ConfigRewrite.rewrite("save 900 1\n", config: config) == "save \"\"\n")
    }
}
