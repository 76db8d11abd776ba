//! Checks of `tls-ciphers`, `tls-ciphersuites` and `tls-protocols` before they reach
//! BoringSSL. SwiftNIO SSL hands the TLS 1.2 cipher string straight to
//! `SSL_CTX_set_cipher_list` and stops the process when BoringSSL refuses it, so a value
//! from `CONFIG SET` must be known to be accepted first. BoringSSL's rule language is small
//! (its `ssl_cipher.cc`): items separated by `:`, ` `, `;` or `,`; each an optional
//! operator (`!` kill, `-` delete, `+` reorder, `@STRENGTH`) and words joined by `+`, each
//! an exact cipher name or an alias matching a set of ciphers; unknown words skip their
//! item; a leading `DEFAULT` stands for `ALL`; the string is refused when no cipher is
//! left. ``TLSCipherRules/ciphersAccepted(_:)`` runs the same rules over the same table of
//! TLS 1.2 ciphers and answers whether BoringSSL would accept the string; equal-preference
//! groups (`[a|b]`) are refused rather than modelled.

/// The rule checks (pure functions, unit-tested).
enum TLSCipherRules {
    /// One TLS 1.2 cipher of BoringSSL's table, with the algorithm bits aliases select on.
    struct Cipher {
        let name: String
        let standardName: String
        let keyExchange: UInt32
        let authentication: UInt32
        let encryption: UInt32
        let mac: UInt32
        /// Only aliases that ask for deprecated ciphers (`3DES`) select it.
        var deprecated = false

        /// TLS 1.2 for AEAD and SHA-2 MACs, else SSLv3 (BoringSSL's `SSL_CIPHER_get_min_version`).
        var minimumVersion: Int { mac == sha1 ? 0x0300 : 0x0303 }
    }

    struct Alias {
        let name: String
        var keyExchange: UInt32 = ~0
        var authentication: UInt32 = ~0
        var encryption: UInt32 = ~0
        var mac: UInt32 = ~0
        var minimumVersion = 0
        var includesDeprecated = false
    }

    // Algorithm bits (their values only need to be distinct).
    static let kRSA: UInt32 = 1, kECDHE: UInt32 = 2, kPSK: UInt32 = 4
    static let aRSADecrypt: UInt32 = 1, aRSASign: UInt32 = 2, aECDSA: UInt32 = 4, aPSK: UInt32 = 8
    static let des3: UInt32 = 1, aes128: UInt32 = 2, aes256: UInt32 = 4, aes128GCM: UInt32 = 8
    static let aes256GCM: UInt32 = 16, chacha20: UInt32 = 32
    static let sha1: UInt32 = 1, sha256: UInt32 = 2, aead: UInt32 = 4

    static let ciphers: [Cipher] = [
        Cipher(
            name: "DES-CBC3-SHA", standardName: "TLS_RSA_WITH_3DES_EDE_CBC_SHA", keyExchange: kRSA,
            authentication: aRSADecrypt, encryption: des3, mac: sha1, deprecated: true),
        Cipher(
            name: "AES128-SHA", standardName: "TLS_RSA_WITH_AES_128_CBC_SHA", keyExchange: kRSA,
            authentication: aRSADecrypt, encryption: aes128, mac: sha1),
        Cipher(
            name: "AES256-SHA", standardName: "TLS_RSA_WITH_AES_256_CBC_SHA", keyExchange: kRSA,
            authentication: aRSADecrypt, encryption: aes256, mac: sha1),
        Cipher(
            name: "PSK-AES128-CBC-SHA", standardName: "TLS_PSK_WITH_AES_128_CBC_SHA", keyExchange: kPSK,
            authentication: aPSK, encryption: aes128, mac: sha1),
        Cipher(
            name: "PSK-AES256-CBC-SHA", standardName: "TLS_PSK_WITH_AES_256_CBC_SHA", keyExchange: kPSK,
            authentication: aPSK, encryption: aes256, mac: sha1),
        Cipher(
            name: "AES128-GCM-SHA256", standardName: "TLS_RSA_WITH_AES_128_GCM_SHA256", keyExchange: kRSA,
            authentication: aRSADecrypt, encryption: aes128GCM, mac: aead),
        Cipher(
            name: "AES256-GCM-SHA384", standardName: "TLS_RSA_WITH_AES_256_GCM_SHA384", keyExchange: kRSA,
            authentication: aRSADecrypt, encryption: aes256GCM, mac: aead),
        Cipher(
            name: "ECDHE-ECDSA-AES128-SHA", standardName: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
            keyExchange: kECDHE, authentication: aECDSA, encryption: aes128, mac: sha1),
        Cipher(
            name: "ECDHE-ECDSA-AES256-SHA", standardName: "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
            keyExchange: kECDHE, authentication: aECDSA, encryption: aes256, mac: sha1),
        Cipher(
            name: "ECDHE-RSA-AES128-SHA", standardName: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
            keyExchange: kECDHE, authentication: aRSASign, encryption: aes128, mac: sha1),
        Cipher(
            name: "ECDHE-RSA-AES256-SHA", standardName: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
            keyExchange: kECDHE, authentication: aRSASign, encryption: aes256, mac: sha1),
        Cipher(
            name: "ECDHE-ECDSA-AES128-SHA256", standardName: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
            keyExchange: kECDHE, authentication: aECDSA, encryption: aes128, mac: sha256, deprecated: true),
        Cipher(
            name: "ECDHE-RSA-AES128-SHA256", standardName: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
            keyExchange: kECDHE, authentication: aRSASign, encryption: aes128, mac: sha256, deprecated: true),
        Cipher(
            name: "ECDHE-ECDSA-AES128-GCM-SHA256", standardName: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            keyExchange: kECDHE, authentication: aECDSA, encryption: aes128GCM, mac: aead),
        Cipher(
            name: "ECDHE-ECDSA-AES256-GCM-SHA384", standardName: "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            keyExchange: kECDHE, authentication: aECDSA, encryption: aes256GCM, mac: aead),
        Cipher(
            name: "ECDHE-RSA-AES128-GCM-SHA256", standardName: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            keyExchange: kECDHE, authentication: aRSASign, encryption: aes128GCM, mac: aead),
        Cipher(
            name: "ECDHE-RSA-AES256-GCM-SHA384", standardName: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            keyExchange: kECDHE, authentication: aRSASign, encryption: aes256GCM, mac: aead),
        Cipher(
            name: "ECDHE-PSK-AES128-CBC-SHA", standardName: "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA",
            keyExchange: kECDHE, authentication: aPSK, encryption: aes128, mac: sha1),
        Cipher(
            name: "ECDHE-PSK-AES256-CBC-SHA", standardName: "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA",
            keyExchange: kECDHE, authentication: aPSK, encryption: aes256, mac: sha1),
        Cipher(
            name: "ECDHE-RSA-CHACHA20-POLY1305", standardName: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
            keyExchange: kECDHE, authentication: aRSASign, encryption: chacha20, mac: aead),
        Cipher(
            name: "ECDHE-ECDSA-CHACHA20-POLY1305", standardName: "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            keyExchange: kECDHE, authentication: aECDSA, encryption: chacha20, mac: aead),
        Cipher(
            name: "ECDHE-PSK-CHACHA20-POLY1305", standardName: "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256",
            keyExchange: kECDHE, authentication: aPSK, encryption: chacha20, mac: aead),
    ]

    static let aliases: [Alias] = [
        Alias(name: "ALL"),
        Alias(name: "kRSA", keyExchange: kRSA),
        Alias(name: "kECDHE", keyExchange: kECDHE),
        Alias(name: "kEECDH", keyExchange: kECDHE),
        Alias(name: "ECDH", keyExchange: kECDHE),
        Alias(name: "kPSK", keyExchange: kPSK),
        Alias(name: "aRSA", authentication: aRSASign | aRSADecrypt),
        Alias(name: "aECDSA", authentication: aECDSA),
        Alias(name: "ECDSA", authentication: aECDSA),
        Alias(name: "aPSK", authentication: aPSK),
        Alias(name: "ECDHE", keyExchange: kECDHE),
        Alias(name: "EECDH", keyExchange: kECDHE),
        Alias(name: "RSA", keyExchange: kRSA, authentication: aRSASign | aRSADecrypt),
        Alias(name: "PSK", keyExchange: kPSK, authentication: aPSK),
        Alias(name: "3DES", encryption: des3, includesDeprecated: true),
        Alias(name: "AES128", encryption: aes128 | aes128GCM),
        Alias(name: "AES256", encryption: aes256 | aes256GCM),
        Alias(name: "AES", encryption: aes128 | aes256 | aes128GCM | aes256GCM),
        Alias(name: "AESGCM", encryption: aes128GCM | aes256GCM),
        Alias(name: "CHACHA20", encryption: chacha20),
        Alias(name: "SHA1", mac: sha1),
        Alias(name: "SHA", mac: sha1),
        Alias(name: "SSLv3", minimumVersion: 0x0300),
        Alias(name: "TLSv1", minimumVersion: 0x0300),
        Alias(name: "TLSv1.2", minimumVersion: 0x0303),
        Alias(name: "HIGH"),
        Alias(name: "FIPS"),
    ]

    /// Whether BoringSSL accepts `rules` as a TLS 1.2 cipher list and leaves at least one
    /// cipher enabled.
    static func ciphersAccepted(_ rules: String) -> Bool {
        var active = Set<Int>()
        var killed = Set<Int>()
        var text = Substring(rules)
        if text.hasPrefix("DEFAULT") {
            guard apply(Substring("ALL"), active: &active, killed: &killed) else { return false }
            text = text.dropFirst(7)
            if text.first == ":" { text = text.dropFirst() }
        }
        guard apply(text, active: &active, killed: &killed) else { return false }
        return !active.isEmpty
    }

    private static func isSeparator(_ c: UInt8) -> Bool { c == 0x3A || c == 0x20 || c == 0x3B || c == 0x2C }

    private static func isWordByte(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x2E
            || c == 0x5F
    }

    private enum Rule { case add, delete, order, kill, special }

    /// Runs the items of `text`; false where BoringSSL reports an error.
    private static func apply(_ text: Substring, active: inout Set<Int>, killed: inout Set<Int>) -> Bool {
        let bytes = Array(text.utf8)
        var index = 0
        while index < bytes.count {
            let c = bytes[index]
            let rule: Rule
            switch c {
            case UInt8(ascii: "-"): rule = .delete
            case UInt8(ascii: "+"): rule = .order
            case UInt8(ascii: "!"): rule = .kill
            case UInt8(ascii: "@"): rule = .special
            case UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "|"): return false
            default: rule = .add
            }
            if rule != .add { index += 1 }
            if isSeparator(c) {
                index += 1
                continue
            }
            var alias = Alias(name: "", includesDeprecated: rule != .add)
            var exact: Int?
            var skip = false
            var multi = false
            var lastWord: [UInt8] = []
            while true {
                let start = index
                while index < bytes.count && isWordByte(bytes[index]) { index += 1 }
                guard index > start else { return false }
                let word = String(decoding: bytes[start..<index], as: UTF8.self)
                lastWord = Array(bytes[start..<index])
                let next = index < bytes.count ? bytes[index] : 0
                if rule == .special { break }
                if !multi && next != UInt8(ascii: "+") {
                    exact = ciphers.firstIndex { $0.name == word || $0.standardName == word }
                }
                if exact == nil {
                    if let found = aliases.first(where: { $0.name == word }) {
                        alias.keyExchange &= found.keyExchange
                        alias.authentication &= found.authentication
                        alias.encryption &= found.encryption
                        alias.mac &= found.mac
                        alias.includesDeprecated = alias.includesDeprecated || found.includesDeprecated
                        if alias.minimumVersion != 0 && alias.minimumVersion != found.minimumVersion {
                            skip = true
                        } else {
                            alias.minimumVersion = found.minimumVersion
                        }
                    } else {
                        skip = true
                    }
                }
                guard next == UInt8(ascii: "+") else { break }
                index += 1
                multi = true
            }
            if rule == .special {
                guard lastWord == Array("STRENGTH".utf8) else { return false }
                while index < bytes.count && !isSeparator(bytes[index]) { index += 1 }
                continue
            }
            if skip { continue }
            for (position, cipher) in ciphers.enumerated() {
                if let exact {
                    guard exact == position else { continue }
                } else {
                    guard alias.keyExchange & cipher.keyExchange != 0,
                        alias.authentication & cipher.authentication != 0,
                        alias.encryption & cipher.encryption != 0, alias.mac & cipher.mac != 0,
                        alias.minimumVersion == 0 || alias.minimumVersion == cipher.minimumVersion,
                        alias.includesDeprecated || !cipher.deprecated
                    else { continue }
                }
                switch rule {
                case .add: if !killed.contains(position) { active.insert(position) }
                case .delete: active.remove(position)
                case .kill:
                    active.remove(position)
                    killed.insert(position)
                case .order, .special: break
                }
            }
        }
        return true
    }

    /// The TLS 1.3 suites OpenSSL knows by name (`tls-ciphersuites`).
    static let tls13Suites: Set<String> = [
        "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256",
    ]

    /// Whether `suites` (colon-separated) names only TLS 1.3 suites; empty is the default.
    static func suitesAccepted(_ suites: String) -> Bool {
        suites.isEmpty
            || suites.split(separator: ":", omittingEmptySubsequences: false).allSatisfy {
                tls13Suites.contains(String($0))
            }
    }

    /// The TLS versions of `tls-protocols` ("TLSv1.2 TLSv1.3", case-insensitive, Redis's
    /// words) as the lowest and highest; nil when a word is unknown or the versions named
    /// leave a gap (SwiftNIO SSL sets a range, not a set).
    static func protocolRange(_ text: String) -> ClosedRange<Int>? {
        guard !text.isEmpty else { return 2...3 }
        let known = ["tlsv1": 0, "tlsv1.1": 1, "tlsv1.2": 2, "tlsv1.3": 3]
        var versions = Set<Int>()
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            guard let version = known[word.lowercased()] else { return nil }
            versions.insert(version)
        }
        guard let low = versions.min(), let high = versions.max(), versions.count == high - low + 1 else {
            return nil
        }
        return low...high
    }
}
