import StrataDumpKit
import Testing

/// Usage errors exit with code 2 and say `strata-dump: <message>` then the usage text, on
/// standard error only; `--help` exits 0 with ArgumentParser's help on standard output.
@Suite("strata-dump usage")
struct UsageTests {
    static let usageText = """
        usage: strata-dump inspect FILE|AOFDIR [--json|--csv]
               strata-dump inspect FILE --keys [--db N] [--type T] [--match GLOB] [--expired|--no-expired] [--json|--csv]
               strata-dump inspect FILE --memory [--top N] [--separator S] [--depth N] [--by-slot] [--svg OUT] [--db N] [--type T] [--match GLOB] [--json|--csv]
               strata-dump verify FILE [--salvage OUT] [--json]
               strata-dump verify AOFDIR|MANIFEST|AOFFILE [--fix] [--json]
               strata-dump convert SOURCE OUT [--format sdb|rdb|resp|jsonl] [--codec lz4|zlib|none]
               strata-dump restore SOURCE --to HOST:PORT [--password P] [--user U] [--tls [--cacert FILE] [--cert FILE --key FILE] [--insecure]] [--db N] [--match GLOB] [--replace] [--until TIME]
               strata-dump restore SOURCE --into DIR [--dbfilename NAME] [--force] [--db N] [--match GLOB] [--until TIME]
               strata-dump backup --from HOST:PORT --out DIR [--keep N] [--compress lz4|zlib] [--password P] [--user U] [--tls [--cacert FILE] [--cert FILE --key FILE] [--insecure]] [--json]
               strata-dump diff A B [--keys] [--separator S] [--depth N] [--json|--csv]
        exit codes: 0 good, 1 damaged or failed, 2 usage error
        """

    @Test func theUsageTextIsEveryFormOfEverySubcommand() {
        #expect(StrataDumpCommand.usageText == Self.usageText)
    }

    static let errors: [([String], String)] = [
        ([], "no command given"),
        (["frobnicate"], "unknown command frobnicate"),
        (["inspect"], "inspect takes one FILE or directory"),
        (["inspect", redisFixture, "--bogus"], "unknown option --bogus"),
        (["inspect", redisFixture, "--json", "--csv"], "--json and --csv exclude each other"),
        (["inspect", redisFixture, "--keys", "--memory"], "--keys and --memory exclude each other"),
        (["inspect", redisFixture, "--expired", "--no-expired"], "--expired and --no-expired exclude each other"),
        (["inspect", redisFixture, "--keys", "--top"], "--top needs a value"),
        (["inspect", redisFixture, "--memory", "--top", "zero"], "--top takes an integer in 1...100000, not zero"),
        (["inspect", redisFixture, "--memory", "--top", "0"], "--top takes an integer in 1...100000, not 0"),
        (["inspect", redisFixture, "--memory", "--depth", "65"], "--depth takes an integer in 1...64, not 65"),
        (["inspect", redisFixture, "--keys", "--db", "-1"], "--db takes an integer in 0...1000000, not -1"),
        (
            ["inspect", redisFixture, "--keys", "--type", "blob"],
            "--type takes one of hash, list, set, stream, string, zset"
        ),
        (["verify"], "verify takes one FILE or directory"),
        (["verify", redisFixture, "--fix"], "--fix is for AOF files; snapshots take --salvage OUT"),
        (["convert", redisFixture], "convert takes SOURCE and OUT"),
        (["convert", redisFixture, "out.unknown"], "cannot tell the format from out.unknown's name"),
        (["convert", redisFixture, "-"], "writing to standard output needs --format resp or --format jsonl"),
        (["convert", redisFixture, "-", "--format", "sdb"], "snapshots are written to a file, not -"),
        (["convert", redisFixture, "out.rdb", "--codec", "lz4"], "--format rdb is uncompressed"),
        (["convert", redisFixture, "out.resp", "--codec", "lz4"], "--codec applies to sdb output"),
        (["convert", redisFixture, "out", "--format", "xml"], "--format takes sdb, rdb, resp or jsonl"),
        (["restore"], "restore takes one SOURCE"),
        (["restore", redisFixture], "restore takes either --to HOST:PORT or --into DIR"),
        (["restore", redisFixture, "--to", "h:1", "--into", "d"], "restore takes either --to HOST:PORT or --into DIR"),
        (
            ["restore", redisFixture, "--into", "d", "--dbfilename", "a/b"],
            "--dbfilename takes a file name, not a path"
        ),
        (
            ["restore", redisFixture, "--into", "d", "--dbfilename", "x.rdb", "--codec", "zlib"],
            "a .rdb file is uncompressed"
        ),
        (["restore", redisFixture, "--into", "d", "--until", "yesterday"], "The value 'yesterday' is invalid"),
        (["restore", redisFixture, "--into", "d", "--until", "1800000000"], "--until applies to an AOF directory"),
        (["backup", "--out", "d"], "backup needs --from HOST:PORT and --out DIR"),
        (["backup", "--from", "h:1", "--out", "d", "--keep", "0"], "--keep takes an integer in 1...1000000, not 0"),
    ]

    @Test(arguments: 0..<errors.count)
    func usageErrorsExitWithCode2AndTheUsageText(index: Int) {
        let (arguments, message) = Self.errors[index]
        let output = CapturedDumpOutput()
        let code = StrataDump.run(arguments, output: output)
        #expect(code == 2)
        #expect(output.error.hasPrefix("strata-dump: \(message)"), "\(arguments): \(output.error)")
        #expect(output.error.hasSuffix("\n" + Self.usageText + "\n"))
        #expect(output.outputBytes.isEmpty)
    }

    @Test func anInvalidUntilSaysWhatItTakes() {
        let run = strataDump("restore", redisFixture, "--into", "d", "--until", "yesterday")
        #expect(run.error.contains("--until takes Unix seconds or an ISO 8601 time such as 2026-11-28T10:00:00Z"))
    }

    @Test(arguments: [
        ("inspect", ["--keys", "--memory", "--top <N>", "--separator <S>", "--depth <N>", "--db <N>", "--type <T>"]),
        ("verify", ["--salvage <OUT>", "--fix", "--json", "--codec <CODEC>"]),
        ("convert", ["<SOURCE>", "<OUT>", "--format <FORMAT>", "(values: sdb, rdb, resp, jsonl)"]),
        ("restore", ["--to <HOST:PORT>", "--into <DIR>", "--until <TIME>", "--replace", "--force"]),
        ("backup", ["--from <HOST:PORT>", "--out <DIR>", "--keep <N>", "--password <P>"]),
    ])
    func everySubcommandHasHelp(subcommand: String, options: [String]) {
        for arguments in [[subcommand, "--help"], [subcommand, "-h"], ["help", subcommand]] {
            let run = StrataDump.run(arguments, output: CapturedDumpOutput())
            #expect(run == 0)
        }
        let output = CapturedDumpOutput()
        #expect(StrataDump.run([subcommand, "--help"], output: output) == 0)
        #expect(output.error.isEmpty)
        #expect(output.output.contains("USAGE: strata-dump \(subcommand) "))
        for option in options { #expect(output.output.contains(option), "\(subcommand) --help lacks \(option)") }
    }

    @Test func theRootHelpListsTheSubcommandsAndExitCodes() {
        let run = strataDump("--help")
        #expect(run.code == 0)
        for name in ["inspect", "verify", "convert", "restore", "backup"] {
            #expect(run.output.contains("\n  \(name) "), "root help lacks \(name)")
        }
        #expect(run.output.contains("exit codes: 0 good, 1 damaged or failed, 2 usage error"))
        #expect(strataDump("help").output == run.output)
    }
}
