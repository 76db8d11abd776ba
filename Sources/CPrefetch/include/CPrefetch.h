#ifndef CPREFETCH_H
#define CPREFETCH_H
// A cache prefetch hint Swift cannot express: the keyspace table reads a slot's tag and
// its key from two different cache lines, and asking for both at once overlaps the two
// memory latencies instead of paying them one after the other. Inlined into Swift callers.
static inline __attribute__((always_inline)) void strata_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}
#endif
