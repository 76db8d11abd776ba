//! Builds the TLS contexts from the `tls-*` settings, checking them in Redis 7.0's order
//! and reporting each failure with the line Redis logs for it (`Failed to load
//! certificate: FILE: reason`, `No tls-cert-file configured!`...). Two contexts are made:
//! the server's, for accepted connections (client certificates asked for as
//! `tls-auth-clients` says, checked against the CA without a host name), and the
//! client's, for the replica's link to its primary (its own certificate from
//! `tls-client-cert-file`/`-key-file`, else the server's; the primary's certificate
//! checked against the CA without a host name, as Redis does). Everything that could stop
//! the process inside SwiftNIO SSL (a cipher string BoringSSL refuses, an unreadable CA
//! directory, a key prompting for a passphrase on standard input) is checked first.

import NIOSSL

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The contexts new TLS connections are made with.
struct TLSContexts {
    /// For connections accepted on `tls-port`.
    let server: NIOSSLContext
    /// For this server's own outgoing connections (the link to a primary).
    let client: NIOSSLContext
}

/// Why the TLS configuration cannot be applied: the lines to log, Redis's wording.
struct TLSConfigurationError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

enum TLSContextBuilder {
    /// Builds both contexts for `settings`, or says why not.
    static func build(_ settings: TLSSettings) throws -> TLSContexts {
        guard !settings.certFile.isEmpty else { throw TLSConfigurationError(message: "No tls-cert-file configured!") }
        guard !settings.keyFile.isEmpty else { throw TLSConfigurationError(message: "No tls-key-file configured!") }
        let verifiesPeers = settings.authClients != .no || settings.cluster || settings.replication
        if verifiesPeers && settings.caCertFile.isEmpty && settings.caCertDir.isEmpty {
            throw TLSConfigurationError(
                message:
                    "Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled!"
            )
        }
        guard let versions = TLSCipherRules.protocolRange(settings.protocols) else {
            throw TLSConfigurationError(
                message:
                    "Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3' (Strata: versions next to each other, such as 'TLSv1.2 TLSv1.3')."
            )
        }
        let serverChain = try loadChain(settings.certFile)
        let serverKey = try loadKey(settings.keyFile, passphrase: settings.keyFilePass)
        let roots = try trustRoots(settings)
        if !settings.ciphers.isEmpty && !TLSCipherRules.ciphersAccepted(settings.ciphers) {
            throw TLSConfigurationError(message: "Failed to configure ciphers: \(settings.ciphers)")
        }
        if !TLSCipherRules.suitesAccepted(settings.cipherSuites) {
            throw TLSConfigurationError(message: "Failed to configure ciphersuites: \(settings.cipherSuites)")
        }
        if !settings.dhParamsFile.isEmpty { try checkDHParams(settings.dhParamsFile) }

        var server = TLSConfiguration.makeServerConfiguration(
            certificateChain: serverChain.map { .certificate($0) }, privateKey: .privateKey(serverKey))
        apply(settings, versions: versions, roots: roots, to: &server)
        // As Redis, which closes right after its close_notify: a peer that never answers
        // its own must not keep the socket (and a shutdown) waiting SwiftNIO SSL's 5 s.
        server.shutdownTimeout = .milliseconds(100)
        switch settings.authClients {
        case .yes: server.certificateVerification = .noHostnameVerification
        case .optional: server.certificateVerification = .optionalVerification
        case .no: server.certificateVerification = .none
        }
        let serverContext = try makeContext(server, file: settings.keyFile)

        var clientChain = serverChain
        var clientKey = serverKey
        if !settings.clientCertFile.isEmpty && !settings.clientKeyFile.isEmpty {
            clientChain = try loadChain(settings.clientCertFile)
            clientKey = try loadKey(settings.clientKeyFile, passphrase: settings.clientKeyFilePass)
        }
        var client = TLSConfiguration.makeClientConfiguration()
        client.certificateChain = clientChain.map { .certificate($0) }
        client.privateKey = .privateKey(clientKey)
        apply(settings, versions: versions, roots: roots, to: &client)
        client.certificateVerification = roots == nil ? .none : .noHostnameVerification
        let clientContext = try makeContext(
            client, file: settings.clientKeyFile.isEmpty ? settings.keyFile : settings.clientKeyFile)
        return TLSContexts(server: serverContext, client: clientContext)
    }

    private static func apply(
        _ settings: TLSSettings, versions: ClosedRange<Int>, roots: (NIOSSLTrustRoots, [NIOSSLAdditionalTrustRoots])?,
        to configuration: inout TLSConfiguration
    ) {
        let named: [TLSVersion] = [.tlsv1, .tlsv11, .tlsv12, .tlsv13]
        configuration.minimumTLSVersion = named[versions.lowerBound]
        configuration.maximumTLSVersion = named[versions.upperBound]
        if !settings.ciphers.isEmpty { configuration.cipherSuites = settings.ciphers }
        if let roots {
            configuration.trustRoots = roots.0
            configuration.additionalTrustRoots = roots.1
        }
    }

    /// The context, with BoringSSL's refusal (a key that does not match its certificate)
    /// said as Redis says it.
    private static func makeContext(_ configuration: TLSConfiguration, file: String) throws -> NIOSSLContext {
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch NIOSSLError.failedToLoadPrivateKey {
            // The key loaded on its own (``loadKey``): BoringSSL refused it for the certificate.
            throw TLSConfigurationError(message: "Failed to load private key: \(file): key values mismatch")
        } catch {
            throw TLSConfigurationError(message: "Failed to load private key: \(file): \(describe(error))")
        }
    }

    /// The certificates of a PEM file (the server's first, then its chain).
    static func loadChain(_ path: String) throws -> [NIOSSLCertificate] {
        try checkReadable(path, what: "Failed to load certificate")
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(path)
            guard !chain.isEmpty else {
                throw TLSConfigurationError(message: "Failed to load certificate: \(path): no certificate in the file")
            }
            return chain
        } catch let error as TLSConfigurationError {
            throw error
        } catch {
            throw TLSConfigurationError(message: "Failed to load certificate: \(path): \(describe(error))")
        }
    }

    /// A PEM private key, decrypted with `passphrase` when it is encrypted (never asking
    /// for one on standard input, which BoringSSL does without a callback).
    static func loadKey(_ path: String, passphrase: String) throws -> NIOSSLPrivateKey {
        try checkReadable(path, what: "Failed to load private key")
        do {
            return try NIOSSLPrivateKey(file: path, format: .pem) { (setter: ([UInt8]) -> Void) in
                setter(Array(passphrase.utf8))
            }
        } catch {
            throw TLSConfigurationError(message: "Failed to load private key: \(path): \(describe(error))")
        }
    }

    /// The trust roots from `tls-ca-cert-file` and `tls-ca-cert-dir` (a directory of
    /// hashed names, as OpenSSL's), or nil when neither is set.
    private static func trustRoots(_ settings: TLSSettings) throws -> (NIOSSLTrustRoots, [NIOSSLAdditionalTrustRoots])?
    {
        let prefix = "Failed to configure CA certificate(s) file/directory"
        var fileCertificates: [NIOSSLCertificate] = []
        if !settings.caCertFile.isEmpty {
            try checkReadable(settings.caCertFile, what: prefix, naming: false)
            do {
                fileCertificates = try NIOSSLCertificate.fromPEMFile(settings.caCertFile)
            } catch {
                throw TLSConfigurationError(message: "\(prefix): \(describe(error))")
            }
            guard !fileCertificates.isEmpty else {
                throw TLSConfigurationError(message: "\(prefix): no certificate in \(settings.caCertFile)")
            }
        }
        if !settings.caCertDir.isEmpty {
            // SwiftNIO SSL opens the directory itself and stops the process when it cannot.
            guard let directory = opendir(settings.caCertDir) else {
                throw TLSConfigurationError(message: "\(prefix): \(String(cString: strerror(errno)))")
            }
            closedir(directory)
            let additional: [NIOSSLAdditionalTrustRoots] =
                fileCertificates.isEmpty ? [] : [.certificates(fileCertificates)]
            return (.file(settings.caCertDir), additional)
        }
        return fileCertificates.isEmpty ? nil : (.certificates(fileCertificates), [])
    }

    /// `tls-dh-params-file`: read and recognised (BoringSSL has no DHE ciphers to use it).
    private static func checkDHParams(_ path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = access(path, R_OK) == 0 ? "unreadable" : String(cString: strerror(errno))
            throw TLSConfigurationError(message: "Failed to load \(path): \(reason)")
        }
        guard String(decoding: data, as: UTF8.self).contains("-----BEGIN DH PARAMETERS-----") else {
            throw TLSConfigurationError(message: "Failed to load DH params file: \(path)")
        }
    }

    /// Refuses a file that cannot be opened for reading, with the system's reason.
    private static func checkReadable(_ path: String, what: String, naming: Bool = true) throws {
        let file = fopen(path, "rb")
        guard let file else {
            let reason = String(cString: strerror(errno))
            throw TLSConfigurationError(message: naming ? "\(what): \(path): \(reason)" : "\(what): \(reason)")
        }
        fclose(file)
    }

    /// A SwiftNIO SSL error in a few words (BoringSSL's reason strings, without the
    /// source locations).
    static func describe(_ error: Error) -> String {
        let text: String
        switch error {
        case NIOSSLError.failedToLoadCertificate: return "not a PEM certificate"
        case NIOSSLError.failedToLoadPrivateKey: return "not a PEM private key, or a wrong passphrase"
        case NIOSSLError.noSuchFilesystemObject: return "No such file or directory"
        case NIOSSLError.handshakeFailed(let inner): text = "\(inner)"
        case let inner as BoringSSLError: text = "\(inner)"
        default: text = "\(error)"
        }
        return TLSErrorText.tidy(text)
    }
}

/// BoringSSL's error stacks as SwiftNIO SSL prints them, shortened for a log line.
enum TLSErrorText {
    /// `sslError([Error: 268435581 error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED at
    /// /path/handshake.cc:297])` becomes `error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED`.
    static func tidy(_ text: String) -> String {
        var reasons: [String] = []
        var rest = Substring(text)
        while let start = rest.firstRange(of: "error:") {
            var end =
                rest[start.lowerBound...].firstIndex(where: { $0 == " " || $0 == "]" || $0 == "," })
                ?? rest.endIndex
            if end < rest.endIndex, rest[end] == " " {
                // The reason ends before " at /path:line".
                end = rest[start.lowerBound...].firstRange(of: " at ")?.lowerBound ?? end
            }
            reasons.append(String(rest[start.lowerBound..<end]))
            rest = rest[end...]
        }
        if reasons.isEmpty && text.contains("EOF during handshake") { return "EOF during handshake" }
        return reasons.isEmpty ? text : reasons.joined(separator: "; ")
    }
}
