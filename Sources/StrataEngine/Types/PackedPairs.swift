//! The compact encoding of small hashes, in the spirit of Redis's listpack: every field and
//! value, in insertion order, packed into one byte array as a LEB128 length followed by
//! the bytes. Ten short fields cost about 200 bytes in one allocation, where an array of
//! `Bytes` pairs would cost 48 bytes a field plus growth slack. Lookups scan linearly,
//! which is what the encoding is for: at most `hash-max-listpack-entries` short entries.
//! The array is kept at its exact size (no doubling slack). A value type: copies share
//! the array until one of them writes.

/// Field/value pairs packed into one byte array.
@usableFromInline
struct PackedPairs: Sendable, Equatable {
    private var bytes: [UInt8] = []
    /// Number of pairs.
    private(set) var count = 0

    /// No pairs.
    init() {}

    /// Where one pair lies in `bytes`.
    private struct Slot {
        var start: Int
        var valueStart: Int
        var valueCount: Int
        var end: Int
    }

    /// Reads a length at `offset`; returns it and the offset after it.
    private static func readLength(_ bytes: UnsafeBufferPointer<UInt8>, _ offset: Int) -> (Int, Int) {
        var value = 0
        var shift = 0
        var index = offset
        while index < bytes.count {
            let byte = bytes[index]
            value |= Int(byte & 0x7F) << shift
            index += 1
            if byte & 0x80 == 0 { break }
            shift += 7
        }
        return (value, index)
    }

    private static func appendLength(_ length: Int, to out: inout [UInt8]) {
        var rest = length
        while rest >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        out.append(UInt8(rest))
    }

    /// Visits every pair in order as raw byte ranges until `body` returns false.
    private func walk(_ body: (_ slot: Slot, _ field: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Bool)
    {
        bytes.withUnsafeBufferPointer { buffer in
            let raw = UnsafeRawBufferPointer(buffer)
            var offset = 0
            while offset < buffer.count {
                let (fieldCount, fieldStart) = Self.readLength(buffer, offset)
                let (valueCount, valueStart) = Self.readLength(buffer, fieldStart + fieldCount)
                let end = valueStart + valueCount
                let slot = Slot(start: offset, valueStart: valueStart, valueCount: valueCount, end: end)
                let field = UnsafeRawBufferPointer(rebasing: raw[fieldStart..<(fieldStart + fieldCount)])
                let value = UnsafeRawBufferPointer(rebasing: raw[valueStart..<end])
                if !body(slot, field, value) { return }
                offset = end
            }
        }
    }

    /// The slot of `field` and its value.
    private func find(_ field: Bytes) -> (slot: Slot, value: Bytes)? {
        var found: (Slot, Bytes)?
        field.withUnsafeBytes { wanted in
            walk { slot, candidate, value in
                guard candidate.count == wanted.count, candidate.elementsEqual(wanted) else { return true }
                found = (slot, Bytes(value))
                return false
            }
        }
        return found
    }

    /// The value of `field`.
    func get(_ field: Bytes) -> Bytes? {
        find(field)?.value
    }

    /// Sets `field` to `value`.
    ///
    /// - Returns: true when the field is new.
    mutating func set(_ field: Bytes, _ value: Bytes) -> Bool {
        var encodedValue: [UInt8] = []
        encodedValue.reserveCapacity(value.count + 5)
        Self.appendLength(value.count, to: &encodedValue)
        value.withUnsafeBytes { encodedValue.append(contentsOf: $0) }
        if let (slot, _) = find(field) {
            var replaced: [UInt8] = []
            replaced.reserveCapacity(bytes.count - (slot.end - slot.valueStart) + encodedValue.count)
            let valueLengthStart = slot.valueStart - Self.lengthSize(slot.valueCount)
            replaced.append(contentsOf: bytes[..<valueLengthStart])
            replaced.append(contentsOf: encodedValue)
            replaced.append(contentsOf: bytes[slot.end...])
            bytes = replaced
            return false
        }
        var grown: [UInt8] = []
        grown.reserveCapacity(bytes.count + field.count + 5 + encodedValue.count)
        grown.append(contentsOf: bytes)
        Self.appendLength(field.count, to: &grown)
        field.withUnsafeBytes { grown.append(contentsOf: $0) }
        grown.append(contentsOf: encodedValue)
        bytes = grown
        count += 1
        return true
    }

    /// Removes `field`.
    ///
    /// - Returns: whether it was present.
    mutating func remove(_ field: Bytes) -> Bool {
        guard let (slot, _) = find(field) else { return false }
        var shrunk: [UInt8] = []
        shrunk.reserveCapacity(bytes.count - (slot.end - slot.start))
        shrunk.append(contentsOf: bytes[..<slot.start])
        shrunk.append(contentsOf: bytes[slot.end...])
        bytes = shrunk
        count -= 1
        return true
    }

    /// Every pair, in insertion order.
    var entries: [HashEntry] {
        var out: [HashEntry] = []
        out.reserveCapacity(count)
        walk { _, field, value in
            out.append(HashEntry(field: Bytes(field), value: Bytes(value)))
            return true
        }
        return out
    }

    /// Bytes the packed form occupies (for MEMORY USAGE).
    var byteCount: Int { bytes.count }

    private static func lengthSize(_ length: Int) -> Int {
        var size = 1
        var rest = length
        while rest >= 0x80 {
            rest >>= 7
            size += 1
        }
        return size
    }
}
