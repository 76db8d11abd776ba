//! The TLS parameters of `CONFIG GET/SET`, config files and the command line, with Redis
//! 7.0's names, defaults and value checks. A value that parses is only staged here: whether
//! the certificates load and the protocol and cipher lists are usable is decided when the
//! TLS contexts are built (`ServerCore+TLS.swift`), as Redis decides it when it applies the
//! configuration, so a bad file is refused with Redis's "Unable to update TLS
//! configuration" while TLS is in use and accepted while it is not.

extension ConfigDirective {
    /// The `tls-*` parameters (and Strata's own `tls-handshake-timeout`).
    static let tls: [ConfigDirective] = [
        choice("tls-auth-clients", \.tls.authClients),
        string("tls-ca-cert-dir", \.tls.caCertDir),
        string("tls-ca-cert-file", \.tls.caCertFile),
        string("tls-cert-file", \.tls.certFile),
        string("tls-ciphers", \.tls.ciphers),
        string("tls-ciphersuites", \.tls.cipherSuites),
        string("tls-client-cert-file", \.tls.clientCertFile),
        string("tls-client-key-file", \.tls.clientKeyFile),
        string("tls-client-key-file-pass", \.tls.clientKeyFilePass),
        bool("tls-cluster", \.tls.cluster),
        string("tls-dh-params-file", \.tls.dhParamsFile),
        int("tls-handshake-timeout", 0...Int(Int32.max), \.tls.handshakeTimeoutMilliseconds),
        string("tls-key-file", \.tls.keyFile),
        string("tls-key-file-pass", \.tls.keyFilePass),
        int("tls-port", 0...65535, \.tls.port),
        bool("tls-prefer-server-ciphers", \.tls.preferServerCiphers),
        string("tls-protocols", \.tls.protocols),
        bool("tls-replication", \.tls.replication),
        int("tls-session-cache-size", 0...Int(Int32.max), \.tls.sessionCacheSize),
        int("tls-session-cache-timeout", 0...Int(Int32.max), \.tls.sessionCacheTimeout),
        bool("tls-session-caching", \.tls.sessionCaching),
    ]
}
