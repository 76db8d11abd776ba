#include "CMallocInfo.h"
#if defined(__GLIBC__)
#include <malloc.h>
#endif

size_t strata_malloc_allocated_bytes(void) {
#if defined(__GLIBC__)
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
#else
    return 0;
#endif
}

void strata_malloc_trim(void) {
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}

void strata_malloc_single_arena(void) {
#if defined(__GLIBC__)
    mallopt(M_ARENA_MAX, 1);
#endif
}
