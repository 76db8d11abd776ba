//! The memcached listener's parameters (Strata's own): off unless `memcached-port` is set.

extension ConfigDirective {
    /// The memcached parameters.
    static let memcached: [ConfigDirective] = [
        keptString("memcached-bind", "127.0.0.1", mutable: false),
        keptInt("memcached-db", 0...Int(Int32.max), 0, mutable: false),
        keptMemory("memcached-max-item-size", 1024...(1 << 30), 1 << 20),
        keptInt("memcached-port", 0...65535, 0, mutable: false),
    ]
}

extension ServerConfig {
    /// `memcached-port` (0: no memcached listener).
    var memcachedPort: Int { Int(inertValues["memcached-port"] ?? "") ?? 0 }
    /// `memcached-bind`: the addresses of the memcached listener.
    var memcachedBind: [String] {
        (inertValues["memcached-bind"] ?? "127.0.0.1").split(separator: " ").map(String.init)
    }
    /// `memcached-db`: the database memcached clients read and write.
    var memcachedDatabase: Int { Int(inertValues["memcached-db"] ?? "") ?? 0 }
    /// `memcached-max-item-size`: memcached's `-I`.
    var memcachedMaxItemSize: Int { Int(inertValues["memcached-max-item-size"] ?? "") ?? 1 << 20 }
}
