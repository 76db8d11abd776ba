import Foundation
import Testing

@testable import StrataServer

/// The `tls-*` directives as a config file, the command line and CONFIG REWRITE read and
/// write them, and the checks made before a value reaches BoringSSL (a cipher string it
/// refuses would stop the process inside SwiftNIO SSL).
@Suite("TLS configuration")
struct TLSConfigTests {
    @Test func readsEveryDirectiveFromAConfigFileAndTheCommandLine() throws {
        var config = ServerConfig()
        let text = """
            tls-port 6380
            tls-cert-file "/etc/strata/server cert.pem"
            tls-key-file /etc/strata/server.key
            tls-key-file-pass secret
            tls-client-cert-file /etc/strata/client.crt
            tls-client-key-file /etc/strata/client.key
            tls-ca-cert-file /etc/strata/ca.crt
            tls-ca-cert-dir /etc/ssl/certs
            tls-auth-clients OPTIONAL
            tls-protocols "TLSv1.2 TLSv1.3"
            tls-ciphers DEFAULT:!MEDIUM
            tls-prefer-server-ciphers yes
            tls-session-caching no
            tls-session-cache-size 100
            tls-session-cache-timeout 60
            tls-replication yes
            tls-handshake-timeout 2500
            """
        try ConfigLoader.apply(text, source: "test.conf", to: &config)
        #expect(config.tls.port == 6380)
        #expect(config.tls.certFile == "/etc/strata/server cert.pem")
        #expect(config.tls.keyFilePass == "secret")
        #expect(config.tls.caCertDir == "/etc/ssl/certs")
        #expect(config.tls.authClients == .optional)
        #expect(config.tls.protocols == "TLSv1.2 TLSv1.3")
        #expect(config.tls.preferServerCiphers && !config.tls.sessionCaching)
        #expect(config.tls.sessionCacheSize == 100 && config.tls.sessionCacheTimeout == 60)
        #expect(config.tls.replication && config.tls.inUse)
        #expect(config.tls.handshakeTimeoutMilliseconds == 2500)
        #expect(ConfigDirective.named("tls-auth-clients")?.get(config) == "optional")

        let (_, options) = ConfigLoader.parseArguments(["--tls-port", "6390", "--tls-auth-clients", "no"])
        var fromArguments = ServerConfig()
        try ConfigLoader.apply(options, source: "command line", to: &fromArguments)
        #expect(fromArguments.tls.port == 6390 && fromArguments.tls.authClients == .no)

        // CONFIG REWRITE writes what differs from the defaults, quoted where needed.
        let rewritten = ConfigRewrite.rewrite("", config: config)
        #expect(rewritten.contains("tls-port 6380\n"))
        #expect(rewritten.contains("tls-cert-file \"/etc/strata/server cert.pem\"\n"))
        #expect(rewritten.contains("tls-auth-clients optional\n"))
        #expect(!rewritten.contains("tls-cluster"))
        var reread = ServerConfig()
        try ConfigLoader.apply(rewritten, source: "rewritten", to: &reread)
        #expect(reread.tls == config.tls)
    }

    @Test(arguments: [
        ("tls-port 70000\n", "argument must be between 0 and 65535 inclusive"),
        ("tls-auth-clients maybe\n", "argument(s) must be one of the following: no, yes, optional"),
        ("tls-replication perhaps\n", "argument must be 'yes' or 'no'"),
        ("tls-session-cache-size -1\n", "argument must be between 0 and 2147483647 inclusive"),
        ("tls-handshake-timeout -5\n", "argument must be between 0 and 2147483647 inclusive"),
    ])
    func refusesBadValues(text: String, reason: String) {
        var config = ServerConfig()
        #expect(throws: ConfigLoadError.self) { try ConfigLoader.apply(text, source: "t", to: &config) }
        do {
            try ConfigLoader.apply(text, source: "t", to: &config)
        } catch let error as ConfigLoadError {
            #expect(error.reason == reason)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test(arguments: [
        ("ECDHE-RSA-AES128-GCM-SHA256", true),
        ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", true),
        ("ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384", true),
        ("HIGH:!aNULL:!MD5", true),
        ("DEFAULT", true),
        ("DEFAULT:!MEDIUM", true),
        ("ECDH+AESGCM:RSA+AES", true),
        ("ALL:@STRENGTH", true),
        ("3DES", true),
        ("FOO", false),
        ("ALL:!ALL", false),
        ("ALL:-ALL", false),
        ("!ALL:ALL", false),
        ("ECDHE+RSA+CHACHA20:!CHACHA20", false),
        ("TLSv1.2+SHA1", false),
        ("@FOO", false),
        ("ALL:=", false),
        ("[ECDHE-RSA-AES128-GCM-SHA256|AES128-SHA]", false),
        ("aNULL:eNULL", false),
        ("ECDHE-RSA-AES128-SHA256", true),
        ("ECDHE+SHA256", false),
    ])
    func cipherStringsAsBoringSSLTakesThem(rules: String, accepted: Bool) {
        #expect(TLSCipherRules.ciphersAccepted(rules) == accepted)
    }

    @Test func protocolsAndSuites() {
        #expect(TLSCipherRules.protocolRange("") == 2...3)
        #expect(TLSCipherRules.protocolRange("tlsv1.2") == 2...2)
        #expect(TLSCipherRules.protocolRange("TLSv1 TLSv1.1 TLSv1.2") == 0...2)
        #expect(TLSCipherRules.protocolRange("TLSv1 TLSv1.3") == nil)
        #expect(TLSCipherRules.protocolRange("TLSv1.9") == nil)
        #expect(TLSCipherRules.protocolRange("TLSv1.2  TLSv1.3") == nil)
        #expect(TLSCipherRules.suitesAccepted(""))
        #expect(TLSCipherRules.suitesAccepted("TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"))
        #expect(!TLSCipherRules.suitesAccepted("TLS_AES_256_GCM_SHA384:NOPE"))
    }

    @Test func contextErrorsNameWhatIsWrongAsRedisDoes() {
        func failure(_ settings: TLSSettings) -> String {
            do {
                _ = try TLSContextBuilder.build(settings)
                return "built"
            } catch {
                return "\(error)"
            }
        }
        var settings = TLSSettings()
        settings.port = 6380
        #expect(failure(settings) == "No tls-cert-file configured!")
        settings.certFile = "/nonexistent/server.crt"
        #expect(failure(settings) == "No tls-key-file configured!")
        settings.keyFile = "/nonexistent/server.key"
        #expect(failure(settings).hasPrefix("Either tls-ca-cert-file or tls-ca-cert-dir must be specified"))
        settings.authClients = .no
        settings.protocols = "TLSv1 TLSv1.3"
        #expect(failure(settings).hasPrefix("Invalid tls-protocols specified."))
        settings.protocols = ""
        #expect(failure(settings) == "Failed to load certificate: /nonexistent/server.crt: No such file or directory")
        let notPEM = FileManager.default.temporaryDirectory.appendingPathComponent("strata-not-a-cert-\(getpid())")
        FileManager.default.createFile(atPath: notPEM.path, contents: Data("hello".utf8))
        defer { try? FileManager.default.removeItem(at: notPEM) }
        settings.certFile = notPEM.path
        #expect(failure(settings).hasPrefix("Failed to load certificate: \(notPEM.path): "))
    }

    @Test func errorTextsAreShortened() {
        let stack =
            "handshakeFailed(NIOSSL.BoringSSLError.sslError([Error: 268435648 error:100000c0:SSL routines:OPENSSL_internal:PEER_DID_NOT_RETURN_A_CERTIFICATE at /x/handshake.cc:10]))"
        #expect(
            TLSErrorText.tidy(stack) == "error:100000c0:SSL routines:OPENSSL_internal:PEER_DID_NOT_RETURN_A_CERTIFICATE"
        )
        #expect(TLSErrorText.tidy("sslError([Error:  EOF during handshake])") == "EOF during handshake")
    }
}
