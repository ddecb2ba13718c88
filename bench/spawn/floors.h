/* What this machine charges for the two things every spawn through the
 * daemon must do, whatever sbx does around them: pass a message to another
 * process and wait for its answer, and fork a process and reap it. Measured
 * in the same run as the spawns, as their floor. */
#ifndef SBX_BENCH_SPAWN_FLOORS_H
#define SBX_BENCH_SPAWN_FLOORS_H

struct round_trip {
    double p50_us;          /* one message there and one back, wall clock */
    double cpu_us_per_side; /* user+sys per round trip, mean of the two processes */
};

/* n round trips over a SOCK_SEQPACKET socketpair between this process and
 * a child, both pinned to CPU 0 (same_cpu) or to CPUs 0 and 1. -1 if it
 * could not run (one CPU only, or a failed call). */
int floor_round_trip(int n, int same_cpu, struct round_trip *out);

/* fork + _exit + waitpid of the calling process, n times in each of
 * `loops` concurrent processes: forks per second over all of them, or -1. */
double floor_forks_per_s(int n, int loops);

#endif
