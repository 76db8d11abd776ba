//! The length of one value's RDB serialization, for `DEBUG OBJECT`'s `serializedlength`
//! (Redis's `rdbSavedObjectLen`). Measured by encoding it as snapshots do, so the number
//! is what Strata writes: the same as Redis for strings it does not compress, and for
//! collections the length of their plain (not listpack) encoding.

import StrataEngine

/// Measures the RDB encoding of values.
public enum RDBValueLength {
    /// Bytes `value` takes in an RDB file, without its type byte and key.
    public static func of(_ value: Value) -> Int {
        var encoder = RDBEncoder()
        encoder.entry(key: Bytes(), value: value, deadline: nil)
        return encoder.bytes.count - 2  // the type byte and the empty key's length byte
    }
}
