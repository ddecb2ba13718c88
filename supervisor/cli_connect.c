/* `sbx --connect PATH COMMAND ...`: talks to a running `sbx serve` through
 * the client library (include/sbx.h), like any host would. */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "include/sbx.h"
#include "supervisor/cli.h"

#define CLI_TRAPPED   134
#define CLI_TIMED_OUT 124

static void connect_usage(FILE *f)
{
    fputs("usage: sbx --connect PATH COMMAND [ARGS...]\n"
          "Talks to a running `sbx serve` listening on PATH.\n\n"
          "  status [--json]                       the daemon's modules, workers and counters\n"
          "  load FILE                             load a module; prints its id\n"
          "  unload ID                             drop this client's reference (detached loads)\n"
          "  run [--invoke NAME] [--fuel N] [--timeout MS] FILE [ARGS...]\n"
          "                                        load, spawn, wait; prints the results\n"
          "  spawn [--keep-alive] [--invoke NAME] [--fuel N] [--timeout MS] FILE [ARGS...]\n"
          "                                        start a detached worker (stdio /dev/null);\n"
          "                                        prints its id\n"
          "  call WORKER NAME [TYPE:]VALUE...      call an export of a keep-alive worker;\n"
          "                                        TYPE is i32 (default), i64, f32 or f64\n"
          "  wait WORKER                           wait for a detached worker's outcome\n"
          "  kill WORKER                           kill a worker\n",
          f);
}

static int fail(const char *what, const struct sbx_client_error *err)
{
    fprintf(stderr, "sbx: %s: %s\n", what, err->message);
    return CLI_FAILED;
}

static int parse_value(const char *s, enum sbx_type type, struct sbx_value *v)
{
    char *end;
    errno = 0;
    switch (type) {
    case SBX_TYPE_I32: {
        long long x = strtoll(s, &end, 0);
        if (errno || *end || end == s || x < INT32_MIN || x > UINT32_MAX) return -1;
        v->type = SBX_VALUE_I32, v->u.i32 = (int32_t)x;
        return 0;
    }
    case SBX_TYPE_I64: {
        long long x = strtoll(s, &end, 0);
        if (errno || *end || end == s) return -1;
        v->type = SBX_VALUE_I64, v->u.i64 = x;
        return 0;
    }
    case SBX_TYPE_F32:
        v->type = SBX_VALUE_F32, v->u.f32 = strtof(s, &end);
        return *end || end == s ? -1 : 0;
    case SBX_TYPE_F64:
        v->type = SBX_VALUE_F64, v->u.f64 = strtod(s, &end);
        return *end || end == s ? -1 : 0;
    default: return -1;
    }
}

static void print_value(const struct sbx_value *v)
{
    switch (v->type) {
    case SBX_VALUE_I32: printf("%" PRId32 "\n", v->u.i32); break;
    case SBX_VALUE_I64: printf("%" PRId64 "\n", v->u.i64); break;
    case SBX_VALUE_F32: printf("%.9g\n", (double)v->u.f32); break;
    default: printf("%.17g\n", v->u.f64); break;
    }
}

/* Prints an outcome as `sbx run` does and returns the matching exit status. */
static int print_outcome(const char *what, const struct sbx_outcome *o)
{
    switch (o->kind) {
    case SBX_OUTCOME_EXITED:
        for (size_t i = 0; i < o->nresults; i++)
            print_value(&o->results[i]);
        return o->exit_code;
    case SBX_OUTCOME_TRAPPED:
        fprintf(stderr, "sbx: %s: wasm trap: %s\n", what, o->trap.message);
        if (o->trap.nframes) fputs("wasm backtrace:\n", stderr);
        for (size_t i = 0; i < o->trap.nframes; i++)
            fprintf(stderr, "  %2zu: func[%u]%s%s\n", i, o->trap.frames[i].function_index,
                    o->trap.frames[i].name[0] ? " " : "", o->trap.frames[i].name);
        return CLI_TRAPPED;
    case SBX_OUTCOME_FUEL_EXHAUSTED:
        fprintf(stderr, "sbx: %s: wasm trap: all fuel consumed\n", what);
        return CLI_TRAPPED;
    case SBX_OUTCOME_TIMEOUT: fprintf(stderr, "sbx: %s: timed out\n", what); return CLI_TIMED_OUT;
    case SBX_OUTCOME_KILLED:
        fprintf(stderr, "sbx: %s: killed by signal %d%s\n", what, o->signal,
                o->by_request ? " (on request)" : "");
        return 128 + o->signal;
    default:
        fprintf(stderr, "sbx: %s: %s\n", what, o->message[0] ? o->message : "failed");
        return CLI_FAILED;
    }
}

static int cmd_status(struct sbx_client *c, int argc, char **argv)
{
    bool json = argc > 0 && !strcmp(argv[0], "--json");
    struct sbx_status st;
    struct sbx_client_error err;
    if (sbx_status(c, &st, &err)) return fail("status", &err);
    if (!json) {
        printf("modules %u, workers %u/%u, warm %u, zygote pid %d, up %" PRIu64 " ms\n",
               st.total_modules, st.live_workers, st.max_workers, st.warm_workers, st.zygote_pid,
               st.uptime_ms);
        printf("spawns %" PRIu64 " (warm %" PRIu64 "), exited %" PRIu64 ", trapped %" PRIu64
               ", killed %" PRIu64 ", timeouts %" PRIu64 ", zygote restarts %" PRIu64
               ", zygote rotations %" PRIu64 "\n",
               st.counters.spawns, st.counters.warm_spawns, st.counters.exited, st.counters.trapped,
               st.counters.killed, st.counters.timeouts, st.counters.zygote_restarts,
               st.counters.zygote_rotations);
        return CLI_OK;
    }
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "modules", json_object_new_int64(st.total_modules));
    json_object_object_add(o, "live_workers", json_object_new_int64(st.live_workers));
    json_object_object_add(o, "max_workers", json_object_new_int64(st.max_workers));
    json_object_object_add(o, "warm_workers", json_object_new_int64(st.warm_workers));
    json_object_object_add(o, "zygote_pid", json_object_new_int64(st.zygote_pid));
    json_object_object_add(o, "uptime_ms", json_object_new_int64((int64_t)st.uptime_ms));
    struct json_object *k = json_object_new_object();
    json_object_object_add(k, "spawns", json_object_new_int64((int64_t)st.counters.spawns));
    json_object_object_add(k, "exited", json_object_new_int64((int64_t)st.counters.exited));
    json_object_object_add(k, "trapped", json_object_new_int64((int64_t)st.counters.trapped));
    json_object_object_add(k, "killed", json_object_new_int64((int64_t)st.counters.killed));
    json_object_object_add(k, "timeouts", json_object_new_int64((int64_t)st.counters.timeouts));
    json_object_object_add(k, "zygote_restarts",
                           json_object_new_int64((int64_t)st.counters.zygote_restarts));
    json_object_object_add(k, "zygote_rotations",
                           json_object_new_int64((int64_t)st.counters.zygote_rotations));
    json_object_object_add(k, "warm_spawns",
                           json_object_new_int64((int64_t)st.counters.warm_spawns));
    json_object_object_add(k, "warm_template_forks",
                           json_object_new_int64((int64_t)st.counters.warm_template_forks));
    json_object_object_add(o, "counters", k);
    puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
    json_object_put(o);
    return CLI_OK;
}

/* `run` spawns and waits; `spawn` (detached) prints the worker id. */
static int cmd_run(struct sbx_client *c, int argc, char **argv, bool detached)
{
    struct sbx_spawn_options opts;
    sbx_spawn_options_init(&opts);
    opts.export_name = "_start";
    int i = 0;
    for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
        if (!strcmp(argv[i], "--invoke"))
            opts.export_name = argv[i + 1];
        else if (!strcmp(argv[i], "--fuel"))
            opts.fuel = strtoull(argv[i + 1], NULL, 0);
        else if (!strcmp(argv[i], "--timeout"))
            opts.timeout_ms = (uint32_t)strtoul(argv[i + 1], NULL, 0);
        else if (detached && !strcmp(argv[i], "--keep-alive"))
            opts.keep_alive = true, i--; /* takes no value */
        else
            break;
    }
    opts.detach = detached;
    if (i >= argc) {
        connect_usage(stderr);
        return CLI_USAGE;
    }
    const char *file = argv[i++];
    char id[SBX_MODULE_ID_SIZE];
    struct sbx_module_info *info = NULL;
    struct sbx_client_error err;
    if (sbx_load_file(c, file, NULL, id, &info, &err)) return fail(file, &err);
    const struct sbx_item *ex = NULL;
    for (size_t k = 0; k < info->nexports; k++)
        if (info->exports[k].kind == SBX_ITEM_FUNC &&
            !strcmp(info->exports[k].name, opts.export_name))
            ex = &info->exports[k];
    int status = CLI_FAILED;
    struct sbx_value *args = calloc((size_t)(argc - i) + 1, sizeof(*args));
    if (!ex && opts.keep_alive && !strcmp(opts.export_name, "_start") && argc == i) {
        static const struct sbx_item reactor; /* no _start: the server runs _initialize */
        ex = &reactor;
    }
    if (!ex) {
        fprintf(stderr, "sbx: %s: no exported function \"%s\"\n", file, opts.export_name);
        goto out;
    }
    if ((size_t)(argc - i) != ex->nparams) {
        fprintf(stderr, "sbx: %s: \"%s\" takes %zu arguments, %d given\n", file, ex->name,
                ex->nparams, argc - i);
        status = CLI_USAGE;
        goto out;
    }
    for (size_t k = 0; k < ex->nparams; k++)
        if (parse_value(argv[i + (int)k], ex->params[k], &args[k])) {
            fprintf(stderr, "sbx: %s: argument %zu (\"%s\") does not fit its type\n", file, k + 1,
                    argv[i + (int)k]);
            status = CLI_USAGE;
            goto out;
        }
    opts.args = args, opts.nargs = ex->nparams;
    /* A detached worker outlives this command: holding its stdio (often a
     * pipe to a script) would keep that open, so it gets /dev/null. */
    if (!detached) opts.stdin_fd = 0, opts.stdout_fd = 1, opts.stderr_fd = 2;
    if (detached) {
        uint64_t worker;
        int pid;
        if (sbx_spawn(c, id, &opts, &worker, &pid, &err)) {
            status = fail(file, &err);
            goto out;
        }
        printf("%" PRIu64 "\n", worker);
        status = CLI_OK;
        goto out;
    }
    struct sbx_outcome o; /* one request: spawn, and the outcome as its answer */
    if (sbx_run(c, id, &opts, &o, &err)) {
        status = fail(file, &err);
        goto out;
    }
    fflush(stdout);
    status = print_outcome(file, &o);
out:
    free(args);
    sbx_module_info_free(info);
    return status;
}

/* "i64:5" -> an i64; a bare value is an i32. */
static int parse_typed_value(const char *s, struct sbx_value *v)
{
    static const struct {
        const char *prefix;
        enum sbx_type type;
    } types[] = {{"i32:", SBX_TYPE_I32},
                 {"i64:", SBX_TYPE_I64},
                 {"f32:", SBX_TYPE_F32},
                 {"f64:", SBX_TYPE_F64}};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (!strncmp(s, types[i].prefix, 4)) return parse_value(s + 4, types[i].type, v);
    return parse_value(s, SBX_TYPE_I32, v);
}

static int cmd_call(struct sbx_client *c, int argc, char **argv)
{
    char *end;
    uint64_t worker = strtoull(argv[0], &end, 0);
    if (*end || end == argv[0]) {
        fprintf(stderr, "sbx: call: \"%s\" is not a worker id\n", argv[0]);
        return CLI_USAGE;
    }
    const char *name = argv[1];
    size_t nargs = (size_t)argc - 2;
    struct sbx_value args[nargs + 1];
    for (size_t i = 0; i < nargs; i++)
        if (parse_typed_value(argv[2 + i], &args[i])) {
            fprintf(stderr, "sbx: call: argument %zu (\"%s\") is not a TYPE:VALUE\n", i + 1,
                    argv[2 + i]);
            return CLI_USAGE;
        }
    struct sbx_value res[16];
    size_t nres;
    bool trapped;
    struct sbx_trap trap;
    struct sbx_client_error err;
    if (sbx_call(c, worker, name, args, nargs, NULL, res, 16, &nres, &trapped, &trap, &err))
        return fail(name, &err);
    if (trapped) {
        fprintf(stderr, "sbx: %s: wasm trap: %s\n", name, trap.message);
        return CLI_TRAPPED;
    }
    for (size_t i = 0; i < nres && i < 16; i++)
        print_value(&res[i]);
    return CLI_OK;
}

int cli_connect(int argc, char **argv)
{
    if (argc < 2) {
        connect_usage(stderr);
        return CLI_USAGE;
    }
    const char *path = argv[0], *cmd = argv[1];
    argc -= 2, argv += 2;
    struct sbx_client *c;
    struct sbx_client_error err;
    if (sbx_connect(path, "sbx-cli", &c, &err)) return fail(path, &err);
    int status = CLI_USAGE;
    if (!strcmp(cmd, "status")) {
        status = cmd_status(c, argc, argv);
    } else if (!strcmp(cmd, "load") && argc == 1) {
        char id[SBX_MODULE_ID_SIZE];
        struct sbx_load_options lo = {.detach = true}; /* outlives this command */
        status = sbx_load_file(c, argv[0], &lo, id, NULL, &err) ? fail(argv[0], &err)
                                                                : (puts(id), CLI_OK);
    } else if (!strcmp(cmd, "unload") && argc == 1) {
        status = sbx_unload(c, argv[0], true, &err) ? fail(argv[0], &err) : CLI_OK;
    } else if (!strcmp(cmd, "run") || !strcmp(cmd, "spawn")) {
        status = cmd_run(c, argc, argv, !strcmp(cmd, "spawn"));
    } else if ((!strcmp(cmd, "wait") || !strcmp(cmd, "kill")) && argc == 1) {
        uint64_t w = strtoull(argv[0], NULL, 0);
        struct sbx_outcome o;
        if (!strcmp(cmd, "kill"))
            status = sbx_kill(c, w, &err) ? fail(argv[0], &err) : CLI_OK;
        else
            status =
                sbx_wait(c, w, -1, &o, &err) ? fail(argv[0], &err) : print_outcome(argv[0], &o);
    } else if (!strcmp(cmd, "call") && argc >= 2) {
        status = cmd_call(c, argc, argv);
    } else {
        connect_usage(stderr);
    }
    sbx_disconnect(c);
    return status;
}
