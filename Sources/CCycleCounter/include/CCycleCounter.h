#ifndef CCYCLECOUNTER_H
#define CCYCLECOUNTER_H
#include <stdint.h>
// The processor's constant-rate cycle counter, read with one instruction. The server times
// every command (command statistics, latency tracking, the slow log); through the vDSO's
// clock_gettime that reading cost about 20 ns a command. Inlined into Swift callers.
// Returns 0 where there is no such counter (see strata_cycle_counter_available).
static inline __attribute__((always_inline)) uint64_t strata_cycle_counter(void) {
#if defined(__x86_64__)
    return __builtin_ia32_rdtsc();
#elif defined(__aarch64__)
    uint64_t value;
    __asm__ __volatile__("mrs %0, cntvct_el0" : "=r"(value));
    return value;
#else
    return 0;
#endif
}

// Whether this architecture has the counter at all (whether it ticks at a constant rate
// is the caller's to check).
static inline int strata_cycle_counter_available(void) {
#if defined(__x86_64__) || defined(__aarch64__)
    return 1;
#else
    return 0;
#endif
}
#endif
