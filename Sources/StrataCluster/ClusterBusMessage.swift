//! Redis Cluster's bus messages (protocol version 1, Redis 7.0), encoded and decoded
//! byte for byte so that Strata and redis-server nodes can share a cluster.
//!
//! Every message is a fixed 2,256-byte header (signature `RCmb`, total length, version,
//! the sender's ports, type, count, epochs, replication offset, name, slot bitmap,
//! primary's name, announced address, flags and cluster state), then a body that depends
//! on the type: gossip entries of 104 bytes (PING, PONG, MEET) optionally followed by
//! 8-byte-aligned extensions (the hostname), a node name (FAIL), a channel and a message
//! (PUBLISH, PUBLISHSHARD), a config epoch, name and bitmap (UPDATE), or nothing (failover
//! authorization, MFSTART). Integers are big-endian. Decoding checks the lengths exactly as
//! Redis's `clusterIsValidPacket` does, so a message Redis would drop is dropped here too,
//! and never reads outside the buffer.

/// The types of bus messages.
public enum ClusterMessageType: UInt16, Sendable, CaseIterable {
    case ping = 0
    case pong = 1
    case meet = 2
    case fail = 3
    case publish = 4
    case failoverAuthRequest = 5
    case failoverAuthAck = 6
    case update = 7
    case manualFailoverStart = 8
    case module = 9
    case publishShard = 10

    /// The name Redis's log lines and `CLUSTER INFO` use.
    public var name: String {
        switch self {
        case .ping: return "ping"
        case .pong: return "pong"
        case .meet: return "meet"
        case .fail: return "fail"
        case .publish: return "publish"
        case .failoverAuthRequest: return "auth-req"
        case .failoverAuthAck: return "auth-ack"
        case .update: return "update"
        case .manualFailoverStart: return "mfstart"
        case .module: return "module"
        case .publishShard: return "publishshard"
        }
    }
}

/// What one node says of another in a PING, PONG or MEET.
public struct GossipEntry: Equatable, Sendable {
    public var name: String
    /// When the sender last pinged it, in seconds (0: no ping pending).
    public var pingSent: UInt32
    /// When the sender last heard a PONG from it, in seconds.
    public var pongReceived: UInt32
    public var ip: String
    public var port: UInt16
    public var busPort: UInt16
    public var flags: ClusterNodeFlags
    /// The plaintext port when `port` is a TLS port.
    public var plaintextPort: UInt16

    public init(
        name: String, pingSent: UInt32, pongReceived: UInt32, ip: String, port: UInt16, busPort: UInt16,
        flags: ClusterNodeFlags, plaintextPort: UInt16
    ) {
        (self.name, self.pingSent, self.pongReceived, self.ip) = (name, pingSent, pongReceived, ip)
        (self.port, self.busPort, self.flags, self.plaintextPort) = (port, busPort, flags, plaintextPort)
    }
}

/// A decoded bus message.
public struct ClusterBusMessage: Equatable, Sendable {
    /// The body of a message, by type.
    public enum Body: Equatable, Sendable {
        /// PING, PONG, MEET: gossip about other nodes and the sender's announced hostname
        /// (nil when it sent none). Extensions of other types are skipped.
        case gossip([GossipEntry], hostname: String?)
        /// FAIL: the node the sender marked as failing.
        case fail(node: String)
        /// PUBLISH, PUBLISHSHARD.
        case publish(channel: [UInt8], message: [UInt8])
        /// UPDATE: a node's slots at a config epoch.
        case update(configEpoch: UInt64, node: String, slots: SlotBitmap)
        /// MODULE messages (no modules here: ignored).
        case module
        /// FAILOVER_AUTH_REQUEST, FAILOVER_AUTH_ACK, MFSTART.
        case empty
    }

    public var type: ClusterMessageType
    /// The sender's client port (its TLS port when it serves TLS).
    public var port: UInt16
    public var currentEpoch: UInt64
    /// The sender's config epoch, or its primary's when it is a replica.
    public var configEpoch: UInt64
    /// The sender's replication offset.
    public var replicationOffset: UInt64
    public var sender: String
    /// The slots the sender (or its primary) serves.
    public var slots: SlotBitmap
    /// The sender's primary; nil for a primary.
    public var primary: String?
    /// The sender's announced IP; empty when it announces none (the peer's address is used).
    public var ip: String
    public var plaintextPort: UInt16
    public var busPort: UInt16
    public var flags: ClusterNodeFlags
    /// The cluster's state as the sender sees it (0: ok, 1: fail).
    public var clusterState: UInt8
    /// `mflags[0]`: paused (1), force ack (2), extension data (4).
    public var messageFlags: UInt8
    public var body: Body

    public init(
        type: ClusterMessageType, port: UInt16, currentEpoch: UInt64, configEpoch: UInt64, replicationOffset: UInt64,
        sender: String, slots: SlotBitmap, primary: String?, ip: String, plaintextPort: UInt16, busPort: UInt16,
        flags: ClusterNodeFlags, clusterState: UInt8, messageFlags: UInt8, body: Body
    ) {
        (self.type, self.port, self.currentEpoch, self.configEpoch) = (type, port, currentEpoch, configEpoch)
        (self.replicationOffset, self.sender, self.slots, self.primary) = (replicationOffset, sender, slots, primary)
        (self.ip, self.plaintextPort, self.busPort, self.flags) = (ip, plaintextPort, busPort, flags)
        (self.clusterState, self.messageFlags, self.body) = (clusterState, messageFlags, body)
    }

    /// The header's size: the smallest message.
    public static let headerSize = 2256
    /// The size of one gossip entry.
    public static let gossipSize = 104
    /// The length of node names.
    public static let nameLength = 40
    static let ipLength = 46
    /// `mflags[0]` bit: the message carries extensions.
    public static let extensionDataFlag: UInt8 = 4
    /// `mflags[0]` bit: the receiver should answer at once (a manual failover).
    public static let forceAckFlag: UInt8 = 2
    /// `mflags[0]` bit: the sender's clients are paused (a manual failover).
    public static let pausedFlag: UInt8 = 1
    static let hostnameExtension: UInt16 = 0

    /// Why a message was refused.
    public enum DecodeError: Error, Equatable, CustomStringConvertible {
        /// Not `RCmb`, or shorter than a header: the link cannot be trusted any more.
        case badSignatureOrLength
        /// A version other than 1: Redis ignores such messages.
        case unsupportedVersion(UInt16)
        /// A type this protocol version does not define: ignored.
        case unknownType(UInt16)
        /// The total length does not match what the type and counts announce.
        case lengthMismatch(type: String, length: Int, expected: Int)
        /// An extension whose length is not a multiple of 8 or runs past the message.
        case badExtension

        public var description: String {
            switch self {
            case .badSignatureOrLength: return "Bad message length or signature received from Cluster bus."
            case .unsupportedVersion(let v): return "Received a cluster bus message of unsupported version \(v)"
            case .unknownType(let t): return "Received a cluster bus message of unknown type \(t)"
            case .lengthMismatch(let type, let length, let expected):
                return "Received invalid \(type) packet of length \(length) but expected length \(expected)"
            case .badExtension: return "Received a cluster bus message with a malformed extension"
            }
        }
    }

    /// The total length a frame announces, from its first 8 bytes; an error when the
    /// signature is wrong or the length is below a header or above `limit`.
    public static func frameLength(_ prefix: UnsafeRawBufferPointer, limit: Int) -> Result<Int, DecodeError> {
        guard prefix.count >= 8, prefix[0] == 0x52, prefix[1] == 0x43, prefix[2] == 0x6D, prefix[3] == 0x62 else {
            return .failure(.badSignatureOrLength)
        }
        let length = Int(BusReader(prefix).u32(at: 4))
        guard length >= headerSize, length <= limit else { return .failure(.badSignatureOrLength) }
        return .success(length)
    }

    /// Decodes one whole frame (as long as its announced length).
    public static func decode(_ frame: UnsafeRawBufferPointer) -> Result<ClusterBusMessage, DecodeError> {
        guard case .success(let length) = frameLength(frame, limit: Int(UInt32.max)), length == frame.count else {
            return .failure(.badSignatureOrLength)
        }
        let r = BusReader(frame)
        let version = r.u16(at: 8)
        guard version == 1 else { return .failure(.unsupportedVersion(version)) }
        let rawType = r.u16(at: 12)
        guard let type = ClusterMessageType(rawValue: rawType) else { return .failure(.unknownType(rawType)) }
        let count = Int(r.u16(at: 14))
        let flags0 = r.u8(at: 2253)
        let body: Body
        switch expectedBody(type, r: r, count: count, flags0: flags0, length: length) {
        case .failure(let error): return .failure(error)
        case .success(let decoded): body = decoded
        }
        let primaryName = r.name(at: 2128)
        return .success(
            ClusterBusMessage(
                type: type, port: r.u16(at: 10), currentEpoch: r.u64(at: 16), configEpoch: r.u64(at: 24),
                replicationOffset: r.u64(at: 32), sender: r.name(at: 40),
                slots: SlotBitmap(busBytes: UnsafeRawBufferPointer(rebasing: frame[80..<2128])),
                primary: primaryName.isEmpty ? nil : primaryName, ip: r.cString(at: 2168, length: ipLength),
                plaintextPort: r.u16(at: 2246), busPort: r.u16(at: 2248),
                flags: ClusterNodeFlags(rawValue: r.u16(at: 2250)), clusterState: r.u8(at: 2252),
                messageFlags: flags0, body: body))
    }

    /// The body of a message of `type`, after checking the length as Redis does.
    private static func expectedBody(
        _ type: ClusterMessageType, r: BusReader, count: Int, flags0: UInt8, length: Int
    ) -> Result<Body, DecodeError> {
        let mismatch = { (expected: Int) in
            Result<Body, DecodeError>.failure(.lengthMismatch(type: type.name, length: length, expected: expected))
        }
        switch type {
        case .ping, .pong, .meet:
            var expected = headerSize + gossipSize * count
            guard expected <= length else { return mismatch(expected) }
            var hostname: String?
            if flags0 & extensionDataFlag != 0 {
                var remaining = Int(r.u16(at: 2214))
                while remaining > 0 {
                    remaining -= 1
                    guard length - expected >= 8 else { return .failure(.badExtension) }
                    let extLength = Int(r.u32(at: expected))
                    let extType = r.u16(at: expected + 4)
                    guard extLength % 8 == 0, extLength >= 8, length - expected >= extLength else {
                        return .failure(.badExtension)
                    }
                    if extType == hostnameExtension {
                        hostname = r.cString(at: expected + 8, length: extLength - 8)
                    }
                    expected += extLength
                }
            }
            guard expected == length else { return mismatch(expected) }
            let entries = (0..<count).map { i in
                let at = headerSize + i * gossipSize
                return GossipEntry(
                    name: r.name(at: at), pingSent: r.u32(at: at + 40), pongReceived: r.u32(at: at + 44),
                    ip: r.cString(at: at + 48, length: ipLength), port: r.u16(at: at + 94),
                    busPort: r.u16(at: at + 96), flags: ClusterNodeFlags(rawValue: r.u16(at: at + 98)),
                    plaintextPort: r.u16(at: at + 100))
            }
            return .success(.gossip(entries, hostname: hostname))
        case .fail:
            guard length == headerSize + nameLength else { return mismatch(headerSize + nameLength) }
            return .success(.fail(node: r.name(at: headerSize)))
        case .publish, .publishShard:
            guard length >= headerSize + 8 else { return mismatch(headerSize + 8) }
            let channelLength = Int(r.u32(at: headerSize))
            let messageLength = Int(r.u32(at: headerSize + 4))
            let expected = headerSize + 8 + channelLength + messageLength
            guard expected == length else { return mismatch(expected) }
            let channelStart = headerSize + 8
            return .success(
                .publish(
                    channel: r.bytes(channelStart..<(channelStart + channelLength)),
                    message: r.bytes((channelStart + channelLength)..<length)))
        case .update:
            let expected = headerSize + 8 + nameLength + SlotBitmap.byteCount
            guard length == expected else { return mismatch(expected) }
            let bitmapStart = headerSize + 8 + nameLength
            return .success(
                .update(
                    configEpoch: r.u64(at: headerSize), node: r.name(at: headerSize + 8),
                    slots: SlotBitmap(
                        busBytes: UnsafeRawBufferPointer(
                            rebasing: r.raw[bitmapStart..<(bitmapStart + SlotBitmap.byteCount)]))))
        case .module:
            guard length >= headerSize + 13 else { return mismatch(headerSize + 13) }
            let expected = headerSize + 13 + Int(r.u32(at: headerSize + 8))
            guard expected == length else { return mismatch(expected) }
            return .success(.module)
        case .failoverAuthRequest, .failoverAuthAck, .manualFailoverStart:
            guard length == headerSize else { return mismatch(headerSize) }
            return .success(.empty)
        }
    }

    /// The message as bytes on the bus.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(ClusterBusMessage.headerSize + 256)
        out.append(contentsOf: Array("RCmb".utf8))
        out.appendBig(UInt32(0))  // total length, set below
        out.appendBig(UInt16(1))
        out.appendBig(port)
        out.appendBig(type.rawValue)
        var count = 0
        if case .gossip(let entries, _) = body { count = entries.count }
        out.appendBig(UInt16(truncatingIfNeeded: count))
        out.appendBig(currentEpoch)
        out.appendBig(configEpoch)
        out.appendBig(replicationOffset)
        out.appendPadded(sender, ClusterBusMessage.nameLength)
        slots.appendBusBytes(to: &out)
        out.appendPadded(primary ?? "", ClusterBusMessage.nameLength)
        out.appendPadded(ip, ClusterBusMessage.ipLength)
        var extensions: [[UInt8]] = []
        if case .gossip(_, let hostname?) = body, !hostname.isEmpty {
            var ext: [UInt8] = []
            let padded = (hostname.utf8.count + 1 + 7) / 8 * 8
            ext.appendBig(UInt32(8 + padded))
            ext.appendBig(ClusterBusMessage.hostnameExtension)
            ext.appendBig(UInt16(0))
            ext.appendPadded(hostname, padded)
            extensions.append(ext)
        }
        out.appendBig(UInt16(extensions.count))
        out.append(contentsOf: repeatElement(0, count: 30))
        out.appendBig(plaintextPort)
        out.appendBig(busPort)
        out.appendBig(flags.rawValue)
        out.append(clusterState)
        let flags0 = extensions.isEmpty ? messageFlags & ~Self.extensionDataFlag : messageFlags | Self.extensionDataFlag
        out.append(contentsOf: [flags0, 0, 0])
        switch body {
        case .gossip(let entries, _):
            for entry in entries {
                out.appendPadded(entry.name, ClusterBusMessage.nameLength)
                out.appendBig(entry.pingSent)
                out.appendBig(entry.pongReceived)
                out.appendPadded(entry.ip, ClusterBusMessage.ipLength)
                out.appendBig(entry.port)
                out.appendBig(entry.busPort)
                out.appendBig(entry.flags.rawValue)
                out.appendBig(entry.plaintextPort)
                out.appendBig(UInt16(0))
            }
            for ext in extensions { out.append(contentsOf: ext) }
        case .fail(let node):
            out.appendPadded(node, ClusterBusMessage.nameLength)
        case .publish(let channel, let message):
            out.appendBig(UInt32(truncatingIfNeeded: channel.count))
            out.appendBig(UInt32(truncatingIfNeeded: message.count))
            out.append(contentsOf: channel)
            out.append(contentsOf: message)
        case .update(let epoch, let node, let slots):
            out.appendBig(epoch)
            out.appendPadded(node, ClusterBusMessage.nameLength)
            slots.appendBusBytes(to: &out)
        case .module, .empty:
            break
        }
        let total = UInt32(truncatingIfNeeded: out.count)
        for i in 0..<4 { out[4 + i] = UInt8(truncatingIfNeeded: total >> (8 * UInt32(3 - i))) }
        return out
    }
}

/// Big-endian reads at offsets the caller has checked against the buffer's length.
struct BusReader {
    let raw: UnsafeRawBufferPointer
    init(_ raw: UnsafeRawBufferPointer) { self.raw = raw }

    func u8(at i: Int) -> UInt8 { raw[i] }
    func u16(at i: Int) -> UInt16 { UInt16(raw[i]) << 8 | UInt16(raw[i + 1]) }
    func u32(at i: Int) -> UInt32 { UInt32(u16(at: i)) << 16 | UInt32(u16(at: i + 2)) }
    func u64(at i: Int) -> UInt64 { UInt64(u32(at: i)) << 32 | UInt64(u32(at: i + 4)) }
    func bytes(_ range: Range<Int>) -> [UInt8] { Array(raw[range]) }

    /// A NUL-terminated (or field-long) string of at most `length` bytes.
    func cString(at i: Int, length: Int) -> String {
        let field = raw[i..<(i + length)]
        let end = field.firstIndex(of: 0) ?? field.endIndex
        return String(decoding: raw[i..<end], as: UTF8.self)
    }

    /// A 40-byte node name; empty when it is all zeros (no node).
    func name(at i: Int) -> String { cString(at: i, length: ClusterBusMessage.nameLength) }
}

extension [UInt8] {
    mutating func appendBig<T: FixedWidthInteger>(_ value: T) {
        let size = MemoryLayout<T>.size
        for i in 0..<size { append(UInt8(truncatingIfNeeded: value >> (8 * (size - 1 - i)))) }
    }

    /// `string`'s bytes cut or zero-padded to `length`.
    mutating func appendPadded(_ string: String, _ length: Int) {
        let bytes = Array(string.utf8.prefix(length))
        append(contentsOf: bytes)
        append(contentsOf: repeatElement(0, count: length - bytes.count))
    }
}
