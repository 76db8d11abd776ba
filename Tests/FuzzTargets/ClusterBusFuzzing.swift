import StrataCluster

/// The cluster bus: the input is cut into frames as a link cuts its stream (a wrong
/// signature or length ends it, as it closes a link), each frame is decoded, and what
/// decodes is fed to a node's state, as from an unknown node and as from a known one on
/// an outgoing link. What decodes must decode the same after encoding (extensions other
/// than the hostname are dropped, as Strata sends none). The state must stay consistent: every slot's
/// owner is a known node whose bitmap has the slot.
enum ClusterBusFuzzing {
    static let peer = "0123456789abcdef0123456789abcdef01234567"

    static func run(_ data: UnsafeRawBufferPointer) {
        var state = ClusterState(name: String(repeating: "a", count: 40), now: 1_000)
        state.changeSlots([0...100], delete: false)
        state.add(ClusterNode(name: peer, flags: [.primary], ip: "127.0.0.1", port: 7001, busPort: 17001, now: 1_000))
        let info = ClusterSelfInfo(
            port: 7000, plaintextPort: 0, busPort: 17000, announcedIP: "", hostname: "", replicationOffset: 0)
        var offset = 0
        var now: Int64 = 2_000
        while data.count - offset >= 8 {
            let rest = UnsafeRawBufferPointer(rebasing: data[offset...])
            guard case .success(let length) = ClusterBusMessage.frameLength(rest, limit: 1 << 20),
                length <= rest.count
            else { return }
            let frame = UnsafeRawBufferPointer(rebasing: rest[0..<length])
            offset += length
            guard case .success(let message) = ClusterBusMessage.decode(frame) else { continue }
            if message.type != .module {
                var expected = message
                if case .gossip(let entries, let hostname) = message.body {
                    let named = hostname.flatMap { $0.isEmpty ? nil : $0 }
                    expected.body = .gossip(entries, hostname: named)
                    if named != nil {
                        expected.messageFlags |= ClusterBusMessage.extensionDataFlag
                    } else {
                        expected.messageFlags &= ~ClusterBusMessage.extensionDataFlag
                    }
                }
                let again = message.encoded().withUnsafeBytes { ClusterBusMessage.decode($0) }
                precondition(again == .success(expected), "a decoded message does not survive a round trip")
            }
            for outbound in [nil, peer] {
                let context = ClusterLinkContext(outboundNode: outbound, peerIP: "127.0.0.2", localIP: "127.0.0.1")
                _ = state.receive(
                    message, on: context, info, linked: { _ in true }, keysInSlot: { _ in 1 }, now: now)
            }
            now += 150
            _ = state.tick(Int(now / 100), info, linkSince: { _ in 1_000 }, now: now)
            for slot in 0..<HashSlot.count {
                guard let owner = state.slotOwners[slot] else { continue }
                precondition(state.node(owner)?.slots.contains(slot) == true, "slot \(slot) owner inconsistent")
            }
        }
    }
}

/// `nodes.conf`: what parses must write back to text that parses to the same slots.
enum NodesConfigFuzzing {
    static func run(_ data: UnsafeRawBufferPointer) {
        let text = String(decoding: data, as: UTF8.self)
        guard case .success(let state) = NodesConfigFile.parse(text, settings: ClusterSettings(), now: 5) else {
            return
        }
        let written = NodesConfigFile.text(of: state, linked: { _ in false })
        guard case .success(let again) = NodesConfigFile.parse(written, settings: ClusterSettings(), now: 5) else {
            preconditionFailure("a written nodes.conf does not parse")
        }
        precondition(again.slotOwners == state.slotOwners, "slots changed in a round trip")
    }
}
