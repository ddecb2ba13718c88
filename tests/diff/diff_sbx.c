/* Differential-testing runner for sbx (issue 4): loads a module produced by
 * binaryen's `wasm-opt --translate-to-fuzz`, instantiates it with the
 * "fuzzing-support" imports as logging host functions, calls every exported
 * function in export order with zero arguments, and prints a canonical
 * transcript that tests/diff/compare.mjs checks against diff_node.mjs.
 *
 * Transcript lines (the node runner prints the same ones):
 *   compile error MSG | instantiate trap MSG | instantiate error MSG
 *   call NAME
 *   log NAME VAL...           a fuzzing-support host call
 *   result VAL...             the export returned
 *   trap MSG                  the export trapped (MSG: the engine's text)
 *   memory PAGES HASH         after the last call, if a memory is exported
 *   end
 * VAL: i32:0x%08x, i64:0x%016x, f32:0x%08x / f64:0x%016x (bits) or
 * f32:nan / f64:nan, ref:null or ref:nonnull.
 *
 * Before each export call the runner calls "hangLimitInitializer" when the
 * module exports it (binaryen's own harness does the same) and refills the
 * fuel, so a runaway call ends with "all fuel consumed".
 *
 * usage: diff_sbx [--no-fuel] [--epoch] MODULE.wasm
 *   --no-fuel  compile without fuel metering (other code; binaryen's hang
 *              limit still bounds loops and recursion)
 *   --epoch    also compile epoch checks (the deadline is never reached) */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jit/runtime.h"
#include "memimg/pool.h"

#define FUEL_PER_CALL 1000000
#define MAX_VALS      64

struct logger {
    char name[64];
    const struct sbx_functype *type;
};

static void print_val(uint8_t type, const union sbx_val *v)
{
    switch (type) {
    case SBX_I32: printf(" i32:0x%08" PRIx32, v->i32); break;
    case SBX_I64: printf(" i64:0x%016" PRIx64, v->i64); break;
    case SBX_F32:
        if ((v->f32 & 0x7f800000u) == 0x7f800000u && (v->f32 & 0x007fffffu))
            printf(" f32:nan");
        else
            printf(" f32:0x%08" PRIx32, v->f32);
        break;
    case SBX_F64:
        if ((v->f64 & 0x7ff0000000000000ull) == 0x7ff0000000000000ull &&
            (v->f64 & 0x000fffffffffffffull))
            printf(" f64:nan");
        else
            printf(" f64:0x%016" PRIx64, v->f64);
        break;
    case SBX_FUNCREF:
    case SBX_EXTERNREF: printf(" ref:%s", v->ref ? "nonnull" : "null"); break;
    default: printf(" %s:?", sbx_valtype_name(type)); break;
    }
}

static int log_host(void *env, struct sbx_caller *caller, const union sbx_val *args,
                    union sbx_val *results)
{
    (void)caller;
    const struct logger *lg = env;
    printf("log %s", lg->name);
    for (uint32_t i = 0; i < lg->type->nparams; i++)
        print_val(lg->type->params[i], &args[i]);
    putchar('\n');
    for (uint32_t i = 0; i < lg->type->nresults; i++)
        memset(&results[i], 0, sizeof(results[i]));
    return 0;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        uint8_t *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    fclose(f);
    *len = n;
    return buf;
}

static bool name_is(const struct sbx_name *n, const char *s)
{
    return n->len == strlen(s) && !memcmp(n->ptr, s, n->len);
}

/* FNV-1a over the accessible bytes; the node runner computes the same. */
static uint64_t hash_memory(const struct sbx_memory *mem)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint64_t i = 0; i < mem->size; i++) {
        h ^= mem->base[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static bool use_fuel = true;
static const volatile uint64_t epoch_zero = 0;

static int call_export(struct sbx_instance *inst, const struct sbx_module *m, uint32_t func,
                       struct sbx_trap *trap, union sbx_val *res)
{
    const struct sbx_functype *ft = sbx_module_func_type(m, func);
    union sbx_val args[MAX_VALS];
    memset(args, 0, sizeof(args));
    if (ft->nparams > MAX_VALS || ft->nresults > MAX_VALS) {
        snprintf(trap->message, sizeof(trap->message), "harness: too many values");
        return -1;
    }
    if (use_fuel) sbx_instance_set_fuel(inst, FUEL_PER_CALL);
    return sbx_instance_call(inst, func, args, res, trap);
}

int main(int argc, char **argv)
{
    bool use_epoch = false;
    int a = 1;
    for (; a < argc && argv[a][0] == '-'; a++) {
        if (!strcmp(argv[a], "--no-fuel"))
            use_fuel = false;
        else if (!strcmp(argv[a], "--epoch"))
            use_epoch = true;
        else
            break;
    }
    if (a != argc - 1) {
        fprintf(stderr, "usage: diff_sbx [--no-fuel] [--epoch] MODULE.wasm\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    size_t len;
    uint8_t *bytes = read_file(argv[a], &len);
    if (!bytes) {
        perror(argv[a]);
        return 2;
    }
    int status = 0;
    struct sbx_error err;
    struct sbx_module *m = sbx_module_load(bytes, len, &err);
    struct sbx_compiled *c = NULL;
    struct sbx_pool *pool = NULL;
    struct sbx_linker *linker = NULL;
    struct sbx_instance *inst = NULL;
    struct logger *loggers = NULL;
    struct sbx_host_func **hosts = NULL;
    if (!m) {
        char buf[512];
        sbx_error_format(&err, buf, sizeof(buf));
        printf("compile error %s\nend\n", buf);
        goto out;
    }
    struct sbx_compile_options copts = {.fuel = use_fuel, .epoch = use_epoch};
    c = sbx_compile(m, &copts, &err);
    if (!c) {
        printf("compile error %s\nend\n", err.msg);
        goto out;
    }
    struct sbx_pool_config pcfg;
    sbx_pool_config_default(&pcfg);
    pcfg.slot_count = 2;
    if (sbx_pool_create(&pcfg, &pool)) {
        fprintf(stderr, "diff_sbx: cannot create the memory pool\n");
        status = 2;
        goto out;
    }
    linker = sbx_linker_new();
    loggers = calloc(m->nimports + 1, sizeof(*loggers));
    hosts = calloc(m->nimports + 1, sizeof(*hosts));
    if (!linker || !loggers || !hosts) {
        status = 2;
        goto out;
    }
    for (uint32_t i = 0; i < m->nimports; i++) {
        const struct sbx_import *im = &m->imports[i];
        if (im->kind != SBX_EXTERN_FUNC || !name_is(&im->module, "fuzzing-support")) continue;
        const struct sbx_functype *ft = &m->types[im->u.func_type];
        snprintf(loggers[i].name, sizeof(loggers[i].name), "%.*s", (int)im->name.len, im->name.ptr);
        loggers[i].type = ft;
        hosts[i] = sbx_host_func_new(ft->params, ft->nparams, ft->results, ft->nresults, log_host,
                                     &loggers[i]);
        struct sbx_extern ext = {.kind = SBX_EXTERN_FUNC};
        ext.u.func.host = hosts[i];
        if (!hosts[i] || sbx_linker_define(linker, "fuzzing-support", loggers[i].name, &ext)) {
            status = 2;
            goto out;
        }
    }
    struct sbx_trap trap;
    memset(&trap, 0, sizeof(trap));
    inst = sbx_instantiate(c, linker, pool, &err, &trap);
    if (!inst) {
        if (trap.code != SBX_TRAP_NONE)
            printf("instantiate trap %s\nend\n", trap.message);
        else
            printf("instantiate error %s\nend\n", err.msg);
        goto out;
    }
    if (use_epoch) sbx_instance_set_epoch(inst, &epoch_zero, UINT64_MAX);
    int64_t hang_init = -1;
    bool has_memory = false;
    for (uint32_t i = 0; i < m->nexports; i++) {
        const struct sbx_export *e = &m->exports[i];
        if (e->kind == SBX_EXTERN_FUNC && name_is(&e->name, "hangLimitInitializer"))
            hang_init = e->index;
        if (e->kind == SBX_EXTERN_MEMORY) has_memory = true;
    }
    union sbx_val res[MAX_VALS];
    for (uint32_t i = 0; i < m->nexports; i++) {
        const struct sbx_export *e = &m->exports[i];
        if (e->kind != SBX_EXTERN_FUNC || (int64_t)e->index == hang_init) continue;
        printf("call %.*s\n", (int)e->name.len, e->name.ptr);
        if (hang_init >= 0 && call_export(inst, m, (uint32_t)hang_init, &trap, res)) {
            printf("trap hangLimitInitializer: %s\n", trap.message);
            continue;
        }
        if (call_export(inst, m, e->index, &trap, res)) {
            printf("trap %s\n", trap.message);
            continue;
        }
        const struct sbx_functype *ft = sbx_module_func_type(m, e->index);
        printf("result");
        for (uint32_t r = 0; r < ft->nresults; r++)
            print_val(ft->results[r], &res[r]);
        putchar('\n');
    }
    struct sbx_memory *mem = sbx_instance_memory(inst);
    if (has_memory && mem)
        printf("memory %" PRIu32 " %016" PRIx64 "\n", mem->pages, hash_memory(mem));
    printf("end\n");
out:
    sbx_instance_free(inst);
    sbx_linker_free(linker);
    if (hosts)
        for (uint32_t i = 0; m && i < m->nimports; i++)
            sbx_host_func_free(hosts[i]);
    free(hosts);
    free(loggers);
    if (pool) sbx_pool_destroy(pool);
    sbx_compiled_free(c);
    sbx_module_free(m);
    free(bytes);
    return status;
}
