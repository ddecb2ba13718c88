/* The sbx side of the CPU benchmarks: for each .wasm, load, compile and
 * instantiate it in-process (memory from a memimg pool), call its `run`
 * export N times and print "NAME CHECKSUM BEST_SECONDS COMPILE_SECONDS",
 * like the native and node harnesses plus the compile time.
 *
 *   bench_cpu_sbx RUNS FILE.wasm... */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jit/module.h"
#include "jit/runtime.h"
#include "memimg/pool.h"

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
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 1 << 16;
            uint8_t *grown = realloc(buf, cap);
            if (!grown) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = grown;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* The name of a .wasm path without directory and extension. */
static void bench_name(const char *path, char *out, size_t size)
{
    const char *slash = strrchr(path, '/');
    snprintf(out, size, "%s", slash ? slash + 1 : path);
    char *dot = strrchr(out, '.');
    if (dot && strcmp(dot, ".wasm") == 0) *dot = '\0';
}

/* Runs one module; returns 0 or 1 (reported on stderr). */
static int bench_one(struct sbx_pool *pool, const char *path, int runs)
{
    char name[256];
    bench_name(path, name, sizeof name);
    size_t len = 0;
    uint8_t *bytes = read_file(path, &len);
    if (!bytes) {
        fprintf(stderr, "%s: cannot read: %s\n", path, strerror(errno));
        return 1;
    }
    int rc = 1;
    struct sbx_error err = {.func_index = -1};
    struct sbx_trap trap;
    struct sbx_compiled *c = NULL;
    struct sbx_linker *linker = NULL;
    struct sbx_instance *inst = NULL;
    struct sbx_module *m = sbx_module_load(bytes, len, &err);
    if (!m) {
        char msg[SBX_ERROR_MSG_MAX + 64];
        sbx_error_format(&err, msg, sizeof msg);
        fprintf(stderr, "%s: %s\n", path, msg);
        goto out;
    }
    double t0 = now();
    struct sbx_compile_options opts = {.fuel = false, .epoch = false};
    c = sbx_compile(m, &opts, &err);
    double compile_time = now() - t0;
    if (!c) {
        fprintf(stderr, "%s: compile: %s\n", path, err.msg);
        goto out;
    }
    linker = sbx_linker_new();
    if (!linker) {
        fprintf(stderr, "%s: out of memory\n", path);
        goto out;
    }
    memset(&trap, 0, sizeof trap);
    inst = sbx_instantiate(c, linker, pool, &err, &trap);
    if (!inst) {
        fprintf(stderr, "%s: instantiate: %s\n", path, err.msg);
        goto out;
    }

    uint32_t index = UINT32_MAX;
    for (uint32_t i = 0; i < m->nexports; i++) {
        const struct sbx_export *e = &m->exports[i];
        if (e->kind == SBX_EXTERN_FUNC && e->name.len == 3 && memcmp(e->name.ptr, "run", 3) == 0)
            index = e->index;
    }
    const struct sbx_functype *t = index == UINT32_MAX ? NULL : sbx_module_func_type(m, index);
    if (!t || t->nparams != 0 || t->nresults != 1 || t->results[0] != SBX_I32) {
        fprintf(stderr, "%s: no export \"run\" of type () -> i32\n", path);
        goto out;
    }

    double best = 1e300;
    uint32_t first = 0;
    for (int i = 0; i < runs; i++) {
        union sbx_val result = {0};
        double start = now();
        if (sbx_instance_call(inst, index, NULL, &result, &trap)) {
            fprintf(stderr, "%s: run trapped: %s\n", path, trap.message);
            goto out;
        }
        double elapsed = now() - start;
        if (i == 0) {
            first = result.i32;
        } else if (result.i32 != first) {
            fprintf(stderr, "%s: checksum changed between runs: %u, then %u\n", path, first,
                    result.i32);
            goto out;
        }
        if (elapsed < best) best = elapsed;
    }
    printf("%s %u %.6f %.6f\n", name, first, best, compile_time);
    fflush(stdout);
    rc = 0;
out:
    sbx_instance_free(inst);
    sbx_linker_free(linker);
    sbx_compiled_free(c);
    sbx_module_free(m);
    free(bytes);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s RUNS FILE.wasm...\n", argv[0]);
        return 2;
    }
    int runs = atoi(argv[1]);
    if (runs < 1) runs = 1;
    struct sbx_pool *pool;
    int e = sbx_pool_create(NULL, &pool);
    if (e) {
        fprintf(stderr, "cannot create the memory pool: %s\n", strerror(-e));
        return 1;
    }
    int failed = 0;
    for (int i = 2; i < argc; i++)
        failed |= bench_one(pool, argv[i], runs);
    sbx_pool_destroy(pool);
    return failed;
}
