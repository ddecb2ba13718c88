/* The instance runtime (issue 4): linking and its errors, globals, data and
 * element segments (image and copy paths, traps at instantiation), the
 * libcalls compiled code uses, the conversion table, and end-to-end calls
 * through the compiler. Modules come from instance/NAME.wat, converted by
 * wat2wasm at build time into SBX_TEST_WASM_DIR. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jit/instance.h"
#include "jit/libcalls.h"
#include "jit/opcodes.h"
#include "jit/rt_internal.h"
#include "memimg/pool.h"

/* -- Helpers ------------------------------------------------------------------ */

struct loaded {
    uint8_t *bytes;
    struct sbx_module *m;
    struct sbx_compiled *c;
    bool fake;
};

/* Code that is never run: instances of fake-compiled modules are only
 * inspected, so the tests below need nothing of the compiler. */
static const uint8_t no_code[16];

static uint8_t *read_wasm(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s.wasm", SBX_TEST_WASM_DIR, name);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    cr_assert_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* Loads instance/NAME.wat; `real`: compile it, else a fake compiled module
 * with the type ids and function table instantiation needs. */
static void load(struct loaded *l, const char *name, bool real)
{
    size_t len;
    struct sbx_error err = {0};
    memset(l, 0, sizeof(*l));
    l->bytes = read_wasm(name, &len);
    l->m = sbx_module_load(l->bytes, len, &err);
    cr_assert_not_null(l->m, "%s: %s", name, err.msg);
    if (real) {
        l->c = sbx_compile(l->m, NULL, &err);
        cr_assert_not_null(l->c, "%s: %s", name, err.msg);
        return;
    }
    l->fake = true;
    l->c = calloc(1, sizeof(*l->c));
    l->c->m = l->m;
    l->c->code = no_code;
    l->c->code_size = sizeof(no_code);
    l->c->type_ids = calloc(l->m->ntypes + 1, sizeof(uint32_t));
    for (uint32_t i = 0; i < l->m->ntypes; i++)
        l->c->type_ids[i] = sbx_type_id(&l->m->types[i]);
    l->c->funcs = calloc(l->m->nbodies + 1, sizeof(*l->c->funcs));
}

static void unload(struct loaded *l)
{
    sbx_compiled_free_runtime_cache(l->c);
    if (l->fake) {
        free(l->c->type_ids);
        free(l->c->funcs);
        free(l->c);
    } else {
        sbx_compiled_free(l->c);
    }
    sbx_module_free(l->m);
    free(l->bytes);
}

static struct sbx_pool *pool;
static struct sbx_linker *linker;

static void setup(void)
{
    struct sbx_pool_config cfg;
    sbx_pool_config_default(&cfg);
    cfg.slot_count = 8;
    cfg.max_memory_bytes = 16 * 65536; /* unbounded memories grow to 16 pages */
    cr_assert_eq(sbx_pool_create(&cfg, &pool), 0);
    linker = sbx_linker_new();
    cr_assert_not_null(linker);
}

static void teardown(void)
{
    sbx_linker_free(linker);
    struct sbx_pool_stats st;
    sbx_pool_stats(pool, &st);
    cr_expect_eq(st.in_use, 0, "an instance kept its slot");
    cr_expect_eq(sbx_pool_destroy(pool), 0);
}

static struct sbx_instance *instantiate(struct loaded *l, struct sbx_error *err,
                                        struct sbx_trap *trap)
{
    memset(err, 0, sizeof(*err));
    return sbx_instantiate(l->c, linker, pool, err, trap);
}

static struct sbx_instance *must_instantiate(struct loaded *l)
{
    struct sbx_error err;
    struct sbx_trap trap;
    struct sbx_instance *inst = instantiate(l, &err, &trap);
    cr_assert_not_null(inst, "instantiate: %s", err.msg);
    return inst;
}

static void define(const char *name, struct sbx_extern ext)
{
    cr_assert_eq(sbx_linker_define(linker, "env", name, &ext), 0);
}

static int host_twice(void *env, struct sbx_caller *caller, const union sbx_val *args,
                      union sbx_val *results)
{
    results[0].i32 = args[0].i32 * 2;
    return 0;
}

static const uint8_t t_i32[] = {SBX_I32};
static const uint8_t t_i64[] = {SBX_I64};

/* -- Linking ----------------------------------------------------------------------- */

/* What imports.wat imports, all matching; tests spoil one at a time. */
struct env {
    struct sbx_host_func *f, *f_wrong;
    struct sbx_table t;
    void *t_elems[3];
    struct sbx_memory mem;
    union sbx_global_cell g, gm;
};

static void define_env(struct env *e)
{
    memset(e, 0, sizeof(*e));
    e->f = sbx_host_func_new(t_i32, 1, t_i32, 1, host_twice, NULL);
    e->f_wrong = sbx_host_func_new(t_i64, 1, t_i32, 1, host_twice, NULL);
    cr_assert(e->f && e->f_wrong);
    e->t = (struct sbx_table){.elems = e->t_elems, .size = 2, .max = 10, .elem_type = SBX_FUNCREF};
    e->mem = (struct sbx_memory){.pages = 1, .max_pages = 4};
    define("f", (struct sbx_extern){.kind = SBX_EXTERN_FUNC, .u.func.host = e->f});
    define("t", (struct sbx_extern){.kind = SBX_EXTERN_TABLE, .u.table = &e->t});
    define("m", (struct sbx_extern){.kind = SBX_EXTERN_MEMORY, .u.memory = &e->mem});
    define("g", (struct sbx_extern){.kind = SBX_EXTERN_GLOBAL,
                                    .u.global = {.cell = &e->g, .type = SBX_I32}});
    define("gm",
           (struct sbx_extern){.kind = SBX_EXTERN_GLOBAL,
                               .u.global = {.cell = &e->gm, .type = SBX_I64, .mutable_ = true}});
}

static void free_env(struct env *e)
{
    sbx_host_func_free(e->f);
    sbx_host_func_free(e->f_wrong);
}

static void expect_link_error(struct loaded *l, const char *prefix, const char *what)
{
    struct sbx_error err;
    struct sbx_trap trap;
    struct sbx_instance *inst = instantiate(l, &err, &trap);
    cr_expect_null(inst, "%s: instantiated", what);
    if (inst) sbx_instance_free(inst);
    cr_expect_eq(strncmp(err.msg, prefix, strlen(prefix)), 0, "%s: got \"%s\"", what, err.msg);
}

TestSuite(instance, .init = setup, .fini = teardown);

Test(instance, imports_all_match)
{
    struct loaded l;
    struct env e;
    load(&l, "imports", false);
    define_env(&e);
    struct sbx_instance *inst = must_instantiate(&l);
    cr_expect_eq(inst->funcs[0], sbx_host_func_ref(e.f));
    cr_expect_eq(inst->tables[0], &e.t);
    cr_expect_eq(sbx_instance_memory(inst), &e.mem);
    cr_expect_eq(inst->globals[0], &e.g);
    cr_expect_eq(inst->globals[1], &e.gm);
    cr_expect_eq(inst->vm.funcs, inst->funcs);
    cr_expect_eq(inst->vm.type_ids, l.c->type_ids);
    cr_expect_eq(inst->vm.instance, inst);
    sbx_instance_free(inst);

    /* Larger than declared but within the maxima still matches. */
    e.t.size = 3, e.mem.pages = 2, e.mem.max_pages = 3;
    inst = must_instantiate(&l);
    sbx_instance_free(inst);
    free_env(&e);
    unload(&l);
}

Test(instance, unknown_import_for_each_name)
{
    static const char *const names[] = {"f", "t", "m", "g", "gm"};
    for (size_t i = 0; i < 5; i++) {
        struct loaded l;
        struct env e;
        load(&l, "imports", false);
        define_env(&e);
        /* Rebuild the linker without env.NAME. */
        struct sbx_linker *full = linker;
        linker = sbx_linker_new();
        for (size_t j = 0; j < 5; j++) {
            if (j == i) continue;
            const struct sbx_extern *x =
                sbx_linker_lookup(full, "env", 3, names[j], strlen(names[j]));
            cr_assert_not_null(x);
            define(names[j], *x);
        }
        sbx_linker_free(full);
        char want[64];
        snprintf(want, sizeof(want), "unknown import \"env\" \"%s\"", names[i]);
        expect_link_error(&l, want, want);
        free_env(&e);
        unload(&l);
    }
}

/* One spoiled import per row: each must give "incompatible import type". */
Test(instance, incompatible_import_for_each_kind)
{
    for (int row = 0;; row++) {
        struct loaded l;
        struct env e;
        load(&l, "imports", false);
        define_env(&e);
        union sbx_global_cell other;
        const char *what;
        switch (row) {
        case 0:
            what = "func defined as a global";
            define("f", (struct sbx_extern){.kind = SBX_EXTERN_GLOBAL,
                                            .u.global = {.cell = &other, .type = SBX_I32}});
            break;
        case 1:
            what = "func of another type";
            define("f", (struct sbx_extern){.kind = SBX_EXTERN_FUNC, .u.func.host = e.f_wrong});
            break;
        case 2: what = "table of externref", e.t.elem_type = SBX_EXTERNREF; break;
        case 3: what = "table smaller than declared", e.t.size = 1; break;
        case 4: what = "table without a maximum", e.t.unbounded = true; break;
        case 5: what = "table with a larger maximum", e.t.max = 11; break;
        case 6: what = "table whose declared maximum is larger", e.t.declared_max = 11; break;
        case 7: what = "memory smaller than declared", e.mem.pages = 0; break;
        case 8: what = "memory without a maximum", e.mem.unbounded = true; break;
        case 9: what = "memory with a larger maximum", e.mem.max_pages = 5; break;
        case 10:
            what = "global of another type";
            define("g", (struct sbx_extern){.kind = SBX_EXTERN_GLOBAL,
                                            .u.global = {.cell = &other, .type = SBX_I64}});
            break;
        case 11:
            what = "global mutable, declared immutable";
            define("g", (struct sbx_extern){
                            .kind = SBX_EXTERN_GLOBAL,
                            .u.global = {.cell = &other, .type = SBX_I32, .mutable_ = true}});
            break;
        case 12:
            what = "global immutable, declared mutable";
            define("gm", (struct sbx_extern){.kind = SBX_EXTERN_GLOBAL,
                                             .u.global = {.cell = &other, .type = SBX_I64}});
            break;
        case 13:
            what = "memory defined as a table";
            define("m", (struct sbx_extern){.kind = SBX_EXTERN_TABLE, .u.table = &e.t});
            break;
        default: what = NULL; break;
        }
        if (!what) {
            free_env(&e);
            unload(&l);
            break;
        }
        expect_link_error(&l, "incompatible import type", what);
        free_env(&e);
        unload(&l);
    }
}

/* A later definition replaces an earlier one; lookups compare lengths. */
Test(instance, linker_redefine_and_lookup)
{
    union sbx_global_cell a, b;
    define("x", (struct sbx_extern){.kind = SBX_EXTERN_GLOBAL, .u.global = {.cell = &a}});
    define("x", (struct sbx_extern){.kind = SBX_EXTERN_GLOBAL, .u.global = {.cell = &b}});
    const struct sbx_extern *x = sbx_linker_lookup(linker, "env", 3, "x", 1);
    cr_assert_not_null(x);
    cr_expect_eq(x->u.global.cell, &b);
    cr_expect_null(sbx_linker_lookup(linker, "env", 3, "xy", 2));
    cr_expect_null(sbx_linker_lookup(linker, "en", 2, "x", 1));
    /* Many names: the table grows and keeps them all. */
    char name[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof(name), "n%d", i);
        define(name, (struct sbx_extern){.kind = SBX_EXTERN_GLOBAL, .u.global = {.cell = &a}});
    }
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof(name), "n%d", i);
        cr_expect_not_null(sbx_linker_lookup(linker, "env", 3, name, strlen(name)), "%s", name);
    }
}

/* -- Globals ------------------------------------------------------------------------ */

static const union sbx_global_cell *global_export(struct sbx_instance *inst, const char *name,
                                                  uint8_t type, bool mut)
{
    struct sbx_extern x;
    cr_assert_eq(sbx_instance_export(inst, name, &x), 0, "export %s", name);
    cr_assert_eq(x.kind, SBX_EXTERN_GLOBAL);
    cr_expect_eq(x.u.global.type, type, "%s type", name);
    cr_expect_eq(x.u.global.mutable_, mut, "%s mutability", name);
    return x.u.global.cell;
}

Test(instance, globals_initialised)
{
    struct loaded l;
    load(&l, "globals", false);
    union sbx_global_cell g = {.i32 = 0xdeadbeef};
    define("g", (struct sbx_extern){.kind = SBX_EXTERN_GLOBAL,
                                    .u.global = {.cell = &g, .type = SBX_I32}});
    struct sbx_instance *inst = must_instantiate(&l);
    cr_expect_eq(global_export(inst, "a", SBX_I32, false)->i32, 42);
    cr_expect_eq(global_export(inst, "b", SBX_I64, true)->i64, UINT64_MAX);
    cr_expect_eq(global_export(inst, "c", SBX_F32, false)->i32, 0x3fc00000u);         /* 1.5f */
    cr_expect_eq(global_export(inst, "d", SBX_F64, false)->i64, 0xc002000000000000u); /* -2.25 */
    cr_expect_eq(global_export(inst, "e", SBX_I32, false)->i32, 0xdeadbeef);
    cr_expect_eq(global_export(inst, "f", SBX_FUNCREF, false)->ref, inst->funcs[0]);
    cr_expect_null(global_export(inst, "h", SBX_EXTERNREF, false)->ref);
    /* The imported global is the importer's cell, not a copy. */
    cr_expect_eq(inst->globals[0], &g);
    cr_expect_eq(inst->vm.globals[0], &g);
    /* The function reference as compiled code sees it. */
    struct sbx_funcref *f = inst->funcs[0];
    cr_expect_eq(f->vmctx, &inst->vm);
    cr_expect_eq(f->func_index, 0);
    cr_expect_eq(f->type_id, l.c->type_ids[l.m->func_types[0]]);
    cr_expect_eq(f->code, (void *)(l.c->code + l.c->funcs[0].start));
    struct sbx_extern x;
    cr_expect_eq(sbx_instance_export(inst, "nope", &x), -ENOENT);
    sbx_instance_free(inst);
    unload(&l);
}

/* -- Data segments -------------------------------------------------------------------- */

static uint8_t *memory_bytes(struct sbx_instance *inst, uint64_t *size)
{
    struct sbx_memory *mem = sbx_instance_memory(inst);
    cr_assert_not_null(mem);
    *size = mem->size;
    uint8_t *copy = malloc(mem->size);
    memcpy(copy, mem->base, mem->size);
    return copy;
}

Test(instance, data_image_and_copy_paths_agree)
{
    struct loaded img, glob, imp, mem2;
    load(&img, "data_image", false);
    load(&glob, "data_global", false);
    load(&imp, "data_import", false);
    load(&mem2, "mem2", false);

    /* Twice through the image path: the second instance reuses the cache. */
    struct sbx_instance *a = must_instantiate(&img);
    cr_expect(a->data_imaged, "constant in-bounds segments take the image path");
    cr_expect_not_null(img.c->rt_cache);
    uint64_t size_a;
    uint8_t *bytes_a = memory_bytes(a, &size_a);
    cr_expect_eq(size_a, 2 * 65536);
    cr_expect_eq(memcmp(bytes_a, "aZc", 3), 0);
    cr_expect_eq(memcmp(bytes_a + 65534, "xyzw", 4), 0);
    cr_expect_eq(memcmp(bytes_a + 131070, "!!", 2), 0);
    cr_expect_eq(bytes_a[3], 0);
    cr_expect(a->datas[3].dropped == false, "the passive segment stays");
    cr_expect(a->datas[0].dropped && a->datas[4].dropped, "active segments are dropped");
    a->own_memory.base[5] = 'P'; /* private to this instance */
    struct sbx_instance *a2 = must_instantiate(&img);
    uint64_t size_a2;
    uint8_t *bytes_a2 = memory_bytes(a2, &size_a2);
    cr_expect_eq(memcmp(bytes_a, bytes_a2, size_a), 0);

    union sbx_global_cell g = {.i32 = 65534};
    define("g", (struct sbx_extern){.kind = SBX_EXTERN_GLOBAL,
                                    .u.global = {.cell = &g, .type = SBX_I32}});
    struct sbx_instance *b = must_instantiate(&glob);
    cr_expect_not(b->data_imaged, "a global.get offset takes the copy path");
    uint64_t size_b;
    uint8_t *bytes_b = memory_bytes(b, &size_b);
    cr_assert_eq(size_b, size_a);
    cr_expect_eq(memcmp(bytes_a, bytes_b, size_a), 0, "image and copy paths differ");

    struct sbx_instance *m = must_instantiate(&mem2);
    struct sbx_extern mx;
    cr_assert_eq(sbx_instance_export(m, "mem", &mx), 0);
    define("mem", mx);
    struct sbx_instance *c = must_instantiate(&imp);
    cr_expect_eq(sbx_instance_memory(c), sbx_instance_memory(m));
    uint64_t size_c;
    uint8_t *bytes_c = memory_bytes(c, &size_c);
    cr_assert_eq(size_c, size_a);
    cr_expect_eq(memcmp(bytes_a, bytes_c, size_a), 0, "image and imported-memory paths differ");

    free(bytes_a), free(bytes_a2), free(bytes_b), free(bytes_c);
    sbx_instance_free(c);
    sbx_instance_free(m);
    sbx_instance_free(b);
    sbx_instance_free(a2);
    sbx_instance_free(a);
    unload(&mem2), unload(&imp), unload(&glob), unload(&img);
}

static void expect_trap(struct loaded *l, int code)
{
    struct sbx_error err;
    struct sbx_trap trap;
    struct sbx_instance *inst = instantiate(l, &err, &trap);
    cr_expect_null(inst);
    if (inst) sbx_instance_free(inst);
    cr_expect_eq(trap.code, code, "trap %d (%s), want %d", trap.code, trap.message, code);
    cr_expect_str_eq(trap.message, sbx_trap_message(code));
    cr_expect_str_eq(err.msg, sbx_trap_message(code));
}

Test(instance, data_segment_out_of_bounds_traps_after_earlier_writes)
{
    struct loaded mem1, oob;
    load(&mem1, "mem1", false);
    load(&oob, "data_oob_import", false);
    struct sbx_instance *m = must_instantiate(&mem1);
    struct sbx_extern mx;
    cr_assert_eq(sbx_instance_export(m, "mem", &mx), 0);
    define("mem", mx);
    expect_trap(&oob, SBX_TRAP_OOB_MEMORY);
    struct sbx_memory *mem = sbx_instance_memory(m);
    cr_expect_eq(memcmp(mem->base, "first", 5), 0, "the earlier segment stays written");
    cr_expect_eq(mem->base[65535], 0, "the failing segment writes nothing");
    cr_expect_eq(mem->base[100], 0, "later segments are not written");
    sbx_instance_free(m);
    unload(&oob), unload(&mem1);
}

Test(instance, data_segment_out_of_bounds_own_memory)
{
    struct loaded oob, end, past;
    load(&oob, "data_oob", false);
    load(&end, "data_empty_end", false);
    load(&past, "data_empty_past", false);
    expect_trap(&oob, SBX_TRAP_OOB_MEMORY);
    expect_trap(&oob, SBX_TRAP_OOB_MEMORY); /* the cached decision too */
    struct sbx_instance *inst = must_instantiate(&end);
    sbx_instance_free(inst);
    expect_trap(&past, SBX_TRAP_OOB_MEMORY);
    unload(&past), unload(&end), unload(&oob);
}

/* -- Element segments ---------------------------------------------------------------- */

Test(instance, element_segments_populate_tables)
{
    struct loaded l;
    load(&l, "elem", false);
    struct sbx_instance *inst = must_instantiate(&l);
    struct sbx_table *t = inst->tables[0];
    cr_assert_eq(t->size, 10);
    cr_expect_eq(t->elem_type, SBX_FUNCREF);
    cr_expect(t->unbounded);
    for (uint32_t i = 0; i < 10; i++) {
        void *want = i == 2   ? inst->funcs[0]
                     : i == 3 ? inst->funcs[1]
                     : i == 8 ? inst->funcs[2]
                              : NULL;
        cr_expect_eq(t->elems[i], want, "elems[%u]", i);
    }
    cr_expect_eq(inst->elems[0].count, 0, "active segments are dropped");
    cr_expect_eq(inst->elems[1].count, 2, "passive segments are kept");
    cr_expect_eq(inst->elems[1].refs[0], inst->funcs[2]);
    cr_expect_null(inst->elems[1].refs[1]);
    cr_expect_eq(inst->elems[2].count, 0, "declarative segments are dropped");
    cr_expect_eq(inst->elems[3].count, 0);
    cr_expect_eq(inst->vm.elem_segments, inst->elems);

    /* table.init from the passive segment, with 64-bit bounds checks. */
    struct sbx_vmctx *vm = &inst->vm;
    cr_expect_eq(sbx_rt_table_init(vm, 0, 1, 0, 0, 2), 0);
    cr_expect_eq(t->elems[0], inst->funcs[2]);
    cr_expect_null(t->elems[1]);
    cr_expect_eq(sbx_rt_table_init(vm, 0, 1, 9, 0, 2), SBX_TRAP_OOB_TABLE);
    cr_expect_eq(sbx_rt_table_init(vm, 0, 1, 10, 0, 0), 0);
    cr_expect_eq(sbx_rt_table_init(vm, 0, 1, 11, 0, 0), SBX_TRAP_OOB_TABLE);
    cr_expect_eq(sbx_rt_table_init(vm, 0, 1, 0, 2, 0), 0);
    cr_expect_eq(sbx_rt_table_init(vm, 0, 1, 0, 3, 0), SBX_TRAP_OOB_TABLE);
    cr_expect_eq(sbx_rt_table_init(vm, 0, 1, 0, 1, UINT32_MAX), SBX_TRAP_OOB_TABLE);
    /* A dropped (or active) segment has length 0. */
    cr_expect_eq(sbx_rt_table_init(vm, 0, 0, 0, 0, 0), 0);
    cr_expect_eq(sbx_rt_table_init(vm, 0, 0, 0, 0, 1), SBX_TRAP_OOB_TABLE);
    cr_expect_eq(sbx_rt_table_init(vm, 0, 2, 0, 0, 1), SBX_TRAP_OOB_TABLE);
    sbx_rt_elem_drop(vm, 1);
    cr_expect_eq(sbx_rt_table_init(vm, 0, 1, 0, 0, 1), SBX_TRAP_OOB_TABLE);
    cr_expect_eq(sbx_rt_table_init(vm, 0, 1, 0, 0, 0), 0);

    /* table.copy (overlapping), table.fill, table.grow. */
    cr_expect_eq(sbx_rt_table_copy(vm, 0, 0, 3, 2, 2), 0);
    cr_expect_eq(t->elems[3], inst->funcs[0]);
    cr_expect_eq(t->elems[4], inst->funcs[1]); /* old elems[3] */
    cr_expect_eq(sbx_rt_table_copy(vm, 0, 0, 9, 0, 2), SBX_TRAP_OOB_TABLE);
    cr_expect_eq(sbx_rt_table_copy(vm, 0, 0, 10, 10, 0), 0);
    cr_expect_eq(sbx_rt_table_copy(vm, 0, 0, 0, 11, 0), SBX_TRAP_OOB_TABLE);
    cr_expect_eq(sbx_rt_table_fill(vm, 0, 5, inst->funcs[1], 5), 0);
    cr_expect_eq(t->elems[9], inst->funcs[1]);
    cr_expect_eq(sbx_rt_table_fill(vm, 0, 6, NULL, 5), SBX_TRAP_OOB_TABLE);
    cr_expect_eq(t->elems[6], inst->funcs[1], "a failing fill writes nothing");
    cr_expect_eq(sbx_rt_table_fill(vm, 0, 10, NULL, 0), 0);
    cr_expect_eq(sbx_rt_table_fill(vm, 0, 11, NULL, 0), SBX_TRAP_OOB_TABLE);
    cr_expect_eq(sbx_rt_table_grow(vm, 0, inst->funcs[2], 5), 10);
    cr_expect_eq(t->size, 15);
    cr_expect_eq(t->elems[14], inst->funcs[2]);
    cr_expect_eq(sbx_rt_table_grow(vm, 0, NULL, 0), 15);
    cr_expect_eq(sbx_rt_table_grow(vm, 0, NULL, SBX_RT_MAX_TABLE_ELEMS), UINT32_MAX,
                 "past the element limit");
    cr_expect_eq(sbx_rt_table_grow(vm, 0, NULL, UINT32_MAX), UINT32_MAX);
    cr_expect_eq(t->size, 15);
    /* The externref table declares a maximum of 2. */
    struct sbx_table *u = inst->tables[1];
    cr_expect_eq(u->elem_type, SBX_EXTERNREF);
    cr_expect_eq(sbx_rt_table_grow(vm, 1, (void *)0x1234, 1), 1);
    cr_expect_eq(u->elems[1], (void *)0x1234);
    cr_expect_eq(sbx_rt_table_grow(vm, 1, NULL, 1), UINT32_MAX);
    cr_expect_eq(sbx_rt_table_copy(vm, 1, 1, 0, 1, 1), 0);
    cr_expect_eq(u->elems[0], (void *)0x1234);
    sbx_instance_free(inst);
    unload(&l);
}

Test(instance, element_segment_out_of_bounds_traps_before_data)
{
    struct loaded mem1, l;
    load(&mem1, "mem1", false);
    load(&l, "elem_oob_import", false);
    struct sbx_instance *m = must_instantiate(&mem1);
    struct sbx_extern mx;
    cr_assert_eq(sbx_instance_export(m, "mem", &mx), 0);
    define("mem", mx);
    void *elems[5] = {0};
    struct sbx_table t = {.elems = elems, .size = 5, .max = 5, .elem_type = SBX_FUNCREF};
    define("t", (struct sbx_extern){.kind = SBX_EXTERN_TABLE, .u.table = &t});
    expect_trap(&l, SBX_TRAP_OOB_TABLE);
    cr_expect_not_null(elems[0], "the earlier segment stays written");
    cr_expect_null(elems[4], "the failing segment writes nothing");
    cr_expect_eq(memcmp(sbx_instance_memory(m)->base, "\0\0\0\0", 4), 0,
                 "data segments come after element segments");
    sbx_instance_free(m);
    unload(&l), unload(&mem1);
}

/* -- Memory libcalls ------------------------------------------------------------------ */

Test(instance, passive_data_and_bulk_memory)
{
    struct loaded l;
    load(&l, "data_passive", false);
    struct sbx_instance *inst = must_instantiate(&l);
    struct sbx_vmctx *vm = &inst->vm;
    uint8_t *mem = inst->own_memory.base;
    cr_expect_eq(memcmp(mem + 100, "active", 6), 0);
    cr_expect_eq(sbx_rt_memory_init(vm, 0, 10, 1, 4), 0);
    cr_expect_eq(memcmp(mem + 10, "ello", 4), 0);
    cr_expect_eq(sbx_rt_memory_init(vm, 0, 65535, 0, 2), SBX_TRAP_OOB_MEMORY);
    cr_expect_eq(mem[65535], 0, "a failing init writes nothing");
    cr_expect_eq(sbx_rt_memory_init(vm, 0, 65536, 0, 0), 0);
    cr_expect_eq(sbx_rt_memory_init(vm, 0, 65537, 0, 0), SBX_TRAP_OOB_MEMORY);
    cr_expect_eq(sbx_rt_memory_init(vm, 0, 0, 5, 0), 0);
    cr_expect_eq(sbx_rt_memory_init(vm, 0, 0, 6, 0), SBX_TRAP_OOB_MEMORY);
    cr_expect_eq(sbx_rt_memory_init(vm, 0, 0, 4, 2), SBX_TRAP_OOB_MEMORY);
    cr_expect_eq(sbx_rt_memory_init(vm, 0, UINT32_MAX, 0, 1), SBX_TRAP_OOB_MEMORY);
    /* The active segment was dropped at instantiation. */
    cr_expect_eq(sbx_rt_memory_init(vm, 1, 0, 0, 0), 0);
    cr_expect_eq(sbx_rt_memory_init(vm, 1, 0, 0, 1), SBX_TRAP_OOB_MEMORY);
    sbx_rt_data_drop(vm, 0);
    cr_expect_eq(sbx_rt_memory_init(vm, 0, 0, 0, 1), SBX_TRAP_OOB_MEMORY);
    cr_expect_eq(sbx_rt_memory_init(vm, 0, 0, 0, 0), 0);

    cr_expect_eq(sbx_rt_memory_fill(vm, 200, 0x1AB, 3), 0);
    cr_expect_eq(memcmp(mem + 200, "\xAB\xAB\xAB", 3), 0);
    cr_expect_eq(mem[203], 0);
    cr_expect_eq(sbx_rt_memory_fill(vm, 65535, 1, 2), SBX_TRAP_OOB_MEMORY);
    cr_expect_eq(mem[65535], 0);
    cr_expect_eq(sbx_rt_memory_fill(vm, 65536, 1, 0), 0);
    cr_expect_eq(sbx_rt_memory_fill(vm, 65537, 1, 0), SBX_TRAP_OOB_MEMORY);
    cr_expect_eq(sbx_rt_memory_fill(vm, 1, 1, UINT32_MAX), SBX_TRAP_OOB_MEMORY);

    cr_expect_eq(sbx_rt_memory_copy(vm, 102, 100, 6), 0); /* overlapping */
    cr_expect_eq(memcmp(mem + 100, "acacti", 6), 0);
    cr_expect_eq(sbx_rt_memory_copy(vm, 65535, 0, 2), SBX_TRAP_OOB_MEMORY);
    cr_expect_eq(sbx_rt_memory_copy(vm, 0, 65535, 2), SBX_TRAP_OOB_MEMORY);
    cr_expect_eq(sbx_rt_memory_copy(vm, 65536, 65536, 0), 0);
    cr_expect_eq(sbx_rt_memory_copy(vm, 0, 65537, 0), SBX_TRAP_OOB_MEMORY);
    cr_expect_eq(sbx_rt_memory_copy(vm, 65537, 0, 0), SBX_TRAP_OOB_MEMORY);
    sbx_instance_free(inst);
    unload(&l);
}

Test(instance, memory_grow_boundaries)
{
    struct loaded l, u;
    load(&l, "mem_grow", false);
    load(&u, "mem_unbounded", false);
    struct sbx_instance *inst = must_instantiate(&l);
    struct sbx_vmctx *vm = &inst->vm;
    struct sbx_memory *mem = vm->memory;
    cr_expect_eq(mem->pages, 1);
    cr_expect_eq(mem->max_pages, 3);
    cr_expect_eq(sbx_rt_memory_grow(vm, 1), 1);
    cr_expect_eq(mem->pages, 2);
    cr_expect_eq(mem->size, 2 * 65536);
    cr_expect_eq(mem->base[2 * 65536 - 1], 0, "grown pages are zeroed");
    mem->base[2 * 65536 - 1] = 7; /* and writable */
    cr_expect_eq(sbx_rt_memory_grow(vm, 2), UINT32_MAX);
    cr_expect_eq(mem->pages, 2, "a failed grow changes nothing");
    cr_expect_eq(sbx_rt_memory_grow(vm, 1), 2);
    cr_expect_eq(sbx_rt_memory_grow(vm, 0), 3);
    cr_expect_eq(sbx_rt_memory_grow(vm, 1), UINT32_MAX);
    cr_expect_eq(sbx_rt_memory_grow(vm, UINT32_MAX), UINT32_MAX);
    cr_expect_eq(mem->size, 3 * 65536);
    sbx_instance_free(inst);

    /* No declared maximum: the pool's 16 pages. */
    inst = must_instantiate(&u);
    vm = &inst->vm;
    cr_expect_eq(vm->memory->pages, 0);
    cr_expect_eq(vm->memory->max_pages, 16);
    cr_expect(vm->memory->unbounded);
    cr_expect_eq(sbx_rt_memory_grow(vm, 0), 0);
    cr_expect_eq(sbx_rt_memory_grow(vm, 17), UINT32_MAX);
    cr_expect_eq(sbx_rt_memory_grow(vm, 16), 0);
    cr_expect_eq(sbx_rt_memory_grow(vm, 1), UINT32_MAX);
    cr_expect_eq(vm->memory->size, 16 * 65536);
    sbx_instance_free(inst);
    unload(&u), unload(&l);
}

Test(instance, fuel_epoch_and_accessors)
{
    struct loaded l;
    load(&l, "mem1", false);
    struct sbx_instance *inst = must_instantiate(&l);
    cr_expect_eq(sbx_instance_fuel(inst), INT64_MAX);
    sbx_instance_set_fuel(inst, 1000);
    cr_expect_eq(sbx_instance_fuel(inst), 1000);
    cr_expect_eq(inst->vm.fuel, 1000);
    cr_expect_not_null(inst->vm.epoch, "compiled epoch checks need a readable epoch");
    cr_expect_eq(inst->vm.epoch_deadline, UINT64_MAX);
    volatile uint64_t epoch = 5;
    sbx_instance_set_epoch(inst, &epoch, 7);
    cr_expect_eq(inst->vm.epoch, &epoch);
    cr_expect_eq(inst->vm.epoch_deadline, 7);
    sbx_instance_set_epoch(inst, NULL, 0);
    cr_expect_not_null(inst->vm.epoch);
    cr_expect_eq(sbx_instance_module(inst), l.m);
    sbx_instance_free(inst);
    unload(&l);
}

/* -- Conversions ---------------------------------------------------------------------- */

#define OK        0
#define OVF       SBX_TRAP_INT_OVERFLOW
#define INV       SBX_TRAP_INVALID_CONVERSION
#define F32_NAN   0x7fc00000u
#define F32_NNAN  0xffc00000u
#define F32_SNAN  0x7fa00000u
#define F32_INF   0x7f800000u
#define F32_NINF  0xff800000u
#define F32_NZERO 0x80000000u
#define F64_NAN   0x7ff8000000000000u
#define F64_NNAN  0xfff8000000000000u
#define F64_SNAN  0x7ff4000000000000u
#define F64_INF   0x7ff0000000000000u
#define F64_NINF  0xfff0000000000000u
#define F64_NZERO 0x8000000000000000u

struct conv_row {
    uint32_t op;
    uint64_t in;
    uint64_t out;
    int trap;
    const char *note;
};

static const struct conv_row conv_rows[] = {
    /* i32.trunc_f32_s: valid iff -2^31 <= trunc(x) < 2^31 */
    {SBX_OP_I32_TRUNC_F32_S, F32_NAN, 0, INV, "nan"},
    {SBX_OP_I32_TRUNC_F32_S, F32_NNAN, 0, INV, "-nan"},
    {SBX_OP_I32_TRUNC_F32_S, F32_SNAN, 0, INV, "snan"},
    {SBX_OP_I32_TRUNC_F32_S, 0, 0, OK, "+0"},
    {SBX_OP_I32_TRUNC_F32_S, F32_NZERO, 0, OK, "-0"},
    {SBX_OP_I32_TRUNC_F32_S, F32_INF, 0, OVF, "+inf"},
    {SBX_OP_I32_TRUNC_F32_S, F32_NINF, 0, OVF, "-inf"},
    {SBX_OP_I32_TRUNC_F32_S, 0x3fc00000, 1, OK, "1.5"},
    {SBX_OP_I32_TRUNC_F32_S, 0xbfc00000, 0xffffffff, OK, "-1.5"},
    {SBX_OP_I32_TRUNC_F32_S, 0x4effffff, 0x7fffff80, OK, "largest below 2^31"},
    {SBX_OP_I32_TRUNC_F32_S, 0x4f000000, 0, OVF, "2^31"},
    {SBX_OP_I32_TRUNC_F32_S, 0xcf000000, 0x80000000, OK, "-2^31"},
    {SBX_OP_I32_TRUNC_F32_S, 0xcf000001, 0, OVF, "one ulp below -2^31"},
    /* i32.trunc_f32_u: valid iff -1 < x < 2^32 */
    {SBX_OP_I32_TRUNC_F32_U, F32_NAN, 0, INV, "nan"},
    {SBX_OP_I32_TRUNC_F32_U, F32_NZERO, 0, OK, "-0"},
    {SBX_OP_I32_TRUNC_F32_U, F32_INF, 0, OVF, "+inf"},
    {SBX_OP_I32_TRUNC_F32_U, F32_NINF, 0, OVF, "-inf"},
    {SBX_OP_I32_TRUNC_F32_U, 0xbf666666, 0, OK, "-0.9"},
    {SBX_OP_I32_TRUNC_F32_U, 0xbf800000, 0, OVF, "-1"},
    {SBX_OP_I32_TRUNC_F32_U, 0x4f7fffff, 0xffffff00, OK, "largest below 2^32"},
    {SBX_OP_I32_TRUNC_F32_U, 0x4f800000, 0, OVF, "2^32"},
    {SBX_OP_I32_TRUNC_F32_U, 0x4f000000, 0x80000000, OK, "2^31"},
    /* i32.trunc_f64_s */
    {SBX_OP_I32_TRUNC_F64_S, F64_NAN, 0, INV, "nan"},
    {SBX_OP_I32_TRUNC_F64_S, F64_SNAN, 0, INV, "snan"},
    {SBX_OP_I32_TRUNC_F64_S, F64_NZERO, 0, OK, "-0"},
    {SBX_OP_I32_TRUNC_F64_S, F64_INF, 0, OVF, "+inf"},
    {SBX_OP_I32_TRUNC_F64_S, F64_NINF, 0, OVF, "-inf"},
    {SBX_OP_I32_TRUNC_F64_S, 0x41dfffffffc00000, 0x7fffffff, OK, "2^31-1"},
    {SBX_OP_I32_TRUNC_F64_S, 0x41dffffffff9999a, 0x7fffffff, OK, "2147483647.9"},
    {SBX_OP_I32_TRUNC_F64_S, 0x41e0000000000000, 0, OVF, "2^31"},
    {SBX_OP_I32_TRUNC_F64_S, 0xc1e00000001ccccd, 0x80000000, OK, "-2147483648.9"},
    {SBX_OP_I32_TRUNC_F64_S, 0xc1e0000000200000, 0, OVF, "-2^31-1"},
    {SBX_OP_I32_TRUNC_F64_S, 0xbff8000000000000, 0xffffffff, OK, "-1.5"},
    /* i32.trunc_f64_u */
    {SBX_OP_I32_TRUNC_F64_U, F64_NNAN, 0, INV, "-nan"},
    {SBX_OP_I32_TRUNC_F64_U, F64_NZERO, 0, OK, "-0"},
    {SBX_OP_I32_TRUNC_F64_U, F64_INF, 0, OVF, "+inf"},
    {SBX_OP_I32_TRUNC_F64_U, 0xbfefae147ae147ae, 0, OK, "-0.99"},
    {SBX_OP_I32_TRUNC_F64_U, 0xbff0000000000000, 0, OVF, "-1"},
    {SBX_OP_I32_TRUNC_F64_U, 0x41effffffffccccd, 0xffffffff, OK, "4294967295.9"},
    {SBX_OP_I32_TRUNC_F64_U, 0x41f0000000000000, 0, OVF, "2^32"},
    /* i64.trunc_f32_s */
    {SBX_OP_I64_TRUNC_F32_S, F32_NAN, 0, INV, "nan"},
    {SBX_OP_I64_TRUNC_F32_S, F32_INF, 0, OVF, "+inf"},
    {SBX_OP_I64_TRUNC_F32_S, F32_NINF, 0, OVF, "-inf"},
    {SBX_OP_I64_TRUNC_F32_S, 0xbfc00000, UINT64_MAX, OK, "-1.5"},
    {SBX_OP_I64_TRUNC_F32_S, 0x5effffff, 0x7fffff8000000000, OK, "largest below 2^63"},
    {SBX_OP_I64_TRUNC_F32_S, 0x5f000000, 0, OVF, "2^63"},
    {SBX_OP_I64_TRUNC_F32_S, 0xdf000000, 0x8000000000000000, OK, "-2^63"},
    {SBX_OP_I64_TRUNC_F32_S, 0xdf000001, 0, OVF, "one ulp below -2^63"},
    /* i64.trunc_f32_u */
    {SBX_OP_I64_TRUNC_F32_U, F32_NAN, 0, INV, "nan"},
    {SBX_OP_I64_TRUNC_F32_U, F32_NZERO, 0, OK, "-0"},
    {SBX_OP_I64_TRUNC_F32_U, 0xbf666666, 0, OK, "-0.9"},
    {SBX_OP_I64_TRUNC_F32_U, 0xbf800000, 0, OVF, "-1"},
    {SBX_OP_I64_TRUNC_F32_U, 0x5f7fffff, 0xffffff0000000000, OK, "largest below 2^64"},
    {SBX_OP_I64_TRUNC_F32_U, 0x5f800000, 0, OVF, "2^64"},
    {SBX_OP_I64_TRUNC_F32_U, F32_INF, 0, OVF, "+inf"},
    /* i64.trunc_f64_s */
    {SBX_OP_I64_TRUNC_F64_S, F64_NAN, 0, INV, "nan"},
    {SBX_OP_I64_TRUNC_F64_S, F64_NZERO, 0, OK, "-0"},
    {SBX_OP_I64_TRUNC_F64_S, F64_INF, 0, OVF, "+inf"},
    {SBX_OP_I64_TRUNC_F64_S, F64_NINF, 0, OVF, "-inf"},
    {SBX_OP_I64_TRUNC_F64_S, 0x43dfffffffffffff, 0x7ffffffffffffc00, OK, "largest below 2^63"},
    {SBX_OP_I64_TRUNC_F64_S, 0x43e0000000000000, 0, OVF, "2^63"},
    {SBX_OP_I64_TRUNC_F64_S, 0xc3e0000000000000, 0x8000000000000000, OK, "-2^63"},
    {SBX_OP_I64_TRUNC_F64_S, 0xc3e0000000000001, 0, OVF, "one ulp below -2^63"},
    {SBX_OP_I64_TRUNC_F64_S, 0xbff8000000000000, UINT64_MAX, OK, "-1.5"},
    /* i64.trunc_f64_u */
    {SBX_OP_I64_TRUNC_F64_U, F64_NAN, 0, INV, "nan"},
    {SBX_OP_I64_TRUNC_F64_U, F64_NZERO, 0, OK, "-0"},
    {SBX_OP_I64_TRUNC_F64_U, 0xbfefae147ae147ae, 0, OK, "-0.99"},
    {SBX_OP_I64_TRUNC_F64_U, 0xbff0000000000000, 0, OVF, "-1"},
    {SBX_OP_I64_TRUNC_F64_U, 0x43efffffffffffff, 0xfffffffffffff800, OK, "largest below 2^64"},
    {SBX_OP_I64_TRUNC_F64_U, 0x43f0000000000000, 0, OVF, "2^64"},
    {SBX_OP_I64_TRUNC_F64_U, 0x43e0000000000000, 0x8000000000000000, OK, "2^63"},
    {SBX_OP_I64_TRUNC_F64_U, F64_INF, 0, OVF, "+inf"},
    /* Saturating: NaN gives 0, out of range clamps, never a trap. */
    {SBX_OP_I32_TRUNC_SAT_F32_S, F32_NAN, 0, OK, "nan"},
    {SBX_OP_I32_TRUNC_SAT_F32_S, F32_INF, 0x7fffffff, OK, "+inf"},
    {SBX_OP_I32_TRUNC_SAT_F32_S, F32_NINF, 0x80000000, OK, "-inf"},
    {SBX_OP_I32_TRUNC_SAT_F32_S, 0x4f000000, 0x7fffffff, OK, "2^31"},
    {SBX_OP_I32_TRUNC_SAT_F32_S, 0xcf000001, 0x80000000, OK, "below -2^31"},
    {SBX_OP_I32_TRUNC_SAT_F32_S, 0xbfc00000, 0xffffffff, OK, "-1.5"},
    {SBX_OP_I32_TRUNC_SAT_F32_U, F32_NNAN, 0, OK, "-nan"},
    {SBX_OP_I32_TRUNC_SAT_F32_U, F32_INF, 0xffffffff, OK, "+inf"},
    {SBX_OP_I32_TRUNC_SAT_F32_U, F32_NINF, 0, OK, "-inf"},
    {SBX_OP_I32_TRUNC_SAT_F32_U, 0x4f800000, 0xffffffff, OK, "2^32"},
    {SBX_OP_I32_TRUNC_SAT_F32_U, 0x4f7fffff, 0xffffff00, OK, "below 2^32"},
    {SBX_OP_I32_TRUNC_SAT_F32_U, 0xbfc00000, 0, OK, "-1.5"},
    {SBX_OP_I32_TRUNC_SAT_F64_S, F64_NAN, 0, OK, "nan"},
    {SBX_OP_I32_TRUNC_SAT_F64_S, 0x41e0000000000000, 0x7fffffff, OK, "2^31"},
    {SBX_OP_I32_TRUNC_SAT_F64_S, 0xc1e0000000200000, 0x80000000, OK, "-2^31-1"},
    {SBX_OP_I32_TRUNC_SAT_F64_S, 0xc1e00000001ccccd, 0x80000000, OK, "-2147483648.9"},
    {SBX_OP_I32_TRUNC_SAT_F64_S, F64_NZERO, 0, OK, "-0"},
    {SBX_OP_I32_TRUNC_SAT_F64_U, F64_NAN, 0, OK, "nan"},
    {SBX_OP_I32_TRUNC_SAT_F64_U, 0x41f0000000000000, 0xffffffff, OK, "2^32"},
    {SBX_OP_I32_TRUNC_SAT_F64_U, 0x41effffffffccccd, 0xffffffff, OK, "4294967295.9"},
    {SBX_OP_I32_TRUNC_SAT_F64_U, F64_NINF, 0, OK, "-inf"},
    {SBX_OP_I64_TRUNC_SAT_F32_S, F32_NAN, 0, OK, "nan"},
    {SBX_OP_I64_TRUNC_SAT_F32_S, 0x5f000000, 0x7fffffffffffffff, OK, "2^63"},
    {SBX_OP_I64_TRUNC_SAT_F32_S, 0xdf000000, 0x8000000000000000, OK, "-2^63"},
    {SBX_OP_I64_TRUNC_SAT_F32_S, 0xdf000001, 0x8000000000000000, OK, "below -2^63"},
    {SBX_OP_I64_TRUNC_SAT_F32_U, F32_NAN, 0, OK, "nan"},
    {SBX_OP_I64_TRUNC_SAT_F32_U, 0x5f800000, UINT64_MAX, OK, "2^64"},
    {SBX_OP_I64_TRUNC_SAT_F32_U, 0xbf800000, 0, OK, "-1"},
    {SBX_OP_I64_TRUNC_SAT_F64_S, F64_NAN, 0, OK, "nan"},
    {SBX_OP_I64_TRUNC_SAT_F64_S, F64_INF, 0x7fffffffffffffff, OK, "+inf"},
    {SBX_OP_I64_TRUNC_SAT_F64_S, 0x43e0000000000000, 0x7fffffffffffffff, OK, "2^63"},
    {SBX_OP_I64_TRUNC_SAT_F64_S, 0x43dfffffffffffff, 0x7ffffffffffffc00, OK, "below 2^63"},
    {SBX_OP_I64_TRUNC_SAT_F64_S, 0xc3e0000000000001, 0x8000000000000000, OK, "below -2^63"},
    {SBX_OP_I64_TRUNC_SAT_F64_U, F64_NAN, 0, OK, "nan"},
    {SBX_OP_I64_TRUNC_SAT_F64_U, 0x43f0000000000000, UINT64_MAX, OK, "2^64"},
    {SBX_OP_I64_TRUNC_SAT_F64_U, 0x43efffffffffffff, 0xfffffffffffff800, OK, "below 2^64"},
    {SBX_OP_I64_TRUNC_SAT_F64_U, 0xbfefae147ae147ae, 0, OK, "-0.99"},
    {SBX_OP_I64_TRUNC_SAT_F64_U, F64_NINF, 0, OK, "-inf"},
    /* u64 to float: correctly rounded (ties to even), no double rounding. */
    {SBX_OP_F32_CONVERT_I64_U, 0, 0, OK, "0"},
    {SBX_OP_F32_CONVERT_I64_U, 1, 0x3f800000, OK, "1"},
    {SBX_OP_F32_CONVERT_I64_U, UINT64_MAX, 0x5f800000, OK, "2^64-1 rounds to 2^64"},
    {SBX_OP_F32_CONVERT_I64_U, 0x1000001, 0x4b800000, OK, "2^24+1: tie to even"},
    {SBX_OP_F32_CONVERT_I64_U, 0x1000003, 0x4b800002, OK, "2^24+3: tie to even (up)"},
    {SBX_OP_F32_CONVERT_I64_U, 0x8000008000000000, 0x5f000000, OK, "2^63+2^39: tie to even"},
    {SBX_OP_F32_CONVERT_I64_U, 0x8000008000000001, 0x5f000001, OK,
     "2^63+2^39+1: no double rounding"},
    {SBX_OP_F32_CONVERT_I64_U, 0x7fffffffffffffff, 0x5f000000, OK, "2^63-1"},
    {SBX_OP_F64_CONVERT_I64_U, 0, 0, OK, "0"},
    {SBX_OP_F64_CONVERT_I64_U, UINT64_MAX, 0x43f0000000000000, OK, "2^64-1 rounds to 2^64"},
    {SBX_OP_F64_CONVERT_I64_U, 0x20000000000001, 0x4340000000000000, OK, "2^53+1: tie to even"},
    {SBX_OP_F64_CONVERT_I64_U, 0x20000000000003, 0x4340000000000002, OK,
     "2^53+3: tie to even (up)"},
    {SBX_OP_F64_CONVERT_I64_U, 0x8000000000000400, 0x43e0000000000000, OK, "2^63+1024: tie"},
    {SBX_OP_F64_CONVERT_I64_U, 0x8000000000000401, 0x43e0000000000001, OK, "2^63+1025: up"},
    {SBX_OP_F64_CONVERT_I64_U, 0x8000000000000c00, 0x43e0000000000002, OK, "2^63+3072: tie up"},
};

Test(convert, boundary_table)
{
    for (size_t i = 0; i < sizeof(conv_rows) / sizeof(conv_rows[0]); i++) {
        const struct conv_row *r = &conv_rows[i];
        struct sbx_rt_result got = sbx_rt_convert(r->op, r->in);
        const char *name = sbx_opinfo[r->op].name;
        cr_expect_eq(got.trap, (uint64_t)r->trap, "%s(%#llx) [%s]: trap %llu, want %d", name,
                     (unsigned long long)r->in, r->note, (unsigned long long)got.trap, r->trap);
        if (r->trap == OK)
            cr_expect_eq(got.value, r->out, "%s(%#llx) [%s]: %#llx, want %#llx", name,
                         (unsigned long long)r->in, r->note, (unsigned long long)got.value,
                         (unsigned long long)r->out);
    }
}

/* Every f32 operand's bits above bit 31 are ignored; i32 results are
 * zero-extended. */
Test(convert, operand_and_result_widths)
{
    struct sbx_rt_result r =
        sbx_rt_convert(SBX_OP_I32_TRUNC_F32_S, 0xffffffff00000000u | 0xbfc00000);
    cr_expect_eq(r.trap, 0);
    cr_expect_eq(r.value, 0xffffffffu);
    r = sbx_rt_convert(SBX_OP_I32_TRUNC_F64_S, 0xc1e00000001ccccd);
    cr_expect_eq(r.value, 0x80000000u);
}

/* -- End to end, through the compiler ------------------------------------------------------ */

static uint32_t export_func(struct sbx_instance *inst, const char *name)
{
    struct sbx_extern x;
    cr_assert_eq(sbx_instance_export(inst, name, &x), 0, "export %s", name);
    cr_assert_eq(x.kind, SBX_EXTERN_FUNC);
    return x.u.func.ref->func_index;
}

static int call2(struct sbx_instance *inst, const char *name, uint32_t a, uint32_t b, uint32_t *out,
                 struct sbx_trap *trap)
{
    union sbx_val args[2] = {{.i32 = a}, {.i32 = b}}, res[1] = {{0}};
    int rc = sbx_instance_call(inst, export_func(inst, name), args, res, trap);
    *out = res[0].i32;
    return rc;
}

Test(e2e, calls_and_traps, .init = setup, .fini = teardown)
{
    struct loaded l;
    load(&l, "add", true);
    struct sbx_host_func *twice = sbx_host_func_new(t_i32, 1, t_i32, 1, host_twice, NULL);
    define("twice", (struct sbx_extern){.kind = SBX_EXTERN_FUNC, .u.func.host = twice});
    struct sbx_instance *inst = must_instantiate(&l);
    struct sbx_trap trap;
    uint32_t r;
    cr_expect_eq(call2(inst, "add", 2, 3, &r, &trap), 0, "%s", trap.message);
    cr_expect_eq(r, 5);
    cr_expect_eq(call2(inst, "add", UINT32_MAX, 1, &r, &trap), 0);
    cr_expect_eq(r, 0);
    cr_expect_eq(call2(inst, "load", 16, 0, &r, &trap), 0, "%s", trap.message);
    cr_expect_eq(r, 42, "the data segment reached memory");
    cr_expect_eq(call2(inst, "call_twice", 21, 0, &r, &trap), 0, "%s", trap.message);
    cr_expect_eq(r, 42, "a host import called from wasm");

    union sbx_val none[1];
    uint32_t boom = export_func(inst, "boom");
    cr_expect_eq(sbx_instance_call(inst, boom, none, none, &trap), -1);
    cr_expect_eq(trap.code, SBX_TRAP_UNREACHABLE);
    cr_expect_str_eq(trap.message, "unreachable");
    cr_expect_geq(trap.nframes, 1);
    cr_expect_eq(trap.frames[0], boom);
    cr_expect_eq(call2(inst, "div", 1, 0, &r, &trap), -1);
    cr_expect_eq(trap.code, SBX_TRAP_INT_DIV_ZERO);
    cr_expect_eq(call2(inst, "div", 0x80000000u, UINT32_MAX, &r, &trap), -1);
    cr_expect_eq(trap.code, SBX_TRAP_INT_OVERFLOW);
    cr_expect_eq(call2(inst, "load", 65533, 0, &r, &trap), -1);
    cr_expect_eq(trap.code, SBX_TRAP_OOB_MEMORY, "%s", trap.message);
    /* Still usable after traps. */
    cr_expect_eq(call2(inst, "add", 40, 2, &r, &trap), 0);
    cr_expect_eq(r, 42);
    /* Calling the import directly, and a bad index. */
    union sbx_val arg = {.i32 = 5}, res = {0};
    cr_expect_eq(sbx_instance_call(inst, 0, &arg, &res, &trap), 0);
    cr_expect_eq(res.i32, 10);
    cr_expect_eq(sbx_instance_call(inst, 1000, &arg, &res, &trap), -1);
    sbx_instance_free(inst);
    sbx_host_func_free(twice);
    unload(&l);
}

Test(e2e, start_function_trap, .init = setup, .fini = teardown)
{
    struct loaded l;
    load(&l, "start_trap", true);
    expect_trap(&l, SBX_TRAP_UNREACHABLE);
    unload(&l);
}

/* linking.wast: a module whose instantiation traps after writing its
 * function into an imported table; the function stays callable. The
 * failed instance belongs to the linker from then on. */
Test(e2e, trapped_instance_functions_stay_callable, .init = setup, .fini = teardown)
{
    struct loaded mt, z;
    load(&mt, "mt", true);
    load(&z, "zombie", true);
    struct sbx_instance *owner = must_instantiate(&mt);
    struct sbx_extern tab;
    cr_assert_eq(sbx_instance_export(owner, "tab", &tab), 0);
    define("tab", tab);
    expect_trap(&z, SBX_TRAP_OOB_MEMORY);
    struct sbx_trap trap;
    union sbx_val arg = {.i32 = 7}, res = {0};
    cr_expect_eq(sbx_instance_call(owner, export_func(owner, "call"), &arg, &res, &trap), 0, "%s",
                 trap.message);
    cr_expect_eq(res.i32, 77);
    arg.i32 = 6;
    cr_expect_eq(sbx_instance_call(owner, export_func(owner, "call"), &arg, &res, &trap), -1);
    cr_expect_eq(trap.code, SBX_TRAP_UNINITIALIZED_ELEMENT);
    sbx_instance_free(owner);
    /* The linker frees the failed instance (teardown); its code must
     * outlive it, so unload after. */
    sbx_linker_free(linker);
    linker = NULL;
    unload(&z), unload(&mt);
}
