//! TLS at run time: the contexts new connections are made with, built at start-up when
//! TLS is in use (a bad certificate stops the server, as Redis's "Failed to configure
//! TLS"), and again by `CONFIG SET` of a `tls-*` parameter. A new context serves only
//! connections made after it; connections already made keep theirs. A change that does not
//! build keeps the old context and answers Redis's "Unable to update TLS configuration.
//! Check server logs.", the reason logged. `CONFIG SET tls-port` moves the TLS listeners.

import NIOCore
import NIOSSL

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The TLS state of a running server (event-loop confined).
final class TLSRuntime {
    /// The contexts for new connections; nil while TLS was never configured.
    var contexts: TLSContexts?
    /// Moves the TLS listeners to a port (0: none), set by ``StrataServer``; returns an
    /// error text when the port cannot be listened on.
    var relisten: ((Int) -> String?)?
}

extension ServerCore {
    /// What Redis answers when the TLS configuration cannot be applied.
    static let tlsRefusal = "Unable to update TLS configuration. Check server logs."

    /// Builds the contexts for `config.tls` at start-up, when TLS is in use.
    ///
    /// - Returns: false (the reason logged as Redis logs it) when they cannot be built.
    func configureTLSAtStart() -> Bool {
        guard config.tls.inUse else { return true }
        do {
            tlsRuntime.contexts = try TLSContextBuilder.build(config.tls)
            return true
        } catch {
            logger.critical("\(error)")
            logger.critical("Failed to configure TLS. Check logs for more info.")
            return false
        }
    }

    /// The side effects of a `CONFIG SET` touching `tls-*` parameters: new contexts, then
    /// the listeners moved, each undone if a later step fails.
    func tlsApplySteps(from old: ServerConfig, to new: ServerConfig) -> [ConfigSetTransaction.Step] {
        var steps: [ConfigSetTransaction.Step] = []
        let changed = ConfigDirective.tls.first { $0.get(old) != $0.get(new) }?.name
        guard let changed else { return steps }
        let needsContexts =
            new.tls.inUse && (tlsRuntime.contexts == nil || !new.tls.sameContexts(as: old.tls))
        if needsContexts {
            let previous = tlsRuntime.contexts
            steps.append(
                .init(
                    name: changed,
                    apply: { [self] in
                        do {
                            tlsRuntime.contexts = try TLSContextBuilder.build(new.tls)
                            logger.notice("TLS configuration applied (\(changed)): new connections use it")
                            return nil
                        } catch {
                            logger.warning("\(error)")
                            logger.warning(
                                "Failed applying new configuration. Possibly related to new \(changed) setting. Restoring previous settings."
                            )
                            return ServerCore.tlsRefusal
                        }
                    },
                    undo: { [self] in tlsRuntime.contexts = previous }))
        }
        if new.tls.port != old.tls.port {
            steps.append(
                .init(
                    name: "tls-port",
                    apply: { [self] in tlsRuntime.relisten?(new.tls.port) },
                    undo: { [self] in _ = tlsRuntime.relisten?(old.tls.port) }))
        }
        return steps
    }
}
