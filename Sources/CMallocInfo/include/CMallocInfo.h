#ifndef CMALLOCINFO_H
#define CMALLOCINFO_H
#include <stddef.h>

/// Bytes allocated by the application and not yet freed (jemalloc `stats.allocated`).
size_t strata_malloc_allocated_bytes(void);
/// Returns unused dirty pages of every arena to the system.
void strata_malloc_trim(void);
/// The allocator's version string.
const char *strata_malloc_version(void);

#endif
