/* Front-end throughput: decode, and decode+validate, of whole modules in
 * MB/s (best of N runs, clock_gettime), against peers on the same file in
 * the same run:
 *   - node (V8): WebAssembly.validate, timed inside node (in process, like
 *     sbx's own numbers), and new WebAssembly.Module (a compile, not a pure
 *     validation; first run only, as V8 caches identical modules);
 *   - wabt's wasm-validate and `sbx validate`, each timed as a whole process
 *     (start-up and file reading included on both sides).
 * Ratios are peer time / sbx time: above 1 means sbx is faster.
 *
 *   bench_decode [--runs N] [--sbx PATH] FILE.wasm...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/frontend/spawn.h"
#include "jit/module.h"

#ifndef SBX_CLI_PATH
#define SBX_CLI_PATH "sbx"
#endif

/* Timed inside node, so process start-up is excluded: best validate time
 * of N runs and the time of the first compile, in milliseconds. */
static const char node_script[] =
    "const b = require('fs').readFileSync(process.argv[1]);"
    "const n = +process.argv[2];"
    "const ms = (f) => { const t = process.hrtime.bigint(); f();"
    "  return Number(process.hrtime.bigint() - t) / 1e6; };"
    "let ok = WebAssembly.validate(b), v = Infinity;"
    "for (let i = 0; i < n; i++) v = Math.min(v, ms(() => WebAssembly.validate(b)));"
    "let c = -1; try { c = ms(() => new WebAssembly.Module(b)); } catch (e) {}"
    "console.log(ok ? 1 : 0, v, c);";

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) &&
            fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
        *len = (size_t)n;
    }
    fclose(f);
    return buf;
}

/* Best time of `runs` loads (validate) or decodes; negative on error. */
static double best_in_process(const uint8_t *bytes, size_t len, int runs, int validate,
                              struct sbx_error *err)
{
    double best = -1;
    for (int i = 0; i < runs; i++) {
        double t0 = now();
        struct sbx_module *m =
            validate ? sbx_module_load(bytes, len, err) : sbx_module_decode(bytes, len, err);
        double t = now() - t0;
        if (!m) return -1;
        sbx_module_free(m);
        if (best < 0 || t < best) best = t;
    }
    return best;
}

static void row(const char *what, double seconds, size_t len, double sbx_seconds)
{
    printf("  %-46s %9.1f ms %8.1f MB/s", what, seconds * 1e3, (double)len / 1e6 / seconds);
    if (sbx_seconds > 0) printf("   peer/sbx %5.2fx", seconds / sbx_seconds);
    putchar('\n');
}

static void bench_node(const char *path, size_t len, int runs, double sbx_seconds)
{
    if (!spawn_found("node")) {
        printf("  node: not found, skipped\n");
        return;
    }
    char nruns[16], out[256];
    snprintf(nruns, sizeof nruns, "%d", runs);
    char *argv[] = {"node", "-e", (char *)node_script, (char *)path, nruns, NULL};
    int ok;
    double v_ms, c_ms;
    if (spawn_capture(argv, out, sizeof out) != 0 ||
        sscanf(out, "%d %lf %lf", &ok, &v_ms, &c_ms) != 3) {
        printf("  node: failed to run\n");
        return;
    }
    if (!ok) printf("  node: WebAssembly.validate says the module is INVALID\n");
    row("node WebAssembly.validate (in process)", v_ms / 1e3, len, sbx_seconds);
    if (c_ms >= 0)
        row("node new WebAssembly.Module (compile*, 1st run)", c_ms / 1e3, len, 0);
    else
        printf("  node new WebAssembly.Module: failed\n");
    printf("    (* V8 chooses how much to compile up front and may use background threads)\n");
}

static void bench_process(const char *label, char *const argv[], size_t len, int runs,
                          double sbx_seconds)
{
    if (!spawn_found(argv[0])) {
        printf("  %s: %s not found, skipped\n", label, argv[0]);
        return;
    }
    int status;
    double t = spawn_best_seconds(argv, runs, &status);
    if (t < 0)
        printf("  %s: exited with status %d\n", label, status);
    else
        row(label, t, len, sbx_seconds);
}

static int bench_file(const char *path, int runs, const char *sbx_cli)
{
    size_t len = 0;
    uint8_t *bytes = read_file(path, &len);
    if (!bytes) {
        fprintf(stderr, "bench_decode: cannot read %s\n", path);
        return 1;
    }
    struct sbx_error err = {.func_index = -1};
    struct sbx_module *m = sbx_module_load(bytes, len, &err);
    if (!m) {
        char msg[SBX_ERROR_MSG_MAX + 64];
        sbx_error_format(&err, msg, sizeof msg);
        fprintf(stderr, "bench_decode: %s: %s\n", path, msg);
        free(bytes);
        return 1;
    }
    printf("%s: %.1f MB, %u functions (%u defined), best of %d runs\n", path, (double)len / 1e6,
           m->nfuncs, m->nfuncs - m->nfunc_imports, runs);
    sbx_module_free(m);

    double decode = best_in_process(bytes, len, runs, 0, &err);
    double load = best_in_process(bytes, len, runs, 1, &err);
    row("sbx decode (in process)", decode, len, 0);
    row("sbx decode+validate (in process)", load, len, 0);
    bench_node(path, len, runs, load);

    char *sbx_argv[] = {(char *)sbx_cli, "validate", (char *)path, NULL};
    int status;
    double sbx_proc = spawn_best_seconds(sbx_argv, runs, &status);
    if (sbx_proc < 0)
        printf("  sbx validate (process): %s exited with status %d\n", sbx_cli, status);
    else
        row("sbx validate (process)", sbx_proc, len, 0);
    char *wabt_argv[] = {"wasm-validate", (char *)path, NULL};
    bench_process("wabt wasm-validate (process)", wabt_argv, len, runs, sbx_proc);
    free(bytes);
    return 0;
}

int main(int argc, char **argv)
{
    int runs = 5;
    const char *sbx_cli = SBX_CLI_PATH;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--sbx") == 0 && i + 1 < argc) {
            sbx_cli = argv[++i];
        } else {
            break;
        }
    }
    if (i >= argc || runs < 1) {
        fputs("usage: bench_decode [--runs N] [--sbx PATH] FILE.wasm...\n", stderr);
        return 2;
    }
    printf("peer/sbx: the peer's time over sbx's; above 1 means sbx is faster\n\n");
    int rc = 0;
    for (; i < argc; i++)
        rc |= bench_file(argv[i], runs, sbx_cli);
    return rc;
}
