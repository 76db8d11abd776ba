//! The compact encoding of small hashes, in the spirit of Redis's listpack: every field and
//! value, in insertion order, packed into one heap block as a LEB128 length followed by
//! the bytes. Lookups scan linearly, which is what the encoding is for: at most
//! `hash-max-listpack-entries` short entries.
//!
//! The block is a ``ByteStorage`` (a 16-byte object header, then the bytes) of exactly the
//! packed size, and its byte count lives beside the reference, not in the block: ten short
//! fields of about 190 packed bytes take a 208-byte allocation, where an array (a 32-byte
//! header, and a capacity rounded up by every growth) took 224 or 256. A write builds the
//! new block at its exact size in one pass, except a value replaced by one of the same
//! encoded size in a block no copy shares, which is overwritten in place. A value type:
//! copies share the block until one of them writes.

/// Field/value pairs packed into one exactly-sized byte block.
@usableFromInline
struct PackedPairs: @unchecked Sendable {
    /// The packed bytes; nil while there is no pair.
    private var block: ByteStorage?
    /// Bytes used in `block` (at most ``maximumByteCount``).
    private var used: UInt32 = 0
    /// Number of pairs.
    private var pairCount: UInt32 = 0

    /// The largest packed form, as Redis bounds a listpack: ``set(_:_:)`` refuses a write
    /// that would grow past it, and the hash converts to the table encoding.
    static let maximumByteCount = 1 << 30

    /// No pairs.
    init() {}

    /// Number of pairs.
    var count: Int { Int(pairCount) }

    /// Bytes the packed form occupies (for MEMORY USAGE).
    var byteCount: Int { Int(used) }

    /// Bytes the block could hold: its allocation less the object header.
    var blockCapacity: Int { block?.capacity ?? 0 }

    /// Where the packed bytes start in the block (the object header's size); nil without
    /// a block.
    var blockHeaderBytes: Int? {
        guard let block else { return nil }
        let object = UnsafeRawPointer(Unmanaged.passUnretained(block).toOpaque())
        return block.withUnsafeMutablePointerToElements { UnsafeRawPointer($0) - object }
    }

    /// Where one pair lies in the block.
    private struct Slot {
        var start: Int
        var valueLengthStart: Int
        var valueStart: Int
        var end: Int
    }

    /// Reads a length at `offset`; returns it and the offset after it.
    private static func readLength(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> (Int, Int) {
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

    /// Writes `length` at `pointer`; returns the pointer after it.
    private static func writeLength(_ length: Int, at pointer: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<
        UInt8
    > {
        var rest = length
        var cursor = pointer
        while rest >= 0x80 {
            cursor.pointee = UInt8(truncatingIfNeeded: rest) | 0x80
            cursor += 1
            rest >>= 7
        }
        cursor.pointee = UInt8(rest)
        return cursor + 1
    }

    /// Writes `bytes` at `pointer`; returns the pointer after them.
    private static func write(_ bytes: Bytes, at pointer: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
        bytes.withUnsafeBytes { raw in
            if let base = raw.baseAddress, raw.count > 0 {
                UnsafeMutableRawPointer(pointer).copyMemory(from: base, byteCount: raw.count)
            }
        }
        return pointer + bytes.count
    }

    private static func lengthSize(_ length: Int) -> Int {
        var size = 1
        var rest = length
        while rest >= 0x80 {
            rest >>= 7
            size += 1
        }
        return size
    }

    /// Calls `body` with the packed bytes (empty without a block).
    private func withPacked<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        guard let block else { return body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        return block.withBytes(count: Int(used), body)
    }

    /// Visits every pair in order as raw byte ranges until `body` returns false.
    private func walk(_ body: (_ slot: Slot, _ field: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Bool)
    {
        withPacked { raw in
            var offset = 0
            while offset < raw.count {
                let (fieldCount, fieldStart) = Self.readLength(raw, offset)
                let valueLengthStart = fieldStart + fieldCount
                let (valueCount, valueStart) = Self.readLength(raw, valueLengthStart)
                let end = valueStart + valueCount
                let slot = Slot(start: offset, valueLengthStart: valueLengthStart, valueStart: valueStart, end: end)
                let field = UnsafeRawBufferPointer(rebasing: raw[fieldStart..<valueLengthStart])
                let value = UnsafeRawBufferPointer(rebasing: raw[valueStart..<end])
                if !body(slot, field, value) { return }
                offset = end
            }
        }
    }

    /// The slot of `field`.
    private func find(_ field: Bytes) -> Slot? {
        var found: Slot?
        field.withUnsafeBytes { wanted in
            walk { slot, candidate, _ in
                guard candidate.count == wanted.count, candidate.elementsEqual(wanted) else { return true }
                found = slot
                return false
            }
        }
        return found
    }

    /// The value of `field`.
    func get(_ field: Bytes) -> Bytes? {
        guard let slot = find(field) else { return nil }
        return withPacked { Bytes(UnsafeRawBufferPointer(rebasing: $0[slot.valueStart..<slot.end])) }
    }

    /// A new block of `size` bytes: the old bytes before `keep` (in old offsets),
    /// then whatever `middle` writes, then the old bytes from `resume` on.
    private func rebuilt(
        size: Int, keep: Int, resume: Int, _ middle: (UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8>
    ) -> ByteStorage? {
        guard size > 0 else { return nil }
        let fresh = unsafeDowncast(ByteStorage.create(minimumCapacity: size) { _ in () }, to: ByteStorage.self)
        fresh.withUnsafeMutablePointerToElements { target in
            withPacked { old in
                if let base = old.baseAddress, keep > 0 {
                    UnsafeMutableRawPointer(target).copyMemory(from: base, byteCount: keep)
                }
                let cursor = middle(target + keep)
                if let base = old.baseAddress, resume < old.count {
                    UnsafeMutableRawPointer(cursor).copyMemory(from: base + resume, byteCount: old.count - resume)
                }
            }
        }
        return fresh
    }

    /// Sets `field` to `value`, unless the packed form would pass ``maximumByteCount``.
    ///
    /// - Returns: true when the field is new, false when it was replaced, nil (and nothing
    ///   changed) when it would not fit.
    mutating func set(_ field: Bytes, _ value: Bytes) -> Bool? {
        // Each length is at most the maximum, so no sum below can overflow.
        guard field.count <= Self.maximumByteCount, value.count <= Self.maximumByteCount else { return nil }
        let encodedValueSize = Self.lengthSize(value.count) + value.count
        if let slot = find(field) {
            let oldValueSize = slot.end - slot.valueLengthStart
            if oldValueSize == encodedValueSize, isKnownUniquelyReferenced(&block), let block {
                block.withUnsafeMutablePointerToElements { base in
                    _ = Self.write(value, at: Self.writeLength(value.count, at: base + slot.valueLengthStart))
                }
                return false
            }
            let size = Int(used) - oldValueSize + encodedValueSize
            guard size <= Self.maximumByteCount else { return nil }
            block = rebuilt(size: size, keep: slot.valueLengthStart, resume: slot.end) {
                Self.write(value, at: Self.writeLength(value.count, at: $0))
            }
            used = UInt32(truncatingIfNeeded: size)
            return false
        }
        let size = Int(used) + Self.lengthSize(field.count) + field.count + encodedValueSize
        guard size <= Self.maximumByteCount else { return nil }
        let end = Int(used)
        block = rebuilt(size: size, keep: end, resume: end) {
            let afterField = Self.write(field, at: Self.writeLength(field.count, at: $0))
            return Self.write(value, at: Self.writeLength(value.count, at: afterField))
        }
        used = UInt32(truncatingIfNeeded: size)
        pairCount += 1
        return true
    }

    /// Removes `field`.
    ///
    /// - Returns: whether it was present.
    mutating func remove(_ field: Bytes) -> Bool {
        guard let slot = find(field) else { return false }
        let size = Int(used) - (slot.end - slot.start)
        block = rebuilt(size: size, keep: slot.start, resume: slot.end) { $0 }
        used = UInt32(truncatingIfNeeded: size)
        pairCount -= 1
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
}

extension PackedPairs: Equatable {
    /// Equal when the same pairs are packed in the same order.
    @usableFromInline
    static func == (lhs: PackedPairs, rhs: PackedPairs) -> Bool {
        guard lhs.pairCount == rhs.pairCount, lhs.used == rhs.used else { return false }
        if lhs.block === rhs.block { return true }
        return lhs.withPacked { a in rhs.withPacked { b in a.elementsEqual(b) } }
    }
}
