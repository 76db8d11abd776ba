/// Parsing of expire arguments shared by SET, GETEX, SETEX, PSETEX and the EXPIRE family,
/// with Redis 7's validation order and errors.
enum ExpireUnit {
    case seconds, milliseconds
}

/// An expire argument: its unit and whether it is absolute (`EXAT`, `PXAT`).
struct ExpireSpec {
    var unit: ExpireUnit
    var absolute: Bool
    var argumentIndex: Int
}

extension CommandContext {
    /// Converts the expire argument at `spec.argumentIndex` to an absolute Unix-ms deadline.
    ///
    /// - Returns: the deadline, or the error reply Redis sends (not an integer; not
    ///   positive; overflow).
    func deadline(from spec: ExpireSpec) -> Result<Int64, Reply> {
        guard let raw = args[spec.argumentIndex].strictInteger else { return .failure(Errors.notInteger) }
        var value = Int64(raw)
        if value <= 0 || (spec.unit == .seconds && value > Int64.max / 1000) {
            return .failure(Errors.invalidExpireTime(commandName))
        }
        if spec.unit == .seconds { value *= 1000 }
        if !spec.absolute {
            let (sum, overflow) = value.addingReportingOverflow(now)
            if overflow { return .failure(Errors.invalidExpireTime(commandName)) }
            value = sum
        }
        return .success(value)
    }
}
