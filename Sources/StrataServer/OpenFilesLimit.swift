//! Raises the open-files limit for `maxclients` at start-up, as Redis does: each client
//! needs a descriptor and 32 are kept for files, listeners and the AOF. When the system
//! will not allow that many, `maxclients` is lowered to what fits, with Redis's warnings.

import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

enum OpenFilesLimit {
    /// Descriptors kept for other uses than clients.
    static let reserved = 32

    /// Raises `RLIMIT_NOFILE` to `maxClients + 32` if it is lower; returns the number of
    /// clients the limit allows (`maxClients` when it could be raised).
    static func adjust(maxClients: Int, logger: Logger) -> Int {
        let wanted = rlim_t(maxClients + reserved)
        var limit = rlimit()
        guard getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0 else {
            logger.warning(
                "Unable to obtain the current NOFILE limit (\(String(cString: strerror(errno)))), assuming 1024 and setting the max clients configuration accordingly."
            )
            return min(maxClients, 1024 - reserved)
        }
        if limit.rlim_cur >= wanted { return maxClients }
        var raised = limit
        raised.rlim_cur = wanted
        raised.rlim_max = max(limit.rlim_max, wanted)
        if setrlimit(RLIMIT_NOFILE_VALUE, &raised) == 0 { return maxClients }
        let reason = String(cString: strerror(errno))
        // Not allowed past the hard limit: take all of it.
        raised = limit
        raised.rlim_cur = limit.rlim_max
        let best = setrlimit(RLIMIT_NOFILE_VALUE, &raised) == 0 ? limit.rlim_max : limit.rlim_cur
        let clients = max(1, Int(best) - reserved)
        logger.warning(
            "You requested maxclients of \(maxClients) requiring at least \(wanted) max file descriptors.")
        logger.warning("Server can't set maximum open files to \(wanted) because of OS error: \(reason).")
        logger.warning(
            "Current maximum open files is \(best). maxclients has been reduced to \(clients) to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'."
        )
        return clients
    }

    #if canImport(Glibc)
        private static let RLIMIT_NOFILE_VALUE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
        private static let RLIMIT_NOFILE_VALUE = RLIMIT_NOFILE
    #endif
}
