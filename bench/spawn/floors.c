/* Floors for bench_spawn: a message round trip between two processes and
 * a bare fork (floors.h). */
#include "bench/spawn/floors.h"

#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/common/bench_stats.h"

static int pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set);
}

static double cpu_us(const struct rusage *r)
{
    return (double)(r->ru_utime.tv_sec + r->ru_stime.tv_sec) * 1e6 +
           (double)(r->ru_utime.tv_usec + r->ru_stime.tv_usec);
}

/* The child answers each message until the socket closes. */
static _Noreturn void echo(int fd, int cpu)
{
    char b[64];
    if (pin(cpu)) _exit(1);
    for (ssize_t got; (got = read(fd, b, sizeof b)) > 0;)
        if (write(fd, b, (size_t)got) != got) _exit(1);
    _exit(0);
}

int floor_round_trip(int n, int same_cpu, struct round_trip *out)
{
    if (!same_cpu && sysconf(_SC_NPROCESSORS_ONLN) < 2) return -1;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(sv[0]);
        echo(sv[1], same_cpu ? 0 : 1);
    }
    close(sv[1]);
    uint64_t *t = calloc((size_t)n, sizeof *t);
    cpu_set_t was;
    int ok = pid > 0 && t && !sched_getaffinity(0, sizeof was, &was) && !pin(0);
    struct rusage r0, r1, rc;
    getrusage(RUSAGE_SELF, &r0);
    char msg[16] = "ping";
    for (int i = 0; ok && i < n; i++) {
        uint64_t a = bench_now_ns();
        ok = write(sv[0], msg, sizeof msg) == sizeof msg && read(sv[0], msg, sizeof msg) > 0;
        t[i] = bench_now_ns() - a;
    }
    getrusage(RUSAGE_SELF, &r1);
    sched_setaffinity(0, sizeof was, &was);
    close(sv[0]);
    int status = 0;
    if (pid > 0) wait4(pid, &status, 0, &rc);
    ok = ok && WIFEXITED(status) && !WEXITSTATUS(status);
    if (ok) {
        out->p50_us = bench_percentile_ns(t, (size_t)n, 50) / 1e3;
        out->cpu_us_per_side = (cpu_us(&r1) - cpu_us(&r0) + cpu_us(&rc)) / 2 / n;
    }
    free(t);
    return ok ? 0 : -1;
}

double floor_forks_per_s(int n, int loops)
{
    uint64_t t0 = bench_now_ns();
    int started = 0;
    for (int l = 0; l < loops; l++) {
        pid_t pid = fork();
        if (pid == 0) {
            for (int i = 0; i < n; i++) {
                pid_t c = fork();
                if (c == 0) _exit(0);
                if (c < 0 || waitpid(c, NULL, 0) != c) _exit(1);
            }
            _exit(0);
        }
        started += pid > 0;
    }
    int ok = started == loops, status;
    while (wait(&status) > 0)
        ok = ok && WIFEXITED(status) && !WEXITSTATUS(status);
    double s = (double)(bench_now_ns() - t0) / 1e9;
    return ok && s > 0 ? (double)n * loops / s : -1;
}
