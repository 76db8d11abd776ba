#ifndef CMALLOCINFO_H
#define CMALLOCINFO_H
#include <stddef.h>
#include <stdint.h>

/// Bytes allocated by the application and not yet freed (jemalloc `stats.allocated`).
size_t strata_malloc_allocated_bytes(void);

/// Bytes the calling thread has allocated minus bytes it has freed, from jemalloc's
/// per-thread counters: one memory read, cheap enough to call before every command.
uint64_t strata_thread_net_allocated(void);
/// Returns unused dirty pages of every arena to the system.
void strata_malloc_trim(void);
/// Bytes of freed pages jemalloc keeps (dirty) before it returns them to the system.
size_t strata_malloc_dirty_bytes(void);

/// Turns on jemalloc's background thread, which returns freed pages to the system as they
/// age (Redis's `jemalloc-bg-thread yes`); 0 on success.
int strata_malloc_enable_background_thread(void);
/// The allocator's version string.
const char *strata_malloc_version(void);
/// Sets the calling thread's nice value (Linux: per thread); returns the previous one.
int strata_set_thread_nice(int nice);

/// jemalloc's statistics report (`malloc_stats_print`) as a heap string the caller
/// frees; NULL when it could not be collected.
char *strata_malloc_stats_text(void);

#endif
