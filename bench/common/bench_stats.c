#include "bench/common/bench_stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t bench_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

uint64_t bench_percentile_ns(uint64_t *v, size_t n, int p)
{
    if (!n) return 0;
    qsort(v, n, sizeof *v, cmp_u64);
    size_t i = n * (size_t)p / 100;
    return v[i < n ? i : n - 1];
}

void bench_loadavg(char *buf, size_t len)
{
    buf[0] = 0;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (!fgets(buf, (int)len, f)) buf[0] = 0;
        fclose(f);
    }
    buf[strcspn(buf, "\n")] = 0;
}
