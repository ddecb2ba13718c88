/* The native side of the CPU benchmarks: calls the program's run() N times
 * (argv[1], default 5) and prints "NAME CHECKSUM BEST_SECONDS". Every call
 * must give the same checksum. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench/cpu/bench.h"

#ifndef BENCH_NAME
#error "BENCH_NAME must name the benchmark"
#endif

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 5;
    if (runs < 1) runs = 1;
    double best = 1e300;
    unsigned first = 0;
    for (int i = 0; i < runs; i++) {
        double t0 = now();
        unsigned sum = (unsigned)run();
        double t = now() - t0;
        if (i == 0) {
            first = sum;
        } else if (sum != first) {
            fprintf(stderr, "%s: checksum changed between runs: %u, then %u\n", BENCH_NAME, first,
                    sum);
            return 1;
        }
        if (t < best) best = t;
    }
    printf("%s %u %.6f\n", BENCH_NAME, first, best);
    return 0;
}
