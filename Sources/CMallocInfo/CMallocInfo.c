// Allocator statistics and control. The server links jemalloc (as Redis does): lower
// per-allocation overhead than glibc malloc for many small values, size classes without
// headers, and exact statistics (`stats.allocated`) that cover every thread.
#include "CMallocInfo.h"
#include <jemalloc/jemalloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

size_t strata_malloc_allocated_bytes(void) {
    uint64_t epoch = 1;
    size_t size = sizeof(epoch);
    mallctl("epoch", &epoch, &size, &epoch, size);
    size_t allocated = 0;
    size = sizeof(allocated);
    if (mallctl("stats.allocated", &allocated, &size, NULL, 0) != 0) return 0;
    return allocated;
}

size_t strata_malloc_dirty_bytes(void) {
    uint64_t epoch = 1;
    size_t size = sizeof(epoch);
    mallctl("epoch", &epoch, &size, &epoch, size);
    char name[64];
    snprintf(name, sizeof(name), "stats.arenas.%u.pdirty", (unsigned)MALLCTL_ARENAS_ALL);
    size_t pages = 0;
    size = sizeof(pages);
    if (mallctl(name, &pages, &size, NULL, 0) != 0) return 0;
    long page = sysconf(_SC_PAGESIZE);
    return pages * (size_t)(page > 0 ? page : 4096);
}

void strata_malloc_trim(void) {
    char name[64];
    snprintf(name, sizeof(name), "arena.%u.purge", (unsigned)MALLCTL_ARENAS_ALL);
    mallctl(name, NULL, NULL, NULL, 0);
}

const char *strata_malloc_version(void) {
    const char *version = "unknown";
    size_t size = sizeof(version);
    mallctl("version", &version, &size, NULL, 0);
    return version;
}

uint64_t strata_thread_net_allocated(void) {
    static __thread uint64_t *allocated = NULL;
    static __thread uint64_t *deallocated = NULL;
    if (allocated == NULL || deallocated == NULL) {
        size_t size = sizeof(uint64_t *);
        if (mallctl("thread.allocatedp", &allocated, &size, NULL, 0) != 0) return 0;
        size = sizeof(uint64_t *);
        if (mallctl("thread.deallocatedp", &deallocated, &size, NULL, 0) != 0) return 0;
        if (allocated == NULL || deallocated == NULL) return 0;
    }
    return *allocated - *deallocated;
}

int strata_set_thread_nice(int nice) {
#ifdef SYS_gettid
    id_t thread = (id_t)syscall(SYS_gettid);
    int previous = getpriority(PRIO_PROCESS, thread);
    setpriority(PRIO_PROCESS, thread, nice);
    return previous;
#else
    (void)nice;
    return 0;
#endif
}

int strata_malloc_enable_background_thread(void) {
    bool enable = true;
    return mallctl("background_thread", NULL, NULL, &enable, sizeof(enable));
}

// MEMORY MALLOC-STATS: jemalloc's statistics report, collected into one heap string.
struct stats_buffer {
    char *text;
    size_t length;
    size_t capacity;
};

static void stats_append(void *opaque, const char *part) {
    struct stats_buffer *buffer = opaque;
    size_t add = strlen(part);
    if (buffer->length + add + 1 > buffer->capacity) {
        size_t capacity = buffer->capacity ? buffer->capacity : 4096;
        while (buffer->length + add + 1 > capacity) capacity *= 2;
        char *grown = realloc(buffer->text, capacity);
        if (grown == NULL) return;
        buffer->text = grown;
        buffer->capacity = capacity;
    }
    memcpy(buffer->text + buffer->length, part, add);
    buffer->length += add;
    buffer->text[buffer->length] = 0;
}

char *strata_malloc_stats_text(void) {
    struct stats_buffer buffer = {NULL, 0, 0};
    malloc_stats_print(stats_append, &buffer, NULL);
    return buffer.text;
}
