/* Compile-throughput benchmark: decode + validate once, then time
 * sbx_compile on each file (best of N), reporting MB/s of code section and
 * functions/s; in the same run, V8's Liftoff compiling the same bytes through
 * node (eager, --liftoff-only, single-threaded and default threads), each in
 * a fresh process so V8's module cache cannot answer. A benchmark, never a
 * test. Usage: bench_compile [--runs N] FILE.wasm... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jit/compiled.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    uint8_t *b = n > 0 ? malloc((size_t)n) : NULL;
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* One node process compiling `path` once; its time in ms, or < 0. */
static double node_compile_ms(const char *path, const char *flags)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "node %s -e 'const b=require(\"fs\").readFileSync(process.argv[1]);"
             "const t=performance.now();new WebAssembly.Module(b);"
             "console.log(performance.now()-t)' '%s' 2>/dev/null",
             flags, path);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    double ms = -1;
    if (fscanf(p, "%lf", &ms) != 1) ms = -1;
    pclose(p);
    return ms;
}

int main(int argc, char **argv)
{
    int runs = 3, i = 1;
    if (argc > 2 && !strcmp(argv[1], "--runs")) runs = atoi(argv[2]), i = 3;
    if (i >= argc || runs < 1) {
        fprintf(stderr, "usage: bench_compile [--runs N] FILE.wasm...\n");
        return 2;
    }
    printf("%-28s %8s %9s %10s %9s %12s %13s %13s\n", "file", "funcs", "code MB", "sbx ms",
           "sbx MB/s", "sbx funcs/s", "liftoff 1t ms", "liftoff 2t ms");
    for (; i < argc; i++) {
        size_t len;
        uint8_t *bytes = read_file(argv[i], &len);
        struct sbx_error err;
        struct sbx_module *m = bytes ? sbx_module_load(bytes, len, &err) : NULL;
        if (!m) {
            printf("%-28s cannot load: %s\n", argv[i], bytes ? err.msg : "unreadable");
            free(bytes);
            continue;
        }
        size_t code = 0;
        for (uint32_t s = 0; s < m->nsections; s++)
            if (m->sections[s].id == 10) code = m->sections[s].size;
        double best = 1e9;
        const char *why = NULL;
        for (int r = 0; r < runs && !why; r++) {
            double t0 = now();
            struct sbx_compiled *c = sbx_compile(m, NULL, &err);
            double t = now() - t0;
            if (!c) why = err.msg;
            sbx_compiled_free(c);
            if (t < best) best = t;
        }
        const char *base = strrchr(argv[i], '/');
        base = base ? base + 1 : argv[i];
        if (why) {
            printf("%-28s sbx cannot compile it: %s\n", base, why);
        } else {
            double one = node_compile_ms(argv[i], "--no-wasm-lazy-compilation --liftoff-only "
                                                  "--single-threaded");
            double two = node_compile_ms(argv[i], "--no-wasm-lazy-compilation --liftoff-only");
            printf("%-28s %8u %9.1f %10.0f %9.1f %12.0f %13.0f %13.0f\n", base, m->nbodies,
                   (double)code / 1e6, best * 1e3, (double)code / 1e6 / best,
                   (double)m->nbodies / best, one, two);
        }
        sbx_module_free(m);
        free(bytes);
    }
    return 0;
}
