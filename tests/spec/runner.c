/* Runs one wast2json command list. A binary `assert_malformed` or
 * `assert_invalid` module must fail to load with an error whose message
 * starts with the expected text (the reference interpreter's convention).
 * With a memory pool, modules are instantiated and every execution command
 * runs (tests/spec/exec.c); without one, a `module` must load and commands
 * that need execution are counted as skipped. Modules in the text format,
 * and SIMD execution, are skipped, each counted under its reason. */
#include "tests/spec/runner.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "jit/limits.h"
#include "jit/module.h"
#include "tests/spec/exec.h"
#include "tests/spec/spec_file.h"

enum outcome { PASS, FAIL, SKIP_EXEC, SKIP_TEXT, SKIP_SIMD };

/* How each command type of wast2json's output is checked. */
enum check { CHECK_LOADS, CHECK_REJECTED, CHECK_NEEDS_EXEC };

static const struct {
    const char *type;
    enum check check;
} commands[] = {
    {"module", CHECK_LOADS},
    {"assert_malformed", CHECK_REJECTED},
    {"assert_invalid", CHECK_REJECTED},
    /* Linking and instantiation happen at run time: skipped until then. */
    {"assert_unlinkable", CHECK_NEEDS_EXEC},
    {"assert_uninstantiable", CHECK_NEEDS_EXEC},
    {"assert_return", CHECK_NEEDS_EXEC},
    {"assert_trap", CHECK_NEEDS_EXEC},
    {"assert_exhaustion", CHECK_NEEDS_EXEC},
    {"action", CHECK_NEEDS_EXEC},
    {"register", CHECK_NEEDS_EXEC},
    {"get", CHECK_NEEDS_EXEC},
    {"invoke", CHECK_NEEDS_EXEC},
};

struct run {
    struct sbx_spec_exec *ex; /* NULL: front-end checks only */
    const char *source;       /* the .wast file, for failure messages */
    const char *dir;          /* module paths are relative to it */
    FILE *out;
    struct sbx_spec_totals counts; /* of this file */
};

static void fail_at(struct run *run, int64_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail_at(struct run *run, int64_t line, const char *fmt, ...)
{
    va_list ap;
    fprintf(run->out, "%s:%lld: ", run->source, (long long)line);
    va_start(ap, fmt);
    vfprintf(run->out, fmt, ap);
    va_end(ap);
    fputc('\n', run->out);
}

static const char *get_string(struct json_object *obj, const char *key)
{
    struct json_object *v;
    if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* Reads and loads the module a command names. Returns the module (NULL with
 * `err` filled in if it did not load), or sets *io_failed if the file could
 * not be read. `*bytes` must be freed after the module. */
static struct sbx_module *load_named(struct run *run, int64_t line, const char *filename,
                                     uint8_t **bytes, struct sbx_error *err, int *io_failed)
{
    *bytes = NULL;
    *io_failed = 0;
    char *path = spec_join(run->dir, filename);
    if (!path) {
        fail_at(run, line, "out of memory");
        *io_failed = 1;
        return NULL;
    }
    size_t len = 0;
    int e = spec_read_file(path, SBX_MAX_MODULE_SIZE, bytes, &len);
    if (e) {
        fail_at(run, line, "cannot read %s: %s", path, strerror(e));
        free(path);
        *io_failed = 1;
        return NULL;
    }
    free(path);
    memset(err, 0, sizeof *err);
    err->func_index = -1;
    return sbx_module_load(*bytes, len, err);
}

static enum outcome check_loads(struct run *run, int64_t line, const char *filename)
{
    uint8_t *bytes;
    struct sbx_error err;
    int io_failed;
    struct sbx_module *m = load_named(run, line, filename, &bytes, &err, &io_failed);
    enum outcome o = PASS;
    if (m) {
        sbx_module_free(m);
    } else if (!io_failed) {
        char msg[SBX_ERROR_MSG_MAX + 64];
        sbx_error_format(&err, msg, sizeof msg);
        fail_at(run, line, "module %s failed to load: %s", filename, msg);
        o = FAIL;
    } else {
        o = FAIL;
    }
    free(bytes);
    return o;
}

/* Commands whose binary, as wabt 1.0.32's wast2json writes it, is invalid
 * for a different reason than the .wast says. The module must still be
 * rejected; the runner then accepts `got` instead of the script's text and
 * prints a note, so the exception is never silent. */
static const struct {
    const char *wast; /* basename */
    int64_t line;
    const char *expected, *got, *why;
} conversion_artifacts[] = {
    {"select.wast", 324, "invalid result arity", "type mismatch",
     "wast2json encodes `select (result)` (no types) as the untyped select 0x1b"},
};

static bool is_conversion_artifact(struct run *run, int64_t line, const char *text, const char *msg)
{
    const char *base = strrchr(run->source, '/');
    base = base ? base + 1 : run->source;
    for (size_t i = 0; i < sizeof conversion_artifacts / sizeof conversion_artifacts[0]; i++) {
        if (strcmp(base, conversion_artifacts[i].wast) || line != conversion_artifacts[i].line ||
            strcmp(text, conversion_artifacts[i].expected) ||
            strncmp(msg, conversion_artifacts[i].got, strlen(conversion_artifacts[i].got)))
            continue;
        fprintf(run->out, "%s:%lld: note: accepted \"%s\" for \"%s\": %s\n", run->source,
                (long long)line, conversion_artifacts[i].got, text, conversion_artifacts[i].why);
        return true;
    }
    return false;
}

static enum outcome check_rejected(struct run *run, int64_t line, const char *type,
                                   const char *filename, const char *text)
{
    uint8_t *bytes;
    struct sbx_error err;
    int io_failed;
    struct sbx_module *m = load_named(run, line, filename, &bytes, &err, &io_failed);
    enum outcome o = FAIL;
    if (m) {
        fail_at(run, line, "%s: module %s loaded, expected error \"%s\"", type, filename, text);
        sbx_module_free(m);
    } else if (!io_failed) {
        if (strncmp(err.msg, text, strlen(text)) == 0 ||
            is_conversion_artifact(run, line, text, err.msg)) {
            o = PASS;
        } else {
            char msg[SBX_ERROR_MSG_MAX + 64];
            sbx_error_format(&err, msg, sizeof msg);
            fail_at(run, line, "%s: module %s: expected error \"%s\", got: %s", type, filename,
                    text, msg);
        }
    }
    free(bytes);
    return o;
}

static enum outcome execute(struct run *run, int64_t line, struct json_object *cmd)
{
    char why[512];
    switch (sbx_spec_exec_command(run->ex, cmd, run->dir, why, sizeof why)) {
    case SBX_SPEC_PASS: return PASS;
    case SBX_SPEC_SKIP: return strcmp(why, SBX_SPEC_SKIP_TEXT) == 0 ? SKIP_TEXT : SKIP_SIMD;
    default: fail_at(run, line, "%s", why); return FAIL;
    }
}

static enum outcome run_command(struct run *run, struct json_object *cmd)
{
    struct json_object *v;
    int64_t line = 0;
    if (json_object_object_get_ex(cmd, "line", &v)) line = json_object_get_int64(v);
    const char *type = get_string(cmd, "type");
    if (!type) {
        fail_at(run, line, "command without a type");
        return FAIL;
    }
    size_t i = 0;
    while (i < sizeof commands / sizeof commands[0] && strcmp(commands[i].type, type) != 0)
        i++;
    if (i == sizeof commands / sizeof commands[0]) {
        fail_at(run, line, "unknown command type \"%s\"", type);
        return FAIL;
    }
    if (run->ex && sbx_spec_exec_handles(type)) return execute(run, line, cmd);
    if (commands[i].check == CHECK_NEEDS_EXEC) return SKIP_EXEC;

    const char *filename = get_string(cmd, "filename");
    if (!filename) {
        fail_at(run, line, "%s without a filename", type);
        return FAIL;
    }
    if (commands[i].check == CHECK_LOADS) return check_loads(run, line, filename);

    const char *module_type = get_string(cmd, "module_type");
    if (module_type && strcmp(module_type, "text") == 0) return SKIP_TEXT;
    const char *text = get_string(cmd, "text");
    if (!text || !module_type || strcmp(module_type, "binary") != 0) {
        fail_at(run, line, "%s without a binary module_type and text", type);
        return FAIL;
    }
    return check_rejected(run, line, type, filename, text);
}

static void count(struct sbx_spec_totals *t, enum outcome o)
{
    switch (o) {
    case PASS: t->passed++; break;
    case FAIL: t->failed++; break;
    case SKIP_EXEC:
        t->skipped++;
        t->skipped_exec++;
        break;
    case SKIP_TEXT:
        t->skipped++;
        t->skipped_text++;
        break;
    case SKIP_SIMD:
        t->skipped++;
        t->skipped_simd++;
        break;
    }
}

static void add_totals(struct sbx_spec_totals *sum, const struct sbx_spec_totals *t)
{
    sum->passed += t->passed;
    sum->failed += t->failed;
    sum->skipped += t->skipped;
    sum->skipped_exec += t->skipped_exec;
    sum->skipped_text += t->skipped_text;
    sum->skipped_simd += t->skipped_simd;
}

/* Runs every command of a parsed file into run->counts. */
static void run_commands(struct run *run, struct json_object *root)
{
    struct json_object *cmds;
    if (!json_object_object_get_ex(root, "commands", &cmds) ||
        !json_object_is_type(cmds, json_type_array)) {
        fail_at(run, 0, "no \"commands\" array");
        count(&run->counts, FAIL);
        return;
    }
    size_t n = json_object_array_length(cmds);
    for (size_t i = 0; i < n; i++) {
        struct json_object *cmd = json_object_array_get_idx(cmds, i);
        if (!json_object_is_type(cmd, json_type_object)) {
            fail_at(run, 0, "command %zu is not an object", i);
            count(&run->counts, FAIL);
            continue;
        }
        count(&run->counts, run_command(run, cmd));
    }
}

unsigned long sbx_spec_run_file(const char *json_path, const struct sbx_spec_options *opts,
                                FILE *out, struct sbx_spec_totals *totals)
{
    struct run run = {.source = json_path, .out = out};
    char *dir = NULL;
    struct json_object *root = json_object_from_file(json_path);
    if (!root) {
        /* json-c's last error ends with a newline of its own. */
        const char *why = json_util_get_last_err();
        fprintf(out, "%s: cannot read: %s", json_path, why ? why : "unknown error\n");
        count(&run.counts, FAIL);
    } else if (!(dir = spec_dirname(json_path))) {
        fprintf(out, "%s: out of memory\n", json_path);
        count(&run.counts, FAIL);
    } else {
        run.dir = dir;
        const char *source = get_string(root, "source_filename");
        if (source) run.source = source;
        char why[256] = "";
        if (opts->pool && !(run.ex = sbx_spec_exec_new(opts->pool, why, sizeof why))) {
            fprintf(out, "%s: cannot set up execution: %s\n", json_path, why);
            count(&run.counts, FAIL);
        } else {
            run_commands(&run, root);
        }
        sbx_spec_exec_free(run.ex);
    }

    const struct sbx_spec_totals *c = &run.counts;
    if (!opts->quiet || c->failed)
        fprintf(out,
                "%s: %lu passed, %lu failed, %lu skipped (%lu need execution, %lu text-format, "
                "%lu SIMD)\n",
                json_path, c->passed, c->failed, c->skipped, c->skipped_exec, c->skipped_text,
                c->skipped_simd);
    add_totals(totals, c);
    json_object_put(root);
    free(dir);
    return c->failed;
}

void sbx_spec_print_totals(FILE *out, const struct sbx_spec_totals *t)
{
    fprintf(out, "%lu passed, %lu failed, %lu skipped\n", t->passed, t->failed, t->skipped);
}
