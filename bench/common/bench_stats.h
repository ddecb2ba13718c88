/* What every benchmark in bench/ measures with: a monotonic clock,
 * percentiles of a sample, and the machine's load (printed with results,
 * since this is a shared 2-vCPU VM). */
#ifndef SBX_BENCH_STATS_H
#define SBX_BENCH_STATS_H

#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_now_ns(void);

/* The p-th percentile (0..100) of v[0..n) in nanoseconds; sorts v. */
uint64_t bench_percentile_ns(uint64_t *v, size_t n, int p);

/* /proc/loadavg's line, without the newline ("" if unreadable). */
void bench_loadavg(char *buf, size_t len);

#endif
