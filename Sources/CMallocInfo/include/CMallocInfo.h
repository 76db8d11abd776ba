#ifndef CMALLOCINFO_H
#define CMALLOCINFO_H
#include <stddef.h>

/// Bytes handed out by malloc and not yet freed (glibc mallinfo2: arena + mmapped).
size_t strata_malloc_allocated_bytes(void);
/// Returns free heap pages to the system.
void strata_malloc_trim(void);
/// Limits glibc to one arena, so the figure above covers every thread.
void strata_malloc_single_arena(void);

#endif
