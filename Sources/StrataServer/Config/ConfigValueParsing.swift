import StrataEngine

/// Value syntax of configuration directives, as redis.conf accepts them.
enum ConfigValueParsing {
    /// `yes`/`no`, case-insensitively.
    static func bool(_ text: String) throws -> Bool {
        switch text.lowercased() {
        case "yes": return true
        case "no": return false
        default: throw ConfigError.invalidValue("argument must be 'yes' or 'no'")
        }
    }

    /// An integer within `range`.
    static func integer(_ text: String, _ range: ClosedRange<Int>) throws -> Int {
        // As Redis's string2ll: no sign but `-`, no spaces, no leading zeros.
        guard let value = Bytes(text).strictInteger else {
            throw ConfigError.invalidValue("argument couldn't be parsed into an integer")
        }
        guard range.contains(value) else {
            throw ConfigError.invalidValue(
                "argument must be between \(range.lowerBound) and \(range.upperBound) inclusive")
        }
        return value
    }

    /// A memory size: a number with an optional unit (`k`, `kb`, `m`, `mb`, `g`, `gb`;
    /// `k` is 1000, `kb` is 1024, as redis.conf).
    /// `unsigned` parameters (Redis's `maxmemory`) take up to 2^64 - 1, which saturates at
    /// Int.max ("no limit").
    static func memory(_ text: String, _ range: ClosedRange<Int> = 0...Int.max, unsigned: Bool = false) throws -> Int {
        let lower = text.lowercased()
        let units: [(String, Int)] = [
            ("kb", 1024), ("mb", 1024 * 1024), ("gb", 1024 * 1024 * 1024),
            ("k", 1000), ("m", 1_000_000), ("g", 1_000_000_000), ("b", 1),
        ]
        var digits = Substring(lower)
        var multiplier = 1
        for (suffix, factor) in units where lower.hasSuffix(suffix) {
            digits = lower.dropLast(suffix.count)
            multiplier = factor
            break
        }
        // As Redis's memtoull: digits only (no sign, no spaces); none at all reads as 0.
        guard digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw ConfigError.invalidValue("argument must be a memory value")
        }
        let product = (digits.isEmpty ? 0 : UInt64(digits))?.multipliedReportingOverflow(by: UInt64(multiplier))
        let value: Int?
        if let product, !product.overflow {
            value = unsigned ? Int(clamping: product.partialValue) : Int(exactly: product.partialValue)
        } else {
            value = unsigned ? Int.max : nil  // Redis's strtoull saturates; the limit is then none
        }
        guard let value, range.contains(value) else {
            throw ConfigError.invalidValue(
                "argument must be between \(range.lowerBound) and \(range.upperBound) inclusive")
        }
        return value
    }
}

/// A configuration problem.
public enum ConfigError: Error, Equatable, CustomStringConvertible {
    /// The directive is not known, or has the wrong number of arguments.
    case badDirective
    /// The value does not parse or is out of range; the text says why.
    case invalidValue(String)
    /// The directive cannot be changed at run time.
    case immutable

    public var description: String {
        switch self {
        case .badDirective: return "Bad directive or wrong number of arguments"
        case .invalidValue(let reason): return reason
        case .immutable: return "can't set immutable config"
        }
    }
}
