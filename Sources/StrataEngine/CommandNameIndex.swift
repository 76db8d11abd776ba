//! The command table's name lookup, on the path of every command. A standard-library
//! dictionary keyed by `Bytes` hashes the name with SipHash and, to take any spelling,
//! needed a second lookup (upper case) or a lowered copy; at a million commands a second
//! that was 5% of the server's time. This index is an open-addressing table built once:
//! an FNV-1a hash of the name with ASCII letters folded to lower case, linear probing,
//! at most a quarter full. Clients choose the names they send but not the table's
//! contents, so no input can lengthen a probe beyond the longest run the table was built
//! with; an unknown name ends at the first empty slot. The names sit in one flat byte
//! array, so a probe copies no reference-counted value.

/// Case-insensitive lookup of command specs by name.
struct CommandNameIndex: Sendable {
    /// Per slot: where its lowercase name starts in ``names``, -1 when empty.
    private let starts: [Int32]
    /// Per slot: the length of its name.
    private let lengths: [UInt8]
    /// Every name, lowercase, back to back.
    private let names: [UInt8]
    /// Per slot: its spec.
    private let specs: [CommandSpec?]
    private let mask: Int

    /// An index of `specs` by their (lowercase) names.
    init<S: Sequence>(_ specs: S) where S.Element == CommandSpec {
        let all = Array(specs)
        var size = 16
        while size < all.count * 4 { size <<= 1 }
        var starts = [Int32](repeating: -1, count: size)
        var lengths = [UInt8](repeating: 0, count: size)
        var names: [UInt8] = []
        var slotSpecs = [CommandSpec?](repeating: nil, count: size)
        for spec in all {
            let name = Array(spec.name.utf8).map(Self.fold)
            var i = name.withUnsafeBytes { Self.hash($0) } & (size - 1)
            while starts[i] >= 0 { i = (i + 1) & (size - 1) }
            starts[i] = Int32(names.count)
            lengths[i] = UInt8(truncatingIfNeeded: name.count)
            names += name
            slotSpecs[i] = spec
        }
        self.starts = starts
        self.lengths = lengths
        self.names = names
        self.specs = slotSpecs
        self.mask = size - 1
    }

    /// The spec named `name` in any case, or nil.
    @inline(__always)
    func spec(named name: Bytes) -> CommandSpec? {
        guard let slot = name.withUnsafeBytes({ slot(of: $0) }) else { return nil }
        return specs[slot]
    }

    /// ``spec(named:)`` without counting a reference: the index holds every spec for as
    /// long as it exists.
    @inline(__always)
    func specReference(named name: Bytes) -> Unmanaged<CommandSpec>? {
        guard let slot = name.withUnsafeBytes({ slot(of: $0) }) else { return nil }
        return specs[slot].map { Unmanaged.passUnretained($0) }
    }

    /// The slot holding `raw`'s name, or nil.
    @inline(__always)
    private func slot(of raw: UnsafeRawBufferPointer) -> Int? {
        guard raw.count < 256 else { return nil }
        return starts.withUnsafeBufferPointer { starts in
            lengths.withUnsafeBufferPointer { lengths in
                names.withUnsafeBufferPointer { names in
                    var i = Self.hash(raw) & mask
                    while starts[i] >= 0 {
                        if Int(lengths[i]) == raw.count {
                            let start = Int(starts[i])
                            var same = true
                            for j in 0..<raw.count where Self.fold(raw[j]) != names[start + j] {
                                same = false
                                break
                            }
                            if same { return i }
                        }
                        i = (i + 1) & mask
                    }
                    return nil
                }
            }
        }
    }

    /// An ASCII letter in lower case; other bytes unchanged.
    @inline(__always)
    private static func fold(_ byte: UInt8) -> UInt8 {
        byte &- 65 < 26 ? byte | 0x20 : byte
    }

    /// FNV-1a over the folded bytes.
    @inline(__always)
    private static func hash(_ raw: UnsafeRawBufferPointer) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in raw {
            h = (h ^ UInt64(fold(byte))) &* 0x100_0000_01b3
        }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }
}
