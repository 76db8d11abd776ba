//! The `tls-*` parameters as typed values, kept apart from the rest of `ServerConfig` so
//! that the TLS code (contexts, listeners, the replica's link) reads one value, and a
//! `CONFIG SET` that changes any of them is seen by comparing two of them.

/// `tls-auth-clients`: whether a client must present a certificate signed by the CA.
public enum TLSClientAuthentication: String, Sendable, CaseIterable {
    /// Redis lists the values in this order in its error.
    case no, yes, optional
}

/// Redis 7.0's TLS parameters (and Strata's `tls-handshake-timeout`), with its defaults.
public struct TLSSettings: Sendable, Equatable {
    /// `tls-port`: the TLS listener's port; 0 for none.
    public var port = 0
    /// `tls-cert-file` / `tls-key-file` / `tls-key-file-pass`: the server's certificate
    /// (PEM, may hold a chain) and private key.
    public var certFile = ""
    public var keyFile = ""
    public var keyFilePass = ""
    /// `tls-client-cert-file` / `tls-client-key-file` / `tls-client-key-file-pass`: the
    /// certificate this server presents when it is the client (a replica's link); the
    /// server's own when empty.
    public var clientCertFile = ""
    public var clientKeyFile = ""
    public var clientKeyFilePass = ""
    /// `tls-ca-cert-file` / `tls-ca-cert-dir`: the authorities peers' certificates are
    /// checked against.
    public var caCertFile = ""
    public var caCertDir = ""
    /// `tls-auth-clients`.
    public var authClients = TLSClientAuthentication.yes
    /// `tls-protocols`: e.g. "TLSv1.2 TLSv1.3"; empty for TLS 1.2 and 1.3.
    public var protocols = ""
    /// `tls-ciphers`: the TLS 1.2 cipher list (OpenSSL syntax); empty for the default.
    public var ciphers = ""
    /// `tls-ciphersuites`: TLS 1.3 suites; accepted and checked, not applied (BoringSSL
    /// has no setting for them).
    public var cipherSuites = ""
    /// `tls-prefer-server-ciphers`, `tls-session-caching`, `tls-session-cache-size`,
    /// `tls-session-cache-timeout`: accepted, kept, not applied (see docs/TLS.md).
    public var preferServerCiphers = false
    public var sessionCaching = true
    public var sessionCacheSize = 20480
    public var sessionCacheTimeout = 300
    /// `tls-replication`: the link to a primary uses TLS.
    public var replication = false
    /// `tls-cluster`: the cluster bus is TLS, and nodes announce their TLS ports.
    public var cluster = false
    /// `tls-dh-params-file`: checked to be readable, not applied (BoringSSL has no DHE).
    public var dhParamsFile = ""
    /// `tls-handshake-timeout` (Strata's own): milliseconds a new TLS connection has to
    /// complete its handshake before it is closed; 0 for no limit.
    public var handshakeTimeoutMilliseconds = 10_000

    /// Defaults.
    public init() {}

    /// Whether TLS must be configured: a TLS listener, a TLS link to a primary, or (as
    /// Redis checks it) `tls-cluster`.
    public var inUse: Bool { port != 0 || replication || cluster }

    /// The settings that decide the TLS contexts (everything but the port and timeout):
    /// when they differ, the contexts are built again.
    func sameContexts(as other: TLSSettings) -> Bool {
        var a = self
        var b = other
        a.port = 0
        b.port = 0
        a.handshakeTimeoutMilliseconds = 0
        b.handshakeTimeoutMilliseconds = 0
        return a == b
    }
}
