//! Compression codecs for snapshot chunks: LZ4 frames (with block and content checksums)
//! through the system liblz4, and gzip members through the system zlib. Each function
//! compresses or decompresses one whole buffer; the snapshot writer cuts its stream into
//! chunks of a few hundred KiB and frames each one independently.

import CLZ4
import CZlib

/// A compression failure, naming the codec and what the library reported.
public struct CompressionError: Error, Equatable, CustomStringConvertible {
    /// The codec (`lz4` or `zlib`).
    public let codec: String
    /// What went wrong.
    public let reason: String

    public var description: String { "\(codec): \(reason)" }
}

/// The codecs a snapshot can use.
public enum CompressionCodec: String, Sendable, CaseIterable {
    case lz4
    case zlib
    case none

    /// Compresses `input` into one self-contained frame (LZ4 frame or gzip member).
    public func compress(_ input: [UInt8]) throws -> [UInt8] {
        switch self {
        case .none: return input
        case .lz4: return try LZ4Frame.compress(input)
        case .zlib: return try GzipMember.compress(input)
        }
    }

    /// Decompresses one frame produced by ``compress(_:)`` (or by the standard tools).
    ///
    /// - Parameter limit: the largest output accepted, so a damaged header cannot make us
    ///   allocate without bound.
    public func decompress(_ input: [UInt8], limit: Int = 1 << 30) throws -> [UInt8] {
        switch self {
        case .none: return input
        case .lz4: return try LZ4Frame.decompress(input, limit: limit)
        case .zlib: return try GzipMember.decompress(input, limit: limit)
        }
    }
}

/// LZ4 frame format with block and content checksums.
enum LZ4Frame {
    static func compress(_ input: [UInt8]) throws -> [UInt8] {
        var preferences = LZ4F_preferences_t()
        preferences.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled
        preferences.frameInfo.blockChecksumFlag = LZ4F_blockChecksumEnabled
        preferences.frameInfo.contentSize = UInt64(input.count)
        let bound = LZ4F_compressFrameBound(input.count, &preferences)
        var output = [UInt8](repeating: 0, count: bound)
        let written = output.withUnsafeMutableBytes { out in
            input.withUnsafeBytes { inp in
                LZ4F_compressFrame(out.baseAddress, out.count, inp.baseAddress, inp.count, &preferences)
            }
        }
        if LZ4F_isError(written) != 0 {
            throw CompressionError(codec: "lz4", reason: String(cString: LZ4F_getErrorName(written)))
        }
        output.removeSubrange(written...)
        return output
    }

    static func decompress(_ input: [UInt8], limit: Int) throws -> [UInt8] {
        var context: OpaquePointer?
        let created = LZ4F_createDecompressionContext(&context, UInt32(LZ4F_VERSION))
        guard LZ4F_isError(created) == 0, let context else {
            throw CompressionError(codec: "lz4", reason: "cannot create a decompression context")
        }
        defer { LZ4F_freeDecompressionContext(context) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var offset = 0
        while true {
            var sourceSize = input.count - offset
            var destinationSize = chunk.count
            let hint = chunk.withUnsafeMutableBytes { out in
                input.withUnsafeBytes { inp in
                    LZ4F_decompress(
                        context, out.baseAddress, &destinationSize, inp.baseAddress.map { $0 + offset }, &sourceSize,
                        nil)
                }
            }
            if LZ4F_isError(hint) != 0 {
                throw CompressionError(codec: "lz4", reason: String(cString: LZ4F_getErrorName(hint)))
            }
            offset += sourceSize
            output.append(contentsOf: chunk[0..<destinationSize])
            if output.count > limit { throw CompressionError(codec: "lz4", reason: "output exceeds \(limit) bytes") }
            if hint == 0 { return output }
            if sourceSize == 0 && destinationSize == 0 && offset >= input.count {
                throw CompressionError(codec: "lz4", reason: "truncated frame")
            }
        }
    }
}

/// gzip members through zlib (`windowBits` 15 + 16).
enum GzipMember {
    static func compress(_ input: [UInt8]) throws -> [UInt8] {
        var stream = z_stream()
        var status = deflateInit2_(
            &stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
            Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw CompressionError(codec: "zlib", reason: "deflateInit2 failed (\(status))") }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(input.count))) + 32
        var output = [UInt8](repeating: 0, count: bound)
        var mutableInput = input
        status = mutableInput.withUnsafeMutableBufferPointer { inp in
            output.withUnsafeMutableBufferPointer { out in
                stream.next_in = inp.baseAddress
                stream.avail_in = uInt(inp.count)
                stream.next_out = out.baseAddress
                stream.avail_out = uInt(out.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else {
            throw CompressionError(codec: "zlib", reason: "deflate failed (\(status))")
        }
        output.removeSubrange(Int(stream.total_out)...)
        return output
    }

    static func decompress(_ input: [UInt8], limit: Int) throws -> [UInt8] {
        var stream = z_stream()
        var status = inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw CompressionError(codec: "zlib", reason: "inflateInit2 failed (\(status))") }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var mutableInput = input
        try mutableInput.withUnsafeMutableBufferPointer { inp in
            stream.next_in = inp.baseAddress
            stream.avail_in = uInt(inp.count)
            repeat {
                let produced = chunk.withUnsafeMutableBufferPointer { out -> Int in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(out.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    return out.count - Int(stream.avail_out)
                }
                guard status == Z_OK || status == Z_STREAM_END else {
                    throw CompressionError(
                        codec: "zlib", reason: status == Z_BUF_ERROR ? "truncated member" : "corrupt data (\(status))")
                }
                output.append(contentsOf: chunk[0..<produced])
                if output.count > limit {
                    throw CompressionError(codec: "zlib", reason: "output exceeds \(limit) bytes")
                }
                if status == Z_OK && stream.avail_in == 0 && produced == 0 {
                    throw CompressionError(codec: "zlib", reason: "truncated member")
                }
            } while status != Z_STREAM_END
        }
        return output
    }
}
