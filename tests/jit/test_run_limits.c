/* Interruption and resource limits of compiled code: fuel, the epoch
 * deadline raised from another thread, stack exhaustion at any depth, and
 * out-of-bounds memory. Each must end the call with its own trap and leave
 * the process (and the instance) usable. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "jit/runtime.h"
#include "memimg/pool.h"

struct fixture {
    uint8_t *bytes;
    struct sbx_module *m;
    struct sbx_compiled *c;
    struct sbx_pool *pool;
    struct sbx_linker *linker;
    struct sbx_instance *inst;
};

static void setup_with(struct fixture *f, struct sbx_compile_options opts)
{
    char path[512];
    snprintf(path, sizeof path, "%s/spin.wasm", SBX_TEST_WASM_DIR);
    FILE *fp = fopen(path, "rb");
    cr_assert(fp, "cannot open %s", path);
    f->bytes = malloc(65536);
    size_t n = fread(f->bytes, 1, 65536, fp);
    fclose(fp);
    struct sbx_error err;
    f->m = sbx_module_load(f->bytes, n, &err);
    cr_assert(f->m, "%s", err.msg);
    f->c = sbx_compile(f->m, &opts, &err);
    cr_assert(f->c, "%s", err.msg);
    struct sbx_pool_config cfg;
    sbx_pool_config_default(&cfg);
    cfg.slot_count = 2;
    cr_assert_eq(sbx_pool_create(&cfg, &f->pool), 0);
    f->linker = sbx_linker_new();
    struct sbx_trap trap;
    f->inst = sbx_instantiate(f->c, f->linker, f->pool, &err, &trap);
    cr_assert(f->inst, "%s", err.msg);
}

static void teardown_fixture(struct fixture *f)
{
    sbx_instance_free(f->inst);
    sbx_linker_free(f->linker);
    cr_assert_eq(sbx_pool_destroy(f->pool), 0, "a slot is still in use");
    sbx_compiled_free(f->c);
    sbx_module_free(f->m);
    free(f->bytes);
}

static uint32_t export_index(struct fixture *f, const char *name)
{
    for (uint32_t i = 0; i < f->m->nexports; i++)
        if (f->m->exports[i].name.len == strlen(name) &&
            !memcmp(f->m->exports[i].name.ptr, name, strlen(name)))
            return f->m->exports[i].index;
    cr_assert_fail("no export %s", name);
    return 0;
}

static int call1(struct fixture *f, const char *name, uint32_t arg, uint32_t *result,
                 struct sbx_trap *trap)
{
    union sbx_val a = {.i32 = arg}, r = {0};
    int rc = sbx_instance_call(f->inst, export_index(f, name), &a, &r, trap);
    if (result) *result = r.i32;
    return rc;
}

Test(limits, fuel_stops_an_infinite_loop_and_counts_iterations)
{
    struct fixture f;
    setup_with(&f, (struct sbx_compile_options){.fuel = true});
    struct sbx_trap trap;
    sbx_instance_set_fuel(f.inst, 10000);
    cr_assert_eq(call1(&f, "spin", 0, NULL, &trap), -1);
    cr_assert_eq(trap.code, SBX_TRAP_OUT_OF_FUEL);
    cr_assert_str_eq(trap.message, "all fuel consumed");

    /* Fuel is charged per function entry and loop iteration: 100 iterations
     * of `count` take about 100 units, and the instance stays usable. */
    sbx_instance_set_fuel(f.inst, 1000);
    uint32_t r;
    cr_assert_eq(call1(&f, "count", 100, &r, &trap), 0, "%s", trap.message);
    cr_assert_eq(r, 100);
    int64_t used = 1000 - sbx_instance_fuel(f.inst);
    cr_assert(used >= 100 && used <= 110, "used %lld", (long long)used);
    teardown_fixture(&f);
}

struct raiser {
    volatile uint64_t *epoch;
};

static void *raise_epoch_later(void *arg)
{
    struct raiser *r = arg;
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    __atomic_add_fetch(r->epoch, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

Test(limits, epoch_deadline_raised_by_another_thread_interrupts)
{
    struct fixture f;
    setup_with(&f, (struct sbx_compile_options){.epoch = true});
    static volatile uint64_t epoch = 0;
    sbx_instance_set_epoch(f.inst, &epoch, 1);
    struct raiser r = {&epoch};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, raise_epoch_later, &r), 0);
    struct sbx_trap trap;
    cr_assert_eq(call1(&f, "spin", 0, NULL, &trap), -1);
    pthread_join(t, NULL);
    cr_assert_eq(trap.code, SBX_TRAP_INTERRUPTED);
    cr_assert_str_eq(trap.message, "interrupted");
    teardown_fixture(&f);
}

Test(limits, unbounded_recursion_is_a_trap_every_time)
{
    struct fixture f;
    setup_with(&f, (struct sbx_compile_options){0});
    struct sbx_trap trap;
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(call1(&f, "recurse", 0, NULL, &trap), -1);
        cr_assert_eq(trap.code, SBX_TRAP_STACK_EXHAUSTED);
        cr_assert_str_eq(trap.message, "call stack exhausted");
        cr_assert_eq(trap.nframes, SBX_TRAP_MAX_FRAMES); /* a deep backtrace, capped */
    }
    uint32_t r;
    cr_assert_eq(call1(&f, "count", 5, &r, &trap), 0);
    cr_assert_eq(r, 5);
    teardown_fixture(&f);
}

Test(limits, out_of_bounds_load_traps_with_a_backtrace)
{
    struct fixture f;
    setup_with(&f, (struct sbx_compile_options){0});
    struct sbx_trap trap;
    uint32_t r;
    cr_assert_eq(call1(&f, "oob", 65532, &r, &trap), 0); /* last word: in bounds */
    cr_assert_eq(call1(&f, "oob", 65533, NULL, &trap), -1);
    cr_assert_eq(trap.code, SBX_TRAP_OOB_MEMORY);
    cr_assert_eq(trap.nframes, 2);
    cr_assert_eq(trap.frames[0], 3); /* $peek */
    cr_assert_eq(trap.frames[1], 4); /* the export that called it */
    cr_assert_eq(call1(&f, "oob", 0xfffffffcu, NULL, &trap), -1);
    cr_assert_eq(trap.code, SBX_TRAP_OOB_MEMORY);
    teardown_fixture(&f);
}
