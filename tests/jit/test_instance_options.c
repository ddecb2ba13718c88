/* Per-instance options of the embedder API (sbx_instantiate_with): a cap
 * on linear memory below the pool's, which memory.grow respects and which
 * sbx_instance_memory_limited tells apart from the module's own maximum; a
 * wasm stack size; and a start function deferred until the embedder says
 * (the worker confines itself in between). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "jit/runtime.h"
#include "memimg/pool.h"

struct fixture {
    uint8_t bytes[4096];
    struct sbx_module *m;
    struct sbx_compiled *c;
    struct sbx_pool *pool;
    struct sbx_linker *linker;
    struct sbx_instance *inst;
};

static void load(struct fixture *f, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.wasm", SBX_TEST_WASM_DIR, name);
    FILE *fp = fopen(path, "rb");
    cr_assert(fp, "cannot open %s", path);
    size_t n = fread(f->bytes, 1, sizeof f->bytes, fp);
    fclose(fp);
    struct sbx_error err;
    f->m = sbx_module_load(f->bytes, n, &err);
    cr_assert(f->m, "%s", err.msg);
    struct sbx_compile_options copts = {0};
    f->c = sbx_compile(f->m, &copts, &err);
    cr_assert(f->c, "%s", err.msg);
    struct sbx_pool_config cfg;
    sbx_pool_config_default(&cfg);
    cfg.slot_count = 2;
    cr_assert_eq(sbx_pool_create(&cfg, &f->pool), 0);
    f->linker = sbx_linker_new();
}

static int instantiate(struct fixture *f, const struct sbx_instance_options *o,
                       struct sbx_error *err)
{
    struct sbx_trap trap;
    f->inst = sbx_instantiate_with(f->c, f->linker, f->pool, o, err, &trap);
    return f->inst ? 0 : -1;
}

static void teardown(struct fixture *f)
{
    sbx_instance_free(f->inst);
    sbx_linker_free(f->linker);
    cr_assert_eq(sbx_pool_destroy(f->pool), 0, "a slot is still in use");
    sbx_compiled_free(f->c);
    sbx_module_free(f->m);
}

static int call1(struct fixture *f, const char *name, uint32_t arg, uint32_t *result,
                 struct sbx_trap *trap)
{
    const struct sbx_export *e = sbx_module_export(f->m, name);
    cr_assert(e, "no export %s", name);
    union sbx_val a = {.i32 = arg}, r = {0};
    int rc = sbx_instance_call(f->inst, e->index, &a, &r, trap);
    *result = r.i32;
    return rc;
}

Test(instance_options, memory_cap_stops_grow_and_is_reported)
{
    struct fixture f;
    load(&f, "embedder");
    struct sbx_instance_options o = {.max_memory_bytes = 5 * 65536};
    struct sbx_error err;
    cr_assert_eq(instantiate(&f, &o, &err), 0, "%s", err.msg);
    struct sbx_trap trap;
    uint32_t r;
    cr_assert_eq(call1(&f, "grow", 3, &r, &trap), 0);
    cr_assert_eq(r, 2, "2 -> 5 pages is within the cap");
    cr_assert_not(sbx_instance_memory_limited(f.inst));
    cr_assert_eq(call1(&f, "grow", 1, &r, &trap), 0);
    cr_assert_eq(r, UINT32_MAX, "a sixth page is refused, as memory.grow does: -1");
    cr_assert(sbx_instance_memory_limited(f.inst), "and the embedder can tell why");
    teardown(&f);
}

Test(instance_options, the_modules_own_maximum_is_not_a_limit_hit)
{
    struct fixture f;
    load(&f, "bounded");
    struct sbx_instance_options o = {.max_memory_bytes = 100 * 65536};
    struct sbx_error err;
    cr_assert_eq(instantiate(&f, &o, &err), 0, "%s", err.msg);
    struct sbx_trap trap;
    uint32_t r;
    cr_assert_eq(call1(&f, "grow", 5, &r, &trap), 0);
    cr_assert_eq(r, UINT32_MAX);
    cr_assert_not(sbx_instance_memory_limited(f.inst), "refused by (memory 1 3) itself");
    teardown(&f);
}

Test(instance_options, initial_memory_above_the_cap_fails_instantiation)
{
    struct fixture f;
    load(&f, "embedder");
    struct sbx_instance_options o = {.max_memory_bytes = 65536};
    struct sbx_error err;
    cr_assert_eq(instantiate(&f, &o, &err), -1);
    cr_assert(strstr(err.msg, "memory limit"), "%s", err.msg);
    teardown(&f);
}

Test(instance_options, deferred_start_runs_once_when_asked)
{
    struct fixture f;
    load(&f, "embedder");
    struct sbx_instance_options o = {.defer_start = true};
    struct sbx_error err;
    cr_assert_eq(instantiate(&f, &o, &err), 0, "%s", err.msg);
    struct sbx_trap trap;
    uint32_t r;
    cr_assert_eq(call1(&f, "started", 0, &r, &trap), 0);
    cr_assert_eq(r, 0, "the start function has not run yet");
    cr_assert_eq(sbx_instance_start(f.inst, &trap), 0);
    cr_assert_eq(sbx_instance_start(f.inst, &trap), 0, "a second call does nothing");
    cr_assert_eq(call1(&f, "started", 0, &r, &trap), 0);
    cr_assert_eq(r, 1);
    teardown(&f);
}

Test(instance_options, stack_size_bounds_recursion)
{
    uint32_t depth_small = 0, depth_big = 0;
    size_t sizes[2] = {128 * 1024, 4 * 1024 * 1024};
    uint32_t *depths[2] = {&depth_small, &depth_big};
    for (int i = 0; i < 2; i++) {
        struct fixture f;
        load(&f, "embedder");
        struct sbx_instance_options o = {.stack_size = sizes[i]};
        struct sbx_error err;
        cr_assert_eq(instantiate(&f, &o, &err), 0, "%s", err.msg);
        /* The deepest recursion (by doubling) that still returns. */
        struct sbx_trap trap;
        uint32_t r;
        for (uint32_t d = 1024; d < (1u << 24); d *= 2) {
            if (call1(&f, "recurse", d, &r, &trap)) {
                cr_assert_eq(trap.code, SBX_TRAP_STACK_EXHAUSTED);
                break;
            }
            *depths[i] = d;
        }
        teardown(&f);
    }
    cr_assert_gt(depth_small, 0);
    cr_assert_gt(depth_big, depth_small * 8, "%u vs %u frames", depth_big, depth_small);
}
