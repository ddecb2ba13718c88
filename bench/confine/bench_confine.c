/* The cost of confining a worker: fork + _exit + waitpid alone, against the
 * same with each step of sbx_confine_apply added on its own, the whole
 * default confinement, and namespaces (joined from those prepared once; the
 * pid namespace made per fork). All configurations run interleaved, round
 * by round, in the same run, so drift hits them alike. For each: p50 of the
 * whole fork-to-reaped time, its delta from the baseline in µs and the
 * ratio, and p50 of the apply call itself timed inside the child. Also the
 * one-time cost of sbx_confine_prepare. A benchmark, never a test.
 * Usage: bench_confine [ROUNDS]   (needs root for namespaces) */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/common/bench_stats.h"
#include "policy/confine.h"
#include "policy/confine_internal.h"
#include "policy/policy.h"

static double p50_us(uint64_t *v, int n)
{
    return bench_percentile_ns(v, (size_t)n, 50) / 1e3;
}

struct config {
    const char *name;
    unsigned steps;
    int policy; /* 0 default, 1 namespaces */
    uint64_t *total, *apply;
    bool skip;
};

/* One fork, the steps in the child, timed there and reported by pipe. */
static int run_once(const struct sbx_confine *c, unsigned steps, uint64_t *total, uint64_t *apply)
{
    int p[2];
    if (pipe(p)) return -1;
    struct sbx_confine_error err;
    uint64_t t0 = bench_now_ns();
    pid_t pid = sbx_confine_fork(c, &err);
    if (pid == 0) {
        close(p[0]);
        uint64_t a = bench_now_ns();
        int rc = steps ? sbx_confine_apply_steps(c, steps, &err) : 0;
        uint64_t d = bench_now_ns() - a;
        if (rc) d = UINT64_MAX;
        if (write(p[1], &d, sizeof d) != sizeof d) _exit(2);
        _exit(0);
    }
    close(p[1]);
    if (pid < 0) {
        close(p[0]);
        return -1;
    }
    int status;
    uint64_t d = UINT64_MAX;
    ssize_t n = read(p[0], &d, sizeof d);
    waitpid(pid, &status, 0);
    *total = bench_now_ns() - t0;
    close(p[0]);
    *apply = d;
    return n == sizeof d && d != UINT64_MAX && WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -1;
}

static Sbx__Policy *ns_policy(const char *json)
{
    Sbx__Policy *p;
    struct sbx_policy_error err;
    if (sbx_policy_from_json(json, strlen(json), &p, &err)) {
        fprintf(stderr, "bench_confine: %s\n", err.msg);
        exit(1);
    }
    return p;
}

static double prepare_us(const Sbx__Policy *p, struct sbx_confine **out, char *why, size_t n)
{
    struct sbx_confine_error err;
    uint64_t t = bench_now_ns();
    if (sbx_confine_prepare(p, out, &err)) {
        sbx_confine_error_text(&err, why, n);
        *out = NULL;
        return -1;
    }
    return (bench_now_ns() - t) / 1e3;
}

/* Rounds of the seccomp step alone and of the whole default confinement,
 * in a process that first installs the zygote's filter as sbx builds it
 * (cache prefix + denylist), or the denylist alone as before the prefix:
 * filters cannot be removed, so each block runs in a child of its own.
 * out[4 * r ..]: seccomp total, seccomp apply, all total, all apply. */
static int beneath_zygote_filter(const struct sbx_confine *zc, bool prefix, int rounds,
                                 uint64_t *out)
{
    int p[2];
    if (pipe(p)) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        struct sbx_confine_error err;
        struct sock_fprog deny = {0};
        int rc = prefix ? sbx_confine_zygote(&err)
                        : confine_generate_zygote_denylist(&deny, &err) ||
                              prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
                              syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &deny);
        unsigned all = SBX_CONFINE_ALL & ~SBX_CONFINE_NAMESPACES;
        for (int r = 0; !rc && r < rounds; r++) {
            uint64_t *v = out + 4 * r;
            rc = run_once(zc, SBX_CONFINE_SECCOMP, &v[0], &v[1]) || run_once(zc, all, &v[2], &v[3]);
        }
        size_t len = 4 * (size_t)rounds * sizeof *out;
        _exit(rc || write(p[1], out, len) != (ssize_t)len);
    }
    close(p[1]);
    size_t len = 4 * (size_t)rounds * sizeof *out, got = 0;
    for (ssize_t n; got < len && (n = read(p[0], (char *)out + got, len - got)) > 0;)
        got += (size_t)n;
    close(p[0]);
    int status;
    waitpid(pid, &status, 0);
    return got == len && WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -1;
}

static void print_beneath(const char *name, uint64_t *v, int n)
{
    uint64_t *col = calloc((size_t)n, sizeof *col);
    double p[4];
    for (int c = 0; c < 4; c++) {
        for (int i = 0; i < n; i++)
            col[i] = v[4 * i + c];
        p[c] = p50_us(col, n);
    }
    printf("%-36s %9.1f us %11.1f us %9.1f us %11.1f us\n", name, p[0], p[1], p[2], p[3]);
    free(col);
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 2000;
    if (rounds < 10) rounds = 10;
    Sbx__Policy *def = sbx_policy_default();
    Sbx__Policy *nsp = ns_policy("{\"namespaces\": {\"user\": {\"enabled\": true}, \"net\": "
                                 "{\"enabled\": true}, \"ipc\": {\"enabled\": true}, \"uts\": "
                                 "{\"enabled\": true}, \"mount\": {\"enabled\": true}}}");
    Sbx__Policy *pidp = ns_policy("{\"namespaces\": {\"pid\": {\"enabled\": true}}}");
    struct sbx_confine *c[3];
    char why[600];
    double prep[3];
    prep[0] = prepare_us(def, &c[0], why, sizeof why);
    if (!c[0]) {
        fprintf(stderr, "bench_confine: prepare: %s\n", why);
        return 1;
    }
    prep[1] = prepare_us(nsp, &c[1], why, sizeof why);
    if (!c[1]) printf("namespaces (user, net, ipc, uts, mount) unavailable: %s\n", why);
    prep[2] = prepare_us(pidp, &c[2], why, sizeof why);
    if (!c[2]) printf("pid namespace unavailable: %s\n", why);

    unsigned all = SBX_CONFINE_ALL & ~SBX_CONFINE_NAMESPACES;
    struct config cfg[] = {
        {.name = "fork + _exit + waitpid (baseline)", .steps = 0, .policy = 0},
        {.name = "+ PR_SET_DUMPABLE 0", .steps = SBX_CONFINE_DUMPABLE, .policy = 0},
        {.name = "+ rlimits (5 setrlimit)", .steps = SBX_CONFINE_RLIMITS, .policy = 0},
        {.name = "+ drop capabilities (all sets)", .steps = SBX_CONFINE_CAPS, .policy = 0},
        {.name = "+ uid/gid 65534 (as root)", .steps = SBX_CONFINE_IDENTITY, .policy = 0},
        {.name = "+ PR_SET_NO_NEW_PRIVS", .steps = SBX_CONFINE_NO_NEW_PRIVS, .policy = 0},
        {.name = "+ seccomp filter install", .steps = SBX_CONFINE_SECCOMP, .policy = 0},
        {.name = "default confinement (all steps)", .steps = all, .policy = 0},
        {.name = "+ join user/net/ipc/uts/mount ns", .steps = SBX_CONFINE_ALL, .policy = 1},
        {.name = "+ new pid ns per fork", .steps = SBX_CONFINE_ALL, .policy = 2},
    };
    const int ncfg = sizeof cfg / sizeof cfg[0];
    for (int i = 0; i < ncfg; i++) {
        cfg[i].total = calloc((size_t)rounds, sizeof(uint64_t));
        cfg[i].apply = calloc((size_t)rounds, sizeof(uint64_t));
        cfg[i].skip = !c[cfg[i].policy];
    }
    /* Warm-up, then interleaved rounds. */
    for (int i = 0; i < ncfg; i++)
        for (int k = 0; k < 20 && !cfg[i].skip; k++) {
            uint64_t t, a;
            run_once(c[cfg[i].policy], cfg[i].steps, &t, &a);
        }
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < ncfg; i++) {
            if (cfg[i].skip) continue;
            if (run_once(c[cfg[i].policy], cfg[i].steps, &cfg[i].total[r], &cfg[i].apply[r])) {
                fprintf(stderr, "bench_confine: %s failed in the child\n", cfg[i].name);
                return 1;
            }
        }

    printf("%d rounds, p50 per configuration, same run\n\n", rounds);
    printf("%-36s %12s %10s %7s %14s\n", "configuration", "fork..reaped", "delta", "ratio",
           "apply in child");
    double base = 0;
    for (int i = 0; i < ncfg; i++) {
        if (cfg[i].skip) {
            printf("%-36s %12s\n", cfg[i].name, "(skipped)");
            continue;
        }
        double t = p50_us(cfg[i].total, rounds), a = p50_us(cfg[i].apply, rounds);
        if (i == 0) base = t;
        printf("%-36s %9.1f us %+7.1f us %6.2fx %11.1f us\n", cfg[i].name, t, t - base, t / base,
               a);
    }
    /* As sbx's workers are confined: the zygote empties its bounding set
     * once at start-up (sbx_confine_drop_bounding), so its children skip
     * that step. Irreversible in this process, so measured last, against a
     * baseline measured again in the same rounds. */
    struct sbx_confine *zc = NULL;
    if (sbx_confine_drop_bounding() == 0 && prepare_us(def, &zc, why, sizeof why) >= 0 && zc) {
        uint64_t *bt = calloc((size_t)rounds, sizeof(uint64_t)),
                 *ba = calloc((size_t)rounds, sizeof(uint64_t));
        uint64_t *zt = calloc((size_t)rounds, sizeof(uint64_t)),
                 *za = calloc((size_t)rounds, sizeof(uint64_t));
        for (int r = 0; r < rounds; r++)
            if (run_once(zc, 0, &bt[r], &ba[r]) || run_once(zc, all, &zt[r], &za[r])) {
                fprintf(stderr, "bench_confine: the zygote-style round failed in the child\n");
                return 1;
            }
        double b = p50_us(bt, rounds), t = p50_us(zt, rounds), a = p50_us(za, rounds);
        printf("\nas in sbx (the zygote emptied its bounding set once; same rounds):\n");
        printf("%-36s %9.1f us\n", "fork + _exit + waitpid (baseline)", b);
        printf("%-36s %9.1f us %+7.1f us %6.2fx %11.1f us\n", "default confinement (all steps)", t,
               t - b, t / b, a);
        free(bt), free(ba), free(zt), free(za);

        /* Beneath the zygote's filter, as every worker is: its cache prefix
         * against the denylist alone, in alternating blocks. */
        enum { BLOCKS = 4 };
        int per = rounds / BLOCKS;
        uint64_t *with = calloc(4 * (size_t)per * BLOCKS, sizeof(uint64_t)),
                 *without = calloc(4 * (size_t)per * BLOCKS, sizeof(uint64_t));
        bool ok = true;
        for (int blk = 0; ok && blk < BLOCKS; blk++)
            ok = !beneath_zygote_filter(zc, false, per, without + 4 * per * blk) &&
                 !beneath_zygote_filter(zc, true, per, with + 4 * per * blk);
        if (ok) {
            printf("\nbeneath the zygote's filter, as workers are (%d alternating blocks):\n"
                   "%-36s %12s %14s %12s %14s\n",
                   BLOCKS, "zygote filter", "seccomp step", "(apply)", "all steps", "(apply)");
            print_beneath("denylist alone (before)", without, per * BLOCKS);
            print_beneath("cache prefix + denylist (sbx)", with, per * BLOCKS);
        } else {
            fprintf(stderr, "bench_confine: a round beneath the zygote's filter failed\n");
        }
        free(with), free(without);
        sbx_confine_free(zc);
    }
    printf("\nsbx_confine_prepare (once per policy, in the zygote):\n");
    printf("  default policy (build + export the filter): %8.1f us\n", prep[0]);
    if (c[1]) printf("  + create user/net/ipc/uts/mount ns:         %8.1f us\n", prep[1]);
    if (c[2]) printf("  + check the pid ns:                         %8.1f us\n", prep[2]);
    printf("  filter: %u BPF instructions\n", sbx_confine_filter(c[0])->len);
    for (int i = 0; i < 3; i++)
        sbx_confine_free(c[i]);
    for (int i = 0; i < ncfg; i++)
        free(cfg[i].total), free(cfg[i].apply);
    sbx_policy_free(def), sbx_policy_free(nsp), sbx_policy_free(pidp);
    return 0;
}
