//! `--tls --cacert FILE --cert FILE --key FILE --insecure`, redis-cli's flag names, for the
//! subcommands that talk to a server (`restore --to`, `backup --from`). As redis-cli does,
//! the server's certificate chain is checked against `--cacert` (the system's authorities
//! without it), not its host name; `--insecure` checks nothing.

import ArgumentParser
import NIOSSL

/// The TLS flags of a subcommand that connects to a server.
struct TLSClientOptions: ParsableArguments {
    @Flag(help: "Connect with TLS.")
    var tls = false

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "With --tls: the CA certificate(s) the server's certificate is checked against.",
            valueName: "FILE"))
    var cacert: String?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("With --tls: a client certificate, for servers that ask for one.", valueName: "FILE"))
    var cert: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("With --tls and --cert: its private key.", valueName: "FILE"))
    var key: String?

    @Flag(help: "With --tls: do not check the server's certificate.")
    var insecure = false

    init() {}

    func validate() throws {
        if !tls && (cacert != nil || cert != nil || key != nil || insecure) {
            throw ValidationError("--cacert, --cert, --key and --insecure need --tls")
        }
        if (cert == nil) != (key == nil) { throw ValidationError("--cert and --key go together") }
    }

    /// The client context for these flags, or nil without `--tls`.
    func makeContext() throws -> NIOSSLContext? {
        guard tls else { return nil }
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = insecure ? .none : .noHostnameVerification
        if let cacert {
            configuration.trustRoots = .certificates(
                try load(cacert, "--cacert") { try NIOSSLCertificate.fromPEMFile($0) })
        }
        if let cert, let key {
            let chain = try load(cert, "--cert") { try NIOSSLCertificate.fromPEMFile($0) }
            configuration.certificateChain = chain.map { .certificate($0) }
            let privateKey = try load(key, "--key") { path in
                // A callback, so that an encrypted key fails here instead of prompting.
                try NIOSSLPrivateKey(file: path, format: .pem) { (_: ([UInt8]) -> Void) in }
            }
            configuration.privateKey = .privateKey(privateKey)
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw ConnectionError(description: "TLS: the certificate and key do not go together (\(error))")
        }
    }

    private func load<T>(_ path: String, _ flag: String, _ body: (String) throws -> T) throws -> T {
        do {
            return try body(path)
        } catch {
            throw ConnectionError(description: "\(flag) \(path): cannot be loaded (\(error))")
        }
    }
}
