//! Command-line parsing for strata-dump: positional arguments, `--flag`s and `--option
//! VALUE`s. Anything unknown or malformed is a usage error (exit code 2).

import Foundation

/// The parsed arguments of one subcommand.
struct Options {
    /// Positional arguments, in order.
    var positional: [String] = []
    /// Flags given (`--json`).
    var flags: Set<String> = []
    /// Options given with their values (`--top 20`).
    var values: [String: String] = [:]

    /// Parses `arguments`, accepting the flags and value options listed.
    init(_ arguments: [String], flags allowedFlags: Set<String>, values allowedValues: Set<String>) {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument.hasPrefix("--") && argument.count > 2 {
                if allowedFlags.contains(argument) {
                    flags.insert(argument)
                } else if allowedValues.contains(argument) {
                    index += 1
                    guard index < arguments.count else { usageError("\(argument) needs a value") }
                    values[argument] = arguments[index]
                } else {
                    usageError("unknown option \(argument)")
                }
            } else {
                positional.append(argument)
            }
            index += 1
        }
    }

    /// Whether `flag` was given.
    func has(_ flag: String) -> Bool { flags.contains(flag) }

    /// The integer value of `option`, `fallback` when absent; a usage error when it is not
    /// an integer in `range`.
    func integer(_ option: String, default fallback: Int, in range: ClosedRange<Int> = 0...Int.max) -> Int {
        guard let text = values[option] else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            usageError("\(option) takes an integer in \(range.lowerBound)...\(range.upperBound), not \(text)")
        }
        return value
    }
}

/// The whole usage text.
let usage = """
    usage: strata-dump inspect FILE|AOFDIR [--json|--csv]
           strata-dump inspect FILE --keys [--db N] [--type T] [--match GLOB] [--expired|--no-expired] [--json|--csv]
           strata-dump inspect FILE --memory [--top N] [--separator S] [--depth N] [--db N] [--type T] [--match GLOB] [--json|--csv]
           strata-dump verify FILE [--salvage OUT] [--json]
           strata-dump verify AOFDIR|MANIFEST|AOFFILE [--fix] [--json]
           strata-dump convert SOURCE OUT [--format sdb|rdb|resp|jsonl] [--codec lz4|zlib|none]
           strata-dump restore SOURCE --to HOST:PORT [--password P] [--user U] [--db N] [--match GLOB] [--replace] [--until TIME]
           strata-dump restore SOURCE --into DIR [--dbfilename NAME] [--force] [--db N] [--match GLOB] [--until TIME]
           strata-dump backup --from HOST:PORT --out DIR [--keep N] [--password P] [--user U] [--json]
    exit codes: 0 good, 1 damaged or failed, 2 usage error
    """

/// Prints `message` and the usage text to standard error and exits with code 2.
func usageError(_ message: String) -> Never {
    FileHandle.standardError.write(Data("strata-dump: \(message)\n\(usage)\n".utf8))
    exit(2)
}

/// Prints `message` to standard error and exits with `code`.
func fail(_ message: String, code: Int32 = 1) -> Never {
    FileHandle.standardError.write(Data("strata-dump: \(message)\n".utf8))
    exit(code)
}
