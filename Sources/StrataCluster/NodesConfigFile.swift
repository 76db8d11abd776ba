//! `nodes.conf`, the file where a cluster node keeps what it knows across restarts: one
//! `CLUSTER NODES` line per node (handshakes left out), then
//! `vars currentEpoch N lastVoteEpoch N`. Read as Redis 7.0 reads it: the address may lack
//! its `@busport` (then port + 10000) and may end in `,hostname`; a replica's config epoch
//! is not loaded (it follows its primary's); nodes named only as primaries or as the
//! other end of an open slot are created; anything else malformed refuses the file.

/// Reading and writing `nodes.conf`.
public enum NodesConfigFile {
    /// The file's text for `state`.
    public static func text(of state: ClusterState, linked: (String) -> Bool) -> String {
        state.nodesText(linked: linked, withHandshakes: false)
            + "vars currentEpoch \(state.currentEpoch) lastVoteEpoch \(state.lastVoteEpoch)\n"
    }

    /// The state the file describes; `now` stands for the ping and pong times it records
    /// as non-zero.
    public static func parse(_ text: String, settings: ClusterSettings, now: Int64) -> Result<
        ClusterState, ClusterError
    > {
        var myself: String?
        var state = ClusterState(name: "", settings: settings, now: now)
        state.remove("")
        var lineNumber = 0
        func bad(_ why: String) -> Result<ClusterState, ClusterError> {
            .failure(ClusterError("line \(lineNumber): \(why)"))
        }
        func ensure(_ name: Substring) {
            if state.nodes[String(name)] == nil { state.add(ClusterNode(name: String(name), flags: [], now: now)) }
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let first = fields.first else { continue }
            if first.lowercased() == "vars" {
                guard fields.count % 2 == 1 else { return bad("vars without a value") }
                for j in stride(from: 1, to: fields.count, by: 2) {
                    let value = UInt64(fields[j + 1]) ?? 0
                    switch fields[j].lowercased() {
                    case "currentepoch": state.currentEpoch = value
                    case "lastvoteepoch": state.lastVoteEpoch = value
                    default: break
                    }
                }
                continue
            }
            guard fields.count >= 8 else { return bad("fewer than eight fields") }
            guard ClusterNodeName.isValid(first) else { return bad("bad node name") }
            let name = String(first)
            ensure(first)
            var address = fields[1]
            var hostname = ""
            if let comma = address.firstIndex(of: ",") {
                hostname = String(address[address.index(after: comma)...])
                address = address[..<comma]
            }
            guard let colon = address.lastIndex(of: ":") else { return bad("address without a port") }
            let ports = address[address.index(after: colon)...]
            let portText = ports.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
            let port = leadingInteger(portText[0])
            let busPort = portText.count > 1 ? leadingInteger(portText[1]) : port &+ 10_000
            guard (0...65535).contains(port), (0...65535).contains(busPort) else { return bad("port out of range") }
            var flags = ClusterNodeFlags()
            for flag in fields[2].split(separator: ",") {
                let known = ClusterNodeFlags(description: flag)
                if known.isEmpty && flag != "noflags" { return bad("unknown flag \(flag)") }
                flags.formUnion(known)
            }
            if flags.contains(.myself) {
                guard myself == nil else { return bad("two nodes are myself") }
                myself = name
            }
            if flags.contains(.failing) { state.update(name) { $0.failTime = now } }
            var primary: String?
            if fields[3] != "-" {
                guard ClusterNodeName.isValid(fields[3]) else { return bad("bad primary name") }
                ensure(fields[3])
                primary = String(fields[3])
            }
            let configEpoch = UInt64(fields[6]) ?? 0
            state.update(name) { node in
                node.ip = String(address[..<colon])
                node.port = port
                node.busPort = busPort
                node.hostname = hostname
                node.flags = flags
                node.primary = primary
                node.pingSent = leadingInteger(fields[4]) != 0 ? now : 0
                node.pongReceived = leadingInteger(fields[5]) != 0 ? now : 0
                node.configEpoch = flags.contains(.replica) && primary != nil ? 0 : configEpoch
            }
            for field in fields[8...] {
                if field.first == "[" {
                    guard field.last == "]", let dash = field.firstIndex(of: "-") else { return bad("bad open slot") }
                    let slot = leadingInteger(field[field.index(after: field.startIndex)..<dash])
                    let direction = field[field.index(after: dash)...].prefix(2)
                    let other = field.dropLast().suffix(ClusterBusMessage.nameLength)
                    guard (0..<HashSlot.count).contains(slot), direction == ">-" || direction == "<-",
                        ClusterNodeName.isValid(other)
                    else { return bad("bad open slot") }
                    ensure(other)
                    if direction == ">-" {
                        state.migratingTo[slot] = String(other)
                    } else {
                        state.importingFrom[slot] = String(other)
                    }
                    continue
                }
                let bounds = field.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
                let start = leadingInteger(bounds[0])
                let stop = bounds.count > 1 ? leadingInteger(bounds[1]) : start
                guard (0..<HashSlot.count).contains(start), (0..<HashSlot.count).contains(stop) else {
                    return bad("slot out of range")
                }
                if start <= stop { for slot in start...stop { state.assign(slot, to: name) } }
            }
        }
        guard let myself else { return .failure(ClusterError("no node is myself")) }
        state.myself = myself
        state.mySlots = state.me.slots
        if state.maxConfigEpoch > state.currentEpoch { state.currentEpoch = state.maxConfigEpoch }
        state.needsSave = false
        return .success(state)
    }

    /// The integer at the start of `text`, as C's `atoi` reads it (0 when none; clamped).
    static func leadingInteger(_ text: Substring) -> Int {
        var value = 0
        var negative = false
        var index = text.startIndex
        if index < text.endIndex, text[index] == "-" || text[index] == "+" {
            negative = text[index] == "-"
            index = text.index(after: index)
        }
        while index < text.endIndex, let digit = text[index].wholeNumberValue, text[index].isASCII {
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(digit)
            if overflow1 || overflow2 { return negative ? Int.min : Int.max }
            value = sum
            index = text.index(after: index)
        }
        return negative ? -value : value
    }
}
