/* Cold `sbx run hello.wasm` end to end (a new supervisor and zygote per
 * run: exec, load, compile, fork the worker, confine, run, reap) against,
 * in the same run and interleaved run by run: fork+exec of a static native
 * hello, node's WASI running the same .wasm, and `sbx --connect` to a warm
 * daemon (the same program through `sbx serve`). Every run's stdout must
 * be "Hello, world!\n". p50/p99 wall time from posix_spawn to waitpid, and
 * the ratios to native. A benchmark, never a test.
 * Usage: bench_cold_run SBX HELLO.wasm NATIVE_HELLO WASI_RUN_NODE.mjs [RUNS]
 *   RUNS per configuration (default 200); node is skipped if absent. */
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "bench/common/bench_stats.h"

extern char **environ;

#define TARGET_COLD_MS        5.0
#define TARGET_OVER_NATIVE_MS 2.0

static double pct_ms(uint64_t *v, int n, int p)
{
    return bench_percentile_ns(v, (size_t)n, p) / 1e6;
}

/* Runs argv with stdout on a pipe (stderr to /dev/null, stdin /dev/null);
 * returns the wall time in ns, or 0 if it failed or printed something else. */
static uint64_t run_once(char *const argv[])
{
    int p[2];
    if (pipe(p)) return 0;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addclose(&fa, p[0]);
    posix_spawn_file_actions_addclose(&fa, p[1]);
    uint64_t t0 = bench_now_ns();
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    char out[64];
    size_t len = 0;
    ssize_t k;
    while ((k = read(p[0], out + len, sizeof out - 1 - len)) > 0)
        len += (size_t)k;
    close(p[0]);
    if (rc) return 0;
    int status;
    waitpid(pid, &status, 0);
    uint64_t t = bench_now_ns() - t0;
    out[len] = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) || strcmp(out, "Hello, world!\n")) return 0;
    return t;
}

struct config {
    const char *name;
    char *argv[12];
    uint64_t *ns;
    int n, failed;
};

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr,
                "usage: bench_cold_run SBX HELLO.wasm NATIVE_HELLO WASI_RUN_NODE.mjs [RUNS]\n");
        return 2;
    }
    int runs = argc > 5 ? atoi(argv[5]) : 200;
    if (runs < 10) runs = 10;
    char *sbx = argv[1], *wasm = argv[2];
    char sock[64];
    snprintf(sock, sizeof sock, "/tmp/sbx-bench-cold-%d.sock", getpid());
    pid_t daemon = fork();
    if (daemon == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 2);
        execl(sbx, sbx, "serve", "--socket", sock, (char *)NULL);
        _exit(127);
    }
    struct stat st;
    for (int i = 0; i < 500 && stat(sock, &st); i++)
        usleep(10000);

    struct config cfg[] = {
        {.name = "native static hello (fork+exec)", .argv = {argv[3], NULL}},
        {.name = "sbx run (cold)", .argv = {sbx, "run", wasm, NULL}},
        {.name = "sbx --connect run (warm daemon)",
         .argv = {sbx, "--connect", sock, "run", wasm, NULL}},
        {.name = "node WASI (same .wasm)",
         .argv = {"node", "--experimental-wasi-unstable-preview1", "--no-warnings", argv[4], wasm,
                  NULL}},
    };
    int ncfg = (int)(sizeof cfg / sizeof cfg[0]);
    for (int c = 0; c < ncfg; c++)
        cfg[c].ns = calloc((size_t)runs, sizeof(uint64_t));
    /* Warm-up: page cache, and node's absence detected once. */
    for (int c = 0; c < ncfg; c++)
        for (int i = 0; i < 3; i++)
            if (!run_once(cfg[c].argv)) cfg[c].failed = 1;
    char load0[128], load1[128];
    bench_loadavg(load0, sizeof load0);
    for (int i = 0; i < runs; i++)
        for (int c = 0; c < ncfg; c++) {
            if (cfg[c].failed) continue;
            uint64_t t = run_once(cfg[c].argv);
            if (!t) {
                fprintf(stderr, "bench_cold_run: %s failed; dropped\n", cfg[c].name);
                cfg[c].failed = 1;
                continue;
            }
            cfg[c].ns[cfg[c].n++] = t;
        }
    bench_loadavg(load1, sizeof load1);
    kill(daemon, SIGTERM);
    waitpid(daemon, NULL, 0);

    printf("%d runs per configuration, interleaved; %ld CPUs; loadavg before: %s; after: %s\n\n",
           runs, sysconf(_SC_NPROCESSORS_ONLN), load0, load1);
    printf("%-34s %9s %9s %9s %12s\n", "hello world, end to end", "p50 ms", "p99 ms", "vs native",
           "p50 - native");
    double native50 = cfg[0].failed ? 0 : pct_ms(cfg[0].ns, cfg[0].n, 50);
    double cold50 = 0;
    for (int c = 0; c < ncfg; c++) {
        if (cfg[c].failed) {
            printf("%-34s %9s\n", cfg[c].name, "skipped (failed or absent)");
            continue;
        }
        double p50 = pct_ms(cfg[c].ns, cfg[c].n, 50), p99 = pct_ms(cfg[c].ns, cfg[c].n, 99);
        if (c == 1) cold50 = p50;
        printf("%-34s %9.2f %9.2f %8.2fx %+11.2f\n", cfg[c].name, p50, p99,
               native50 ? p50 / native50 : 0, p50 - native50);
    }
    if (!cfg[1].failed) {
        printf("\ntarget cold sbx run < %.0f ms: p50 %.2f ms -> %s\n", TARGET_COLD_MS, cold50,
               cold50 < TARGET_COLD_MS ? "MET" : "NOT MET");
        printf("target within %.0f ms of native: +%.2f ms -> %s\n", TARGET_OVER_NATIVE_MS,
               cold50 - native50, cold50 - native50 < TARGET_OVER_NATIVE_MS ? "MET" : "NOT MET");
    }
    return 0;
}
