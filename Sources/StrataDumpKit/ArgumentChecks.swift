//! Checks shared by the subcommands' `validate()`: integer ranges with the tool's wording,
//! and the typed values of `--codec`.

import ArgumentParser
import StrataPersistence

/// Throws a usage error naming `option` when `value` is outside `range`.
func checkRange(_ value: Int?, _ option: String, in range: ClosedRange<Int>) throws {
    guard let value, !range.contains(value) else { return }
    throw ValidationError("\(option) takes an integer in \(range.lowerBound)...\(range.upperBound), not \(value)")
}

extension CompressionCodec: ExpressibleByArgument {}
