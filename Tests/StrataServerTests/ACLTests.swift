import Foundation
import StrataEngine
import Testing

@testable import StrataServer

@Suite struct ACLTests {
    let control = AccessControl(catalog: ACLCommandCatalog.standard)

    func user(_ rules: String) throws -> ACLUser {
        let words = rules.split(separator: " ").map { Array($0.utf8) }
        return ACLUser(name: "u", state: try control.stagedState(for: "u", rules: words))
    }

    func args(_ text: String) -> [Bytes] { text.split(separator: " ").map { Bytes(String($0)) } }

    func spec(_ text: String) throws -> CommandSpec {
        try CommandTable.standard.resolve(args(text)).get()
    }

    func denial(_ rules: String, _ command: String) throws -> ACLDenial? {
        let user = try user(rules)
        return user.check(try spec(command), args(command), catalog: control.catalog)
    }

    @Test func sha256MatchesTheStandardVectors() {
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let long = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(SHA256.hex(long) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(
            SHA256.hex(Array("password".utf8)) == "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8")
    }

    @Test func describesCommandRulesAsRedisNormalisesThem() throws {
        let cases = [
            ("+@string +get", "-@all +@string"), ("+get +get +get", "-@all +get"), ("+@string -@string", "-@all"),
            ("-@all +@all", "+@all"), ("+config|get +config", "-@all +config"),
            ("+config -config|get", "-@all +config -config|get"), ("+@all -config|get", "+@all -config|get"),
            ("+@all -select +select|0", "+@all -select +select|0"), ("+select|0 +select|1 -select", "-@all"),
            ("+select|0 +select", "-@all +select"), ("+@all -get +get", "+@all"), ("+get -get", "-@all"),
        ]
        for (rules, expected) in cases {
            let described = try user(rules).state.selectors[0].commandRuleBytes(catalog: control.catalog)
            #expect(String(decoding: described, as: UTF8.self) == expected, "\(rules)")
        }
    }

    @Test func listLineHasRedisLayout() throws {
        let u3 = try user("on >p1 ~a* %R~r* %W~w* &ch* -@all +get (~x +set)")
        #expect(
            String(decoding: u3.listLine(catalog: control.catalog), as: UTF8.self)
                == "user u on #\(SHA256.hex(Array("p1".utf8))) ~a* %R~r* %W~w* resetchannels &ch* -@all +get (~x resetchannels -@all +set)"
        )
        #expect(
            try user("reset").listLine(catalog: control.catalog)
                == Array("user u off sanitize-payload resetchannels -@all".utf8))
        #expect(try user("%R~a %W~a").state.selectors[0].keysDescription == Array("~a".utf8))
        // Patterns and first arguments are bytes: a non-UTF-8 pattern is described exactly.
        let binary = try control.stagedState(
            for: "b", rules: [[UInt8(ascii: "~"), 0xff, 0xfe], Array("+select|".utf8) + [0xff]])
        let line = ACLUser(name: "b", state: binary).listLine(catalog: control.catalog)
        #expect(
            line == Array("user b off ~".utf8) + [0xff, 0xfe] + Array(" resetchannels -@all +select|".utf8) + [0xff])
    }

    @Test func refusesBadRulesWithRedisReasons() {
        let cases: [(String, String)] = [
            ("foo", "Syntax error"), ("%X~foo", "Syntax error"), ("%~foo", "Syntax error"),
            ("+nosuchcmd", "Unknown command or category name in ACL"),
            ("+@nosuch", "Unknown command or category name in ACL"),
            ("+config|foo", "Unknown command or category name in ACL"),
            ("-get|foo", "Unknown command or category name in ACL"),
            ("+config|get|x", "Allowing first-arg of a subcommand is not supported"), ("+config|", "Syntax error"),
            (
                "#abc",
                "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
            ),
            ("<nothere", "The password you are trying to remove from the user does not exist"),
            ("(on)", "Syntax error"),
        ]
        for (rule, reason) in cases {
            #expect(throws: AccessControl.SetUserError.rule(rule, ACLRuleError(reason: reason))) {
                _ = try control.stagedState(for: "u", rules: [Array(rule.utf8)])
            }
        }
        #expect(throws: AccessControl.SetUserError.unmatchedParenthesis("(+get")) {
            _ = try control.stagedState(for: "u", rules: [Array("(+get".utf8)])
        }
        #expect(throws: AccessControl.SetUserError.badName) {
            _ = try control.stagedState(for: "a b", rules: [])
        }
    }

    @Test func checksCommandsKeysAndChannels() throws {
        let rules = "resetkeys %R~r* %W~w* ~k* &ch* +@all"
        #expect(try denial(rules, "copy r1 w1") == nil)
        #expect(try denial(rules, "copy w1 r1") == ACLDenial(reason: .key, position: 1))
        #expect(try denial(rules, "lmove r1 w1 left left") == ACLDenial(reason: .key, position: 1))
        #expect(try denial(rules, "set w1 v") == nil)
        #expect(try denial(rules, "set w1 v get") == ACLDenial(reason: .key, position: 1))
        #expect(try denial(rules, "exists w1") == nil)
        #expect(try denial(rules, "mget r1 k1 w1") == ACLDenial(reason: .key, position: 3))
        #expect(try denial(rules, "publish ch1 x") == nil)
        #expect(try denial(rules, "publish other x") == ACLDenial(reason: .channel, position: 1))
        #expect(try denial(rules, "psubscribe ch*") == nil)
        #expect(try denial(rules, "psubscribe c*") == ACLDenial(reason: .channel, position: 1))
        #expect(try denial("+get ~*", "set k v") == ACLDenial(reason: .command, position: 0))
        #expect(try denial("+select|0 ~*", "select 0") == nil)
        #expect(try denial("+select|0 ~*", "select 1") == ACLDenial(reason: .command, position: 0))
        // Selectors: one allowing the whole command is enough; else the highest reason wins.
        #expect(try denial("+get ~a (+set ~b)", "set b v") == nil)
        #expect(try denial("+get ~a (+set ~b)", "set a v") == ACLDenial(reason: .key, position: 1))
    }

    @Test func prefixPatternsMatchAsGlobsDo() throws {
        #expect(ACLSelectorCheck.literalPrefix(of: Array("app:*".utf8)) == Array("app:".utf8))
        #expect(ACLSelectorCheck.literalPrefix(of: Array("*".utf8)) == [])
        for pattern in ["a?*", "a[b]*", "a\\**", "a*b", "a**"] {
            #expect(ACLSelectorCheck.literalPrefix(of: Array(pattern.utf8)) == nil, "\(pattern)")
        }
        for (key, allowed) in [("app:1", true), ("app:", true), ("ap", false), ("xapp:1", false)] {
            #expect(try denial("~app:* +@all", "get \(key)") == (allowed ? nil : ACLDenial(reason: .key, position: 1)))
        }
    }

    @Test func passwordsAreComparedByHash() throws {
        let u = try user("on >secret")
        #expect(u.accepts(password: Bytes("secret")))
        #expect(!u.accepts(password: Bytes("secreT")))
        #expect(try user("on nopass").accepts(password: Bytes("anything")))
        control.setDefaultPassword("pw")
        #expect(control.authenticate("default", password: Bytes("pw")) === control.defaultUser)
        #expect(control.authenticationRequired)
        control.setDefaultPassword("")
        #expect(!control.authenticationRequired)
    }

    @Test func aclFilesParseAndReportEveryBadLine() {
        let text =
            "user alice on >pw ~* &* +@all\r\n\n  user bob off ~b* +get  \nuser carl +nosuch foo\nuser alice on\nfoo bar\n"
        switch control.parseFile(text, path: "f.acl") {
        case .success:
            Issue.record("a bad file was accepted")
        case .failure(let error):
            #expect(
                error.message
                    == "f.acl:4: Error in applying operation '+nosuch': Unknown command or category name in ACL. f.acl:4: Syntax error. WARNING: Duplicate user 'alice' found on line 5. f.acl:6 should start with user keyword followed by the username. WARNING: ACL errors detected, no change to the previously active ACL rules was performed"
            )
        }
        guard
            case .success(let users) = control.parseFile(
                "user alice on >pw ~* &* +@all\r\nuser bob off ~b* +get\n", path: "f")
        else {
            Issue.record("a good file was refused")
            return
        }
        #expect(users.map(\.0) == ["alice", "bob"])
    }

    @Test func theLogGroupsRepeatsAndKeepsItsLength() {
        var log = ACLLog()
        func entry(_ object: String, _ time: Int64) -> ACLLogEntry {
            ACLLogEntry(
                reason: .key, context: .toplevel, object: Bytes(object), username: "u", time: time, clientInfo: "")
        }
        log.add(entry("a", 0), maxLength: 3)
        log.add(entry("b", 1), maxLength: 3)
        log.add(entry("a", 2), maxLength: 3)
        #expect(log.entries.map(\.object) == [Bytes("a"), Bytes("b")])
        #expect(log.entries[0].count == 2)
        log.add(entry("a", 70_000), maxLength: 3)  // past the grouping window: a new entry
        log.add(entry("c", 70_001), maxLength: 3)
        #expect(log.entries.map(\.object) == [Bytes("c"), Bytes("a"), Bytes("a")])
    }

    @Test func fuzzTargetRoundTripsAcceptedRules() throws {
        for seed in ["on >p1 ~a* %R~r* &ch* +@string -set +config|get (~x +get)", "+@all -@read +get -config|get"] {
            // The seed must be accepted, or the target would return before its round trip.
            let rules = seed.split(separator: " ").map { Array($0.utf8) }
            _ = try control.stagedState(for: "seed", rules: rules)
            Array(seed.utf8).withUnsafeBytes { ACLRuleFuzzing.run($0) }
        }
    }
}
