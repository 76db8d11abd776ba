//! MEMORY DOCTOR, MALLOC-STATS and PURGE, and MODULE (Strata loads no modules: LIST is
//! empty; LOAD, LOADEX and UNLOAD are refused as Redis refuses them while
//! `enable-module-command` is off, which is its default).

import CMallocInfo
import StrataEngine

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension ServerCore {
    /// MEMORY DOCTOR's report, as Redis words its findings: too little memory to judge,
    /// a past peak far above today's use, high fragmentation, or nothing found.
    func memoryDoctor() -> String {
        let used = ProcessMemory.allocatedBytes()
        let rss = ProcessMemory.residentBytes()
        peakMemory = max(peakMemory, used)
        if used < 5 * 1024 * 1024 {
            return
                "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n"
        }
        var findings: [String] = []
        if peakMemory > used / 2 * 3 {
            findings.append(
                " * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n"
            )
        }
        if used > 0 && rss > used / 10 * 14 && rss - used > 10 * 1024 * 1024 {
            findings.append(
                " * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc.\n\n"
            )
        }
        guard !findings.isEmpty else {
            return
                "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
        }
        return "Sam, I detected a few issues in this Redis instance memory implants:\n\n" + findings.joined()
            + "I'm here to keep you safe, Sam. I want to help you.\n"
    }

    /// MEMORY MALLOC-STATS: the allocator's own report.
    func mallocStats() -> Reply {
        guard let text = strata_malloc_stats_text() else {
            return .verbatim("Stats not supported for the current allocator")
        }
        defer { free(text) }
        return .verbatim(String(cString: text))
    }

    /// MODULE's subcommands.
    func moduleCommand(_ command: ServerCommand) -> Reply {
        switch command {
        case .moduleList:
            return .array([])
        case .moduleHelp:
            return ServerCore.helpReply([
                "MODULE <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", "LIST",
                "    Return a list of loaded modules.", "LOAD <path> [<arg> ...]",
                "    Load a module library from <path>, passing to it any optional arguments.",
                "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
                "    Load a module library from <path>, while passing it module configurations and optional arguments.",
                "UNLOAD <name>", "    Unload a module.", "HELP", "    Prints this help.",
            ])
        default:
            return .error(
                "ERR MODULE command not allowed. If the enable-module-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server."
            )
        }
    }
}
