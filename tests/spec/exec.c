/* Runs the execution commands of a wast2json command list against the
 * compiler and instance runtime: module instantiation with the `spectest`
 * imports, register, invoke/get actions, and the assertions on their results,
 * traps and link errors. Values are parsed and matched by values.c. */
#include "tests/spec/exec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jit/insn.h"
#include "jit/limits.h"
#include "jit/module.h"
#include "jit/runtime.h"
#include "memimg/pool.h"
#include "tests/spec/spec_file.h"
#include "tests/spec/values.h"

/* -- State -- */

enum state {
    ST_READY,  /* instantiated */
    ST_SIMD,   /* the compiler rejected its SIMD code: skipped */
    ST_FAILED, /* did not load, compile or instantiate */
};

/* One module command's outcome, kept until the file ends: functions of a
 * module whose instantiation trapped may already sit in shared tables. */
struct loaded {
    char *name;     /* "$M" from the command, or NULL */
    int64_t line;   /* of the command */
    int state;      /* enum state */
    uint8_t *bytes; /* the binary; the module points into it */
    struct sbx_module *module;
    struct sbx_compiled *compiled;
    struct sbx_instance *instance;
};

/* spectest's globals, in this order (global_i32 = 666 and so on). */
enum { G_I32, G_I64, G_F32, G_F64, NGLOBALS };

#define SPECTEST_TABLE_MIN 10
#define SPECTEST_TABLE_MAX 20
#define SPECTEST_MEM_MIN   1
#define SPECTEST_MEM_MAX   2
/* The spectest memory's affinity key in the pool: "spectest" in ASCII. It
 * has no image, so sharing the key with nothing else is all it needs. */
#define SPECTEST_POOL_KEY UINT64_C(0x7370656374657374)

/* spectest's functions: a name and its parameters each, no results. */
static const struct {
    const char *name;
    uint8_t nparams;
    uint8_t params[2];
} print_funcs[] = {
    {"print", 0, {0}},
    {"print_i32", 1, {SBX_I32}},
    {"print_i64", 1, {SBX_I64}},
    {"print_f32", 1, {SBX_F32}},
    {"print_f64", 1, {SBX_F64}},
    {"print_i32_f32", 2, {SBX_I32, SBX_F32}},
    {"print_f64_f64", 2, {SBX_F64, SBX_F64}},
};
#define NPRINT_FUNCS (sizeof print_funcs / sizeof print_funcs[0])

/* The print functions' env: where to find the stream, and their types. */
struct print_env {
    struct sbx_spec_exec *ex;
    uint8_t nparams;
    uint8_t params[2];
};

struct sbx_spec_exec {
    struct sbx_pool *pool;
    struct sbx_linker *linker;
    FILE *print_out;

    struct sbx_host_func *host_funcs[NPRINT_FUNCS];
    struct print_env print_envs[NPRINT_FUNCS];
    struct sbx_pool_slot *mem_slot;
    struct sbx_memory memory;
    struct sbx_table table;
    union sbx_global_cell globals[NGLOBALS];

    struct loaded **mods; /* in command order */
    size_t nmods, cap;
    struct loaded *current; /* the latest module command's, or NULL */
};

static int say(char *why, size_t size, int result, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Writes the reason (if any) and returns `result`, so checks can end with
 * `return say(...)`. */
static int say(char *why, size_t size, int result, const char *fmt, ...)
{
    if (!why || !size) return result;
    if (!fmt) {
        why[0] = '\0';
        return result;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, size, fmt, ap);
    va_end(ap);
    return result;
}

static const char *get_string(struct json_object *obj, const char *key)
{
    struct json_object *v;
    if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static int64_t get_line(struct json_object *cmd)
{
    struct json_object *v;
    return json_object_object_get_ex(cmd, "line", &v) ? json_object_get_int64(v) : 0;
}

/* -- The spectest module -- */

static void print_value(FILE *out, uint8_t type, const union sbx_val *v)
{
    float f;
    double d;
    switch (type) {
    case SBX_I32: fprintf(out, "%d : i32\n", (int32_t)v->i32); break;
    case SBX_I64: fprintf(out, "%lld : i64\n", (long long)(int64_t)v->i64); break;
    case SBX_F32:
        memcpy(&f, &v->f32, sizeof f);
        fprintf(out, "%.9g : f32\n", (double)f);
        break;
    case SBX_F64:
        memcpy(&d, &v->f64, sizeof d);
        fprintf(out, "%.17g : f64\n", d);
        break;
    default: break;
    }
}

static int spectest_print(void *env, struct sbx_caller *caller, const union sbx_val *args,
                          union sbx_val *results)
{
    const struct print_env *p = env;
    FILE *out = p->ex->print_out;
    if (!out) return 0;
    for (uint8_t i = 0; i < p->nparams; i++)
        print_value(out, p->params[i], &args[i]);
    return 0;
}

static int define_spectest(struct sbx_spec_exec *ex, char *why, size_t why_size)
{
    struct sbx_extern ext;

    /* Functions: no results, printing only if asked to. */
    struct print_env *envs = ex->print_envs;
    for (size_t i = 0; i < NPRINT_FUNCS; i++) {
        envs[i] = (struct print_env){.ex = ex, .nparams = print_funcs[i].nparams};
        memcpy(envs[i].params, print_funcs[i].params, sizeof envs[i].params);
        ex->host_funcs[i] = sbx_host_func_new(print_funcs[i].params, print_funcs[i].nparams, NULL,
                                              0, spectest_print, &envs[i]);
        if (!ex->host_funcs[i]) return say(why, why_size, -1, "out of memory");
        memset(&ext, 0, sizeof ext);
        ext.kind = SBX_EXTERN_FUNC;
        ext.u.func.host = ex->host_funcs[i];
        if (sbx_linker_define(ex->linker, "spectest", print_funcs[i].name, &ext))
            return say(why, why_size, -1, "out of memory");
    }

    /* Globals: immutable, 666 (and 666.6 for the floats). */
    float f = 666.6f;
    double d = 666.6;
    ex->globals[G_I32].i32 = 666;
    ex->globals[G_I64].i64 = 666;
    memcpy(&ex->globals[G_F32].i32, &f, sizeof f);
    memcpy(&ex->globals[G_F64].i64, &d, sizeof d);
    static const struct {
        const char *name;
        uint8_t type;
    } globals[NGLOBALS] = {
        [G_I32] = {"global_i32", SBX_I32},
        [G_I64] = {"global_i64", SBX_I64},
        [G_F32] = {"global_f32", SBX_F32},
        [G_F64] = {"global_f64", SBX_F64},
    };
    for (size_t i = 0; i < NGLOBALS; i++) {
        memset(&ext, 0, sizeof ext);
        ext.kind = SBX_EXTERN_GLOBAL;
        ext.u.global.cell = &ex->globals[i];
        ext.u.global.type = globals[i].type;
        ext.u.global.mutable_ = false;
        if (sbx_linker_define(ex->linker, "spectest", globals[i].name, &ext))
            return say(why, why_size, -1, "out of memory");
    }

    /* Table: funcref, 10 elements, at most 20. malloc'd, so the runtime
     * may grow it with realloc. */
    ex->table.elems = calloc(SPECTEST_TABLE_MIN, sizeof(void *));
    if (!ex->table.elems) return say(why, why_size, -1, "out of memory");
    ex->table.size = SPECTEST_TABLE_MIN;
    ex->table.max = SPECTEST_TABLE_MAX;
    ex->table.elem_type = SBX_FUNCREF;
    memset(&ext, 0, sizeof ext);
    ext.kind = SBX_EXTERN_TABLE;
    ext.u.table = &ex->table;
    if (sbx_linker_define(ex->linker, "spectest", "table", &ext))
        return say(why, why_size, -1, "out of memory");

    /* Memory: 1 page, at most 2, in a pool slot (guard pages included). */
    struct sbx_pool_request req = {
        .module = SPECTEST_POOL_KEY,
        .memory_index = 0,
        .image = NULL,
        .initial_pages = SPECTEST_MEM_MIN,
        .max_pages = SPECTEST_MEM_MAX,
    };
    int e = 0;
    ex->mem_slot = sbx_pool_instantiate(ex->pool, &req, &e);
    if (!ex->mem_slot)
        return say(why, why_size, -1, "spectest memory: no pool slot (%s)", strerror(-e));
    ex->memory = (struct sbx_memory){
        .base = sbx_pool_slot_base(ex->mem_slot),
        .pages = sbx_pool_slot_pages(ex->mem_slot),
        .max_pages = sbx_pool_slot_max_pages(ex->mem_slot),
        .slot = ex->mem_slot,
    };
    ex->memory.size = (uint64_t)ex->memory.pages * 65536;
    memset(&ext, 0, sizeof ext);
    ext.kind = SBX_EXTERN_MEMORY;
    ext.u.memory = &ex->memory;
    if (sbx_linker_define(ex->linker, "spectest", "memory", &ext))
        return say(why, why_size, -1, "out of memory");
    return 0;
}

/* -- Lifetime -- */

struct sbx_spec_exec *sbx_spec_exec_new(struct sbx_pool *pool, char *why, size_t why_size)
{
    struct sbx_spec_exec *ex = calloc(1, sizeof *ex);
    if (!ex) {
        say(why, why_size, 0, "out of memory");
        return NULL;
    }
    ex->pool = pool;
    ex->linker = sbx_linker_new();
    if (!ex->linker) {
        say(why, why_size, 0, "out of memory");
        free(ex);
        return NULL;
    }
    if (define_spectest(ex, why, why_size)) {
        sbx_spec_exec_free(ex);
        return NULL;
    }
    say(why, why_size, 0, NULL);
    return ex;
}

void sbx_spec_exec_free(struct sbx_spec_exec *ex)
{
    if (!ex) return;
    /* Later instances may import from earlier ones: free newest first, and
     * every instance before the code and modules any of them may call. */
    for (size_t i = ex->nmods; i-- > 0;)
        sbx_instance_free(ex->mods[i]->instance);
    for (size_t i = ex->nmods; i-- > 0;) {
        struct loaded *l = ex->mods[i];
        sbx_compiled_free(l->compiled);
        sbx_module_free(l->module);
        free(l->bytes);
        free(l->name);
        free(l);
    }
    free(ex->mods);
    sbx_linker_free(ex->linker);
    for (size_t i = 0; i < NPRINT_FUNCS; i++)
        sbx_host_func_free(ex->host_funcs[i]);
    free(ex->table.elems);
    if (ex->mem_slot) sbx_pool_release(ex->pool, ex->mem_slot);
    free(ex);
}

void sbx_spec_exec_set_print(struct sbx_spec_exec *ex, FILE *out)
{
    ex->print_out = out;
}

/* -- Modules -- */

/* True if the module's code uses SIMD: a v128 in its types, globals or
 * locals, or an instruction with the 0xFD prefix. The compiler's refusal of
 * such a module is the SIMD skip, not a failure. */
static bool uses_simd(const struct sbx_module *m)
{
    for (uint32_t i = 0; i < m->ntypes; i++) {
        const struct sbx_functype *t = &m->types[i];
        for (uint32_t k = 0; k < t->nparams; k++)
            if (t->params[k] == SBX_V128) return true;
        for (uint32_t k = 0; k < t->nresults; k++)
            if (t->results[k] == SBX_V128) return true;
    }
    for (uint32_t i = 0; i < m->nglobals; i++)
        if (m->globals[i].type.type == SBX_V128) return true;
    for (uint32_t i = 0; i < m->nbodies; i++) {
        const struct sbx_func_body *b = &m->bodies[i];
        for (uint32_t k = 0; k < b->nlocal_runs; k++)
            if (b->local_runs[k].type == SBX_V128) return true;
        /* The module validated, so every instruction reads. */
        struct sbx_error err;
        struct sbx_reader r = {.base = m->bytes, .p = b->code, .end = b->code_end, .err = &err};
        struct sbx_insn in;
        while (r.p < r.end && sbx_insn_read(&r, &in) == 0)
            if (in.op >= SBX_OP_PREFIX_FD) return true;
    }
    return false;
}

/* How far a module file got. */
enum stage {
    STAGE_READY,   /* instantiated */
    STAGE_IO,      /* the file could not be read */
    STAGE_LOAD,    /* decoding or validation failed */
    STAGE_SIMD,    /* the compiler refused SIMD code */
    STAGE_COMPILE, /* compilation failed otherwise */
    STAGE_LINK,    /* instantiation failed without a trap (link error, resources) */
    STAGE_TRAP,    /* instantiation trapped */
};

/* Reads, loads, compiles and instantiates a file into a new record appended
 * to ex->mods (whatever the outcome, so nothing it made is freed while the
 * file runs). Returns the stage reached; `msg` gets the error text (for
 * STAGE_LINK and STAGE_TRAP exactly the runtime's message, for prefix
 * matching), *out the record (NULL only when out of memory: STAGE_IO). */
static enum stage instantiate_file(struct sbx_spec_exec *ex, const char *dir, const char *filename,
                                   int64_t line, struct loaded **out, char *msg, size_t msg_size)
{
    *out = NULL;
    if (ex->nmods == ex->cap) {
        size_t cap = ex->cap ? ex->cap * 2 : 16;
        struct loaded **mods = realloc(ex->mods, cap * sizeof *mods);
        if (!mods) return say(msg, msg_size, STAGE_IO, "out of memory");
        ex->mods = mods;
        ex->cap = cap;
    }
    struct loaded *l = calloc(1, sizeof *l);
    if (!l) return say(msg, msg_size, STAGE_IO, "out of memory");
    l->line = line;
    l->state = ST_FAILED;
    ex->mods[ex->nmods++] = l;
    *out = l;

    char *path = spec_join(dir, filename);
    if (!path) return say(msg, msg_size, STAGE_IO, "out of memory");
    size_t len = 0;
    int e = spec_read_file(path, SBX_MAX_MODULE_SIZE, &l->bytes, &len);
    if (e) {
        say(msg, msg_size, STAGE_IO, "cannot read %s: %s", path, strerror(e));
        free(path);
        return STAGE_IO;
    }
    free(path);

    struct sbx_error err;
    memset(&err, 0, sizeof err);
    err.func_index = -1;
    l->module = sbx_module_load(l->bytes, len, &err);
    if (!l->module) {
        char text[SBX_ERROR_MSG_MAX + 64];
        sbx_error_format(&err, text, sizeof text);
        return say(msg, msg_size, STAGE_LOAD, "%s", text);
    }

    struct sbx_compile_options opts = {.fuel = false, .epoch = false};
    memset(&err, 0, sizeof err);
    err.func_index = -1;
    l->compiled = sbx_compile(l->module, &opts, &err);
    if (!l->compiled) {
        char text[SBX_ERROR_MSG_MAX + 64];
        sbx_error_format(&err, text, sizeof text);
        if (strstr(err.msg, "SIMD") || uses_simd(l->module)) {
            l->state = ST_SIMD;
            return say(msg, msg_size, STAGE_SIMD, "%s", SBX_SPEC_SKIP_SIMD);
        }
        return say(msg, msg_size, STAGE_COMPILE, "%s", text);
    }

    struct sbx_trap trap;
    memset(&trap, 0, sizeof trap);
    memset(&err, 0, sizeof err);
    err.func_index = -1;
    l->instance = sbx_instantiate(l->compiled, ex->linker, ex->pool, &err, &trap);
    if (!l->instance) {
        if (trap.code != SBX_TRAP_NONE) return say(msg, msg_size, STAGE_TRAP, "%s", trap.message);
        return say(msg, msg_size, STAGE_LINK, "%s", err.msg);
    }
    l->state = ST_READY;
    return say(msg, msg_size, STAGE_READY, NULL);
}

static const char *stage_failure(enum stage s)
{
    switch (s) {
    case STAGE_IO: return "could not be read";
    case STAGE_LOAD: return "failed to load";
    case STAGE_SIMD: return "uses SIMD";
    case STAGE_COMPILE: return "failed to compile";
    case STAGE_LINK: return "failed to link";
    case STAGE_TRAP: return "trapped during instantiation";
    default: return "instantiated";
    }
}

/* Text-format modules are not loaded (wast2json writes them as .wat). */
static bool is_text_module(struct json_object *cmd)
{
    const char *mt = get_string(cmd, "module_type");
    return mt && strcmp(mt, "text") == 0;
}

static int cmd_module(struct sbx_spec_exec *ex, struct json_object *cmd, const char *dir, char *why,
                      size_t why_size)
{
    const char *filename = get_string(cmd, "filename");
    if (!filename) return say(why, why_size, SBX_SPEC_FAIL, "module without a filename");
    if (is_text_module(cmd)) {
        ex->current = NULL;
        return say(why, why_size, SBX_SPEC_SKIP, "%s", SBX_SPEC_SKIP_TEXT);
    }
    struct loaded *l;
    char msg[SBX_ERROR_MSG_MAX + 128];
    enum stage s = instantiate_file(ex, dir, filename, get_line(cmd), &l, msg, sizeof msg);
    ex->current = l;
    const char *name = get_string(cmd, "name");
    if (l && name && !(l->name = strdup(name)))
        return say(why, why_size, SBX_SPEC_FAIL, "out of memory");
    if (s == STAGE_READY) return say(why, why_size, SBX_SPEC_PASS, NULL);
    if (s == STAGE_SIMD) return say(why, why_size, SBX_SPEC_SKIP, "%s", SBX_SPEC_SKIP_SIMD);
    return say(why, why_size, SBX_SPEC_FAIL, "module %s %s: %s", filename, stage_failure(s), msg);
}

/* The module an action or register names ("$M"), or the current one. */
static struct loaded *find_module(struct sbx_spec_exec *ex, const char *name)
{
    if (!name) return ex->current;
    for (size_t i = ex->nmods; i-- > 0;)
        if (ex->mods[i]->name && strcmp(ex->mods[i]->name, name) == 0) return ex->mods[i];
    return NULL;
}

/* Returns PASS with *out set to a usable module, or SKIP/FAIL with why. */
static int usable_module(struct sbx_spec_exec *ex, const char *name, struct loaded **out, char *why,
                         size_t why_size)
{
    struct loaded *l = *out = find_module(ex, name);
    if (!l) {
        if (name) return say(why, why_size, SBX_SPEC_FAIL, "no module named %s", name);
        return say(why, why_size, SBX_SPEC_FAIL, "no current module");
    }
    if (l->state == ST_SIMD) return say(why, why_size, SBX_SPEC_SKIP, "%s", SBX_SPEC_SKIP_SIMD);
    if (l->state != ST_READY)
        return say(why, why_size, SBX_SPEC_FAIL, "the module of line %lld did not instantiate",
                   (long long)l->line);
    return SBX_SPEC_PASS;
}

static int cmd_register(struct sbx_spec_exec *ex, struct json_object *cmd, char *why,
                        size_t why_size)
{
    const char *as = get_string(cmd, "as");
    if (!as) return say(why, why_size, SBX_SPEC_FAIL, "register without \"as\"");
    struct loaded *l;
    int r = usable_module(ex, get_string(cmd, "name"), &l, why, why_size);
    if (r != SBX_SPEC_PASS) return r;
    if (sbx_linker_define_instance(ex->linker, as, l->instance))
        return say(why, why_size, SBX_SPEC_FAIL, "register as \"%s\": out of memory", as);
    return say(why, why_size, SBX_SPEC_PASS, NULL);
}

/* -- Actions -- */

/* What an action produced: values (typed) or a trap. */
struct outcome {
    bool trapped;
    struct sbx_trap trap;
    uint32_t nresults;
    const uint8_t *types;
    union sbx_val *results; /* malloc'd */
};

/* Finds an export by its exact name (names may hold any UTF-8, NUL too). */
static const struct sbx_export *find_export(const struct sbx_module *m, const char *name,
                                            size_t len)
{
    for (uint32_t i = 0; i < m->nexports; i++) {
        const struct sbx_export *e = &m->exports[i];
        if (e->name.len == len && memcmp(e->name.ptr, name, len) == 0) return e;
    }
    return NULL;
}

static bool has_v128_value(struct json_object *arr)
{
    if (!arr || !json_object_is_type(arr, json_type_array)) return false;
    size_t n = json_object_array_length(arr);
    for (size_t i = 0; i < n; i++) {
        const char *t = get_string(json_object_array_get_idx(arr, i), "type");
        if (t && strcmp(t, "v128") == 0) return true;
    }
    return false;
}

static bool type_has_v128(const struct sbx_functype *t)
{
    for (uint32_t i = 0; i < t->nparams; i++)
        if (t->params[i] == SBX_V128) return true;
    for (uint32_t i = 0; i < t->nresults; i++)
        if (t->results[i] == SBX_V128) return true;
    return false;
}

static int do_invoke(struct loaded *l, struct json_object *action, const char *field,
                     size_t field_len, struct outcome *o, char *why, size_t why_size)
{
    const struct sbx_export *e = find_export(l->module, field, field_len);
    if (!e || e->kind != SBX_EXTERN_FUNC)
        return say(why, why_size, SBX_SPEC_FAIL, "no function export \"%s\"", field);
    const struct sbx_functype *t = sbx_module_func_type(l->module, e->index);
    if (type_has_v128(t)) return say(why, why_size, SBX_SPEC_SKIP, "%s", SBX_SPEC_SKIP_SIMD);

    struct json_object *args = NULL;
    json_object_object_get_ex(action, "args", &args);
    if (has_v128_value(args)) return say(why, why_size, SBX_SPEC_SKIP, "%s", SBX_SPEC_SKIP_SIMD);
    size_t nargs =
        args && json_object_is_type(args, json_type_array) ? json_object_array_length(args) : 0;
    if (nargs != t->nparams)
        return say(why, why_size, SBX_SPEC_FAIL, "invoke \"%s\": %zu arguments, it takes %u", field,
                   nargs, t->nparams);

    union sbx_val *vals = calloc(t->nparams + 1, sizeof *vals);
    o->results = calloc(t->nresults + 1, sizeof *o->results);
    if (!vals || !o->results) {
        free(vals);
        return say(why, why_size, SBX_SPEC_FAIL, "out of memory");
    }
    for (uint32_t i = 0; i < t->nparams; i++) {
        struct spec_value v;
        char verr[128];
        if (spec_value_parse(json_object_array_get_idx(args, i), &v, verr, sizeof verr)) {
            free(vals);
            return say(why, why_size, SBX_SPEC_FAIL, "invoke \"%s\": argument %u: %s", field, i,
                       verr);
        }
        if (v.type != t->params[i] || spec_value_to_val(&v, &vals[i])) {
            free(vals);
            return say(why, why_size, SBX_SPEC_FAIL,
                       "invoke \"%s\": argument %u does not fit parameter type %s", field, i,
                       sbx_valtype_name(t->params[i]));
        }
    }
    o->nresults = t->nresults;
    o->types = t->results;
    memset(&o->trap, 0, sizeof o->trap);
    o->trapped = sbx_instance_call(l->instance, e->index, vals, o->results, &o->trap) != 0;
    free(vals);
    return SBX_SPEC_PASS;
}

static int do_get(struct loaded *l, const char *field, size_t field_len, struct outcome *o,
                  char *why, size_t why_size)
{
    const struct sbx_export *e = find_export(l->module, field, field_len);
    struct sbx_extern ext;
    if (!e || e->kind != SBX_EXTERN_GLOBAL || sbx_instance_export(l->instance, field, &ext) ||
        ext.kind != SBX_EXTERN_GLOBAL)
        return say(why, why_size, SBX_SPEC_FAIL, "no global export \"%s\"", field);
    if (ext.u.global.type == SBX_V128)
        return say(why, why_size, SBX_SPEC_SKIP, "%s", SBX_SPEC_SKIP_SIMD);
    o->results = calloc(1, sizeof *o->results);
    if (!o->results) return say(why, why_size, SBX_SPEC_FAIL, "out of memory");
    static const uint8_t types[] = {SBX_I32, SBX_I64, SBX_F32, SBX_F64, SBX_FUNCREF, SBX_EXTERNREF};
    const union sbx_global_cell *cell = ext.u.global.cell;
    switch (ext.u.global.type) {
    case SBX_I32:
        o->results[0].i32 = cell->i32;
        o->types = &types[0];
        break;
    case SBX_I64:
        o->results[0].i64 = cell->i64;
        o->types = &types[1];
        break;
    case SBX_F32:
        o->results[0].f32 = cell->i32;
        o->types = &types[2];
        break;
    case SBX_F64:
        o->results[0].f64 = cell->i64;
        o->types = &types[3];
        break;
    case SBX_FUNCREF:
        o->results[0].ref = cell->ref;
        o->types = &types[4];
        break;
    case SBX_EXTERNREF:
        o->results[0].ref = cell->ref;
        o->types = &types[5];
        break;
    default: return say(why, why_size, SBX_SPEC_FAIL, "global \"%s\" of an unknown type", field);
    }
    o->nresults = 1;
    return SBX_SPEC_PASS;
}

/* Performs the command's "action" (invoke or get). PASS means it ran (it may
 * have trapped: see o->trapped); SKIP and FAIL come with why. */
static int run_action(struct sbx_spec_exec *ex, struct json_object *cmd, struct outcome *o,
                      char *why, size_t why_size)
{
    memset(o, 0, sizeof *o);
    struct json_object *action, *fieldobj;
    if (!json_object_object_get_ex(cmd, "action", &action) ||
        !json_object_is_type(action, json_type_object))
        return say(why, why_size, SBX_SPEC_FAIL, "command without an action");
    const char *type = get_string(action, "type");
    if (!json_object_object_get_ex(action, "field", &fieldobj) ||
        !json_object_is_type(fieldobj, json_type_string) || !type)
        return say(why, why_size, SBX_SPEC_FAIL, "action without a type or field");
    const char *field = json_object_get_string(fieldobj);
    size_t field_len = (size_t)json_object_get_string_len(fieldobj);

    struct loaded *l;
    int r = usable_module(ex, get_string(action, "module"), &l, why, why_size);
    if (r != SBX_SPEC_PASS) return r;
    if (strcmp(type, "invoke") == 0)
        return do_invoke(l, action, field, field_len, o, why, why_size);
    if (strcmp(type, "get") == 0) return do_get(l, field, field_len, o, why, why_size);
    return say(why, why_size, SBX_SPEC_FAIL, "unknown action type \"%s\"", type);
}

static void outcome_free(struct outcome *o)
{
    free(o->results);
    o->results = NULL;
}

/* -- Assertions -- */

static int cmd_action(struct sbx_spec_exec *ex, struct json_object *cmd, char *why, size_t why_size)
{
    struct outcome o;
    int r = run_action(ex, cmd, &o, why, why_size);
    if (r == SBX_SPEC_PASS && o.trapped)
        r = say(why, why_size, SBX_SPEC_FAIL, "action trapped: %s", o.trap.message);
    else if (r == SBX_SPEC_PASS)
        say(why, why_size, r, NULL);
    outcome_free(&o);
    return r;
}

static int check_results(const struct outcome *o, struct json_object *expected, char *why,
                         size_t why_size)
{
    size_t n = expected && json_object_is_type(expected, json_type_array)
                   ? json_object_array_length(expected)
                   : 0;
    if (n != o->nresults)
        return say(why, why_size, SBX_SPEC_FAIL, "%u results, expected %zu", o->nresults, n);
    for (size_t i = 0; i < n; i++) {
        struct spec_value e;
        char text[160];
        if (spec_value_parse(json_object_array_get_idx(expected, i), &e, text, sizeof text))
            return say(why, why_size, SBX_SPEC_FAIL, "expected result %zu: %s", i, text);
        char got[96];
        spec_val_format(o->types[i], &o->results[i], got, sizeof got);
        if (e.type != o->types[i])
            return say(why, why_size, SBX_SPEC_FAIL, "result %zu: expected a %s, got %s", i,
                       sbx_valtype_name(e.type), got);
        if (!spec_value_matches(&e, &o->results[i])) {
            spec_value_format(&e, text, sizeof text);
            return say(why, why_size, SBX_SPEC_FAIL, "result %zu: expected %s, got %s", i, text,
                       got);
        }
    }
    return say(why, why_size, SBX_SPEC_PASS, NULL);
}

static int cmd_assert_return(struct sbx_spec_exec *ex, struct json_object *cmd, char *why,
                             size_t why_size)
{
    struct json_object *expected = NULL;
    json_object_object_get_ex(cmd, "expected", &expected);
    if (has_v128_value(expected))
        return say(why, why_size, SBX_SPEC_SKIP, "%s", SBX_SPEC_SKIP_SIMD);
    struct outcome o;
    int r = run_action(ex, cmd, &o, why, why_size);
    if (r == SBX_SPEC_PASS) {
        if (o.trapped)
            r = say(why, why_size, SBX_SPEC_FAIL, "trapped: %s", o.trap.message);
        else
            r = check_results(&o, expected, why, why_size);
    }
    outcome_free(&o);
    return r;
}

/* assert_trap and assert_exhaustion on an action: it must trap with a
 * message starting with the expected text. */
static int cmd_assert_trap_action(struct sbx_spec_exec *ex, struct json_object *cmd,
                                  const char *text, char *why, size_t why_size)
{
    struct outcome o;
    int r = run_action(ex, cmd, &o, why, why_size);
    if (r == SBX_SPEC_PASS) {
        if (!o.trapped)
            r = say(why, why_size, SBX_SPEC_FAIL, "returned, expected trap \"%s\"", text);
        else if (strncmp(o.trap.message, text, strlen(text)) != 0)
            r = say(why, why_size, SBX_SPEC_FAIL, "expected trap \"%s\", got \"%s\"", text,
                    o.trap.message);
        else
            say(why, why_size, r, NULL);
    }
    outcome_free(&o);
    return r;
}

/* assert_unlinkable, assert_uninstantiable and the module form of
 * assert_trap: instantiation must fail at `want` (STAGE_LINK or STAGE_TRAP)
 * with a message starting with text. */
static int cmd_assert_module(struct sbx_spec_exec *ex, struct json_object *cmd, const char *dir,
                             const char *type, const char *text, enum stage want, char *why,
                             size_t why_size)
{
    const char *filename = get_string(cmd, "filename");
    if (!filename) return say(why, why_size, SBX_SPEC_FAIL, "%s without a filename", type);
    if (is_text_module(cmd)) return say(why, why_size, SBX_SPEC_SKIP, "%s", SBX_SPEC_SKIP_TEXT);
    struct loaded *l;
    char msg[SBX_ERROR_MSG_MAX + 128];
    enum stage s = instantiate_file(ex, dir, filename, get_line(cmd), &l, msg, sizeof msg);
    if (s == STAGE_SIMD) return say(why, why_size, SBX_SPEC_SKIP, "%s", SBX_SPEC_SKIP_SIMD);
    if (s == want) {
        if (strncmp(msg, text, strlen(text)) == 0) return say(why, why_size, SBX_SPEC_PASS, NULL);
        return say(why, why_size, SBX_SPEC_FAIL, "module %s: expected \"%s\", got \"%s\"", filename,
                   text, msg);
    }
    if (s == STAGE_READY)
        return say(why, why_size, SBX_SPEC_FAIL, "module %s instantiated, expected \"%s\"",
                   filename, text);
    return say(why, why_size, SBX_SPEC_FAIL, "module %s %s (expected \"%s\"): %s", filename,
               stage_failure(s), text, msg);
}

/* -- Dispatch -- */

static const char *const handled[] = {
    "module",
    "register",
    "action",
    "assert_return",
    "assert_trap",
    "assert_exhaustion",
    "assert_unlinkable",
    "assert_uninstantiable",
};

bool sbx_spec_exec_handles(const char *type)
{
    for (size_t i = 0; i < sizeof handled / sizeof handled[0]; i++)
        if (strcmp(type, handled[i]) == 0) return true;
    return false;
}

int sbx_spec_exec_command(struct sbx_spec_exec *ex, struct json_object *cmd, const char *json_dir,
                          char *why, size_t why_size)
{
    say(why, why_size, 0, NULL);
    const char *type = get_string(cmd, "type");
    if (!type) return say(why, why_size, SBX_SPEC_FAIL, "command without a type");
    const char *text = get_string(cmd, "text");

    if (strcmp(type, "module") == 0) return cmd_module(ex, cmd, json_dir, why, why_size);
    if (strcmp(type, "register") == 0) return cmd_register(ex, cmd, why, why_size);
    if (strcmp(type, "action") == 0) return cmd_action(ex, cmd, why, why_size);
    if (strcmp(type, "assert_return") == 0) return cmd_assert_return(ex, cmd, why, why_size);
    if (!text) return say(why, why_size, SBX_SPEC_FAIL, "%s without a text", type);
    if (strcmp(type, "assert_trap") == 0) {
        if (get_string(cmd, "filename"))
            return cmd_assert_module(ex, cmd, json_dir, type, text, STAGE_TRAP, why, why_size);
        return cmd_assert_trap_action(ex, cmd, text, why, why_size);
    }
    if (strcmp(type, "assert_exhaustion") == 0)
        return cmd_assert_trap_action(ex, cmd, text, why, why_size);
    if (strcmp(type, "assert_unlinkable") == 0)
        return cmd_assert_module(ex, cmd, json_dir, type, text, STAGE_LINK, why, why_size);
    if (strcmp(type, "assert_uninstantiable") == 0)
        return cmd_assert_module(ex, cmd, json_dir, type, text, STAGE_TRAP, why, why_size);
    return say(why, why_size, SBX_SPEC_FAIL, "command type \"%s\" is not executed", type);
}
