//! The connected clients: ids handed out in increasing order, admission (`maxclients`,
//! protected mode) decided in one place, and removal that only forgets the connection it
//! is given (a stale close must not remove a newer client). Generic over the client type,
//! so it is unit-tested without sockets.

/// Clients by id.
struct ClientRegistry<Client: AnyObject> {
    /// Why a connection was refused.
    enum Refusal: Equatable {
        /// `maxclients` clients are connected.
        case tooManyClients
        /// Protected mode refuses a non-loopback client when no password is set.
        case protectedMode
    }

    /// The connected clients by id.
    private(set) var byID: [UInt64: Client] = [:]
    private var nextID: UInt64 = 1

    /// A new client id (`CLIENT ID`): increasing, never reused.
    mutating func makeID() -> UInt64 {
        defer { nextID &+= 1 }
        return nextID
    }

    /// Admits `client` as `id`, or says why not: `maxClients` are connected, or
    /// `protectedModeRefuses`.
    mutating func admit(_ client: Client, id: UInt64, maxClients: Int, protectedModeRefuses: Bool) -> Refusal? {
        if byID.count >= maxClients { return .tooManyClients }
        if protectedModeRefuses { return .protectedMode }
        byID[id] = client
        return nil
    }

    /// Forgets `client` if it is the one registered as `id`.
    mutating func remove(_ client: Client, id: UInt64) {
        if byID[id] === client { byID.removeValue(forKey: id) }
    }

    /// The client registered as `id`.
    subscript(id: UInt64) -> Client? { byID[id] }

    /// Every connected client.
    var values: Dictionary<UInt64, Client>.Values { byID.values }
    /// Their ids.
    var keys: Dictionary<UInt64, Client>.Keys { byID.keys }
    /// How many are connected.
    var count: Int { byID.count }
    /// Whether none is.
    var isEmpty: Bool { byID.isEmpty }
}
