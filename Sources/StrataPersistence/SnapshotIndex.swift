//! The index at the end of a compressed snapshot: where each chunk is, how many keys of
//! each type every database holds, and who wrote the file when. It lets a tool say what a
//! file holds without decompressing it, and a salvaging reader find the chunk after a
//! damaged one. Stored as JSON in a frame standard decompressors skip (see
//! `docs/FORMAT.md`).

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// What a snapshot holds and where its chunks are.
public struct SnapshotIndex: Codable, Equatable, Sendable {
    /// One chunk: a compressed frame holding whole RDB records.
    public struct Chunk: Codable, Equatable, Sendable {
        /// Offset of the frame in the file.
        public var fileOffset: Int
        /// Bytes of the frame in the file.
        public var fileBytes: Int
        /// Offset of the chunk's first byte in the RDB stream.
        public var rdbOffset: Int
        /// Bytes of RDB stream in the chunk.
        public var rdbBytes: Int
        /// Keys whose records are in this chunk.
        public var keys: Int
    }

    /// Always `strata-snapshot`.
    public var format = "strata-snapshot"
    /// Version of this layout (see `docs/FORMAT.md`).
    public var version = 1
    /// The program that wrote the file, e.g. `strata 0.1.0`.
    public var writer: String
    /// When the snapshot was taken, Unix ms.
    public var created: Int64
    /// The codec of the chunks.
    public var codec: String
    /// The RDB version of the record stream.
    public var rdbVersion: Int
    /// Total bytes of the RDB stream.
    public var rdbBytes: Int
    /// The chunks, in file order.
    public var chunks: [Chunk]
    /// Keys per database (decimal index) and type name (`string`, `list`, ...).
    public var keys: [String: [String: Int]]
    /// Keys with a deadline per database.
    public var expires: [String: Int]

    /// The JSON form stored in the file.
    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? Array(encoder.encode(self))) ?? []
    }

    /// Parses the JSON form; nil when it is not a Strata index.
    public static func decode(_ bytes: [UInt8]) -> SnapshotIndex? {
        guard let index = try? JSONDecoder().decode(SnapshotIndex.self, from: Data(bytes)),
            index.format == "strata-snapshot"
        else { return nil }
        return index
    }
}
