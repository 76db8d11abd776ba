//! LZF decompression (liblzf's format), for the compressed strings Redis writes with
//! `rdbcompression yes`. Every back reference and literal run is bounds-checked, so a
//! damaged string is an error, never a read outside the buffers.

enum LZF {
    /// Decompresses `input` into exactly `expected` bytes; nil when the data is damaged.
    static func decompress(_ input: UnsafeRawBufferPointer, expected: Int) -> [UInt8]? {
        var output = [UInt8](repeating: 0, count: expected)
        var ip = 0
        var op = 0
        let ok = output.withUnsafeMutableBufferPointer { out -> Bool in
            while ip < input.count {
                let control = Int(input[ip])
                ip += 1
                if control < 32 {
                    let run = control + 1
                    guard ip + run <= input.count, op + run <= expected else { return false }
                    for k in 0..<run { out[op + k] = input[ip + k] }
                    ip += run
                    op += run
                } else {
                    var length = control >> 5
                    if length == 7 {
                        guard ip < input.count else { return false }
                        length += Int(input[ip])
                        ip += 1
                    }
                    guard ip < input.count else { return false }
                    let reference = op - ((control & 0x1F) << 8) - 1 - Int(input[ip])
                    ip += 1
                    length += 2
                    guard reference >= 0, op + length <= expected else { return false }
                    for k in 0..<length { out[op + k] = out[reference + k] }  // may overlap: byte by byte
                    op += length
                }
            }
            return op == expected
        }
        return ok ? output : nil
    }
}
