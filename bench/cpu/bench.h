/* Shared by the CPU benchmark programs: each defines `run`, which does a
 * fixed amount of work from scratch (no state survives between calls) and
 * returns a checksum, so native, node and sbx can be checked against each
 * other. No libc: the same source builds for wasm32 with -nostdlib. */
#ifndef SBX_BENCH_CPU_BENCH_H
#define SBX_BENCH_CPU_BENCH_H

#include <stdint.h>

/* The benchmark: its checksum, as the bits of an i32. */
int run(void);

/* xorshift32: a fast, deterministic PRNG (seed must be nonzero). */
static inline uint32_t bench_rand(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

#endif
