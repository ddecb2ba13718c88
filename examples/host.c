/* examples/host.c: a host program driving `sbx serve` through libsbx.
 *
 *   sbx serve --socket /tmp/sbx.sock &
 *   host /tmp/sbx.sock module.wasm [EXPORT [ARGS...]]
 *
 * Connects, loads the module, spawns EXPORT (default _start) with the
 * numeric ARGS converted to the export's parameter types, with this
 * program's stdout and stderr, waits for the outcome and prints it. Exits
 * with the module's exit code, 134 for a trap, 1 for anything else. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sbx.h>

/* Parses `s` as a value of wasm type `t`. Integers may be written signed
 * or unsigned, in any base strtoll accepts. */
static int parse_value(const char *s, enum sbx_type t, struct sbx_value *v)
{
    char *end;
    errno = 0;
    switch (t) {
    case SBX_TYPE_I32:
    case SBX_TYPE_I64: {
        long long x = s[0] == '-' ? strtoll(s, &end, 0) : (long long)strtoull(s, &end, 0);
        if (t == SBX_TYPE_I32) {
            v->type = SBX_VALUE_I32;
            v->u.i32 = (int32_t)x;
        } else {
            v->type = SBX_VALUE_I64;
            v->u.i64 = x;
        }
        break;
    }
    case SBX_TYPE_F32:
        v->type = SBX_VALUE_F32;
        v->u.f32 = strtof(s, &end);
        break;
    case SBX_TYPE_F64:
        v->type = SBX_VALUE_F64;
        v->u.f64 = strtod(s, &end);
        break;
    default: return -1; /* v128 and references cannot be passed from here */
    }
    return (errno || end == s || *end) ? -1 : 0;
}

static void print_value(const struct sbx_value *v)
{
    switch (v->type) {
    case SBX_VALUE_I32: printf("%" PRId32 "\n", v->u.i32); break;
    case SBX_VALUE_I64: printf("%" PRId64 "\n", v->u.i64); break;
    case SBX_VALUE_F32: printf("%g\n", (double)v->u.f32); break;
    case SBX_VALUE_F64: printf("%g\n", v->u.f64); break;
    }
}

static int print_outcome(const struct sbx_outcome *o)
{
    switch (o->kind) {
    case SBX_OUTCOME_EXITED:
        for (size_t i = 0; i < o->nresults; i++)
            print_value(&o->results[i]);
        return o->exit_code;
    case SBX_OUTCOME_TRAPPED:
        fprintf(stderr, "trap: %s (%s)\n", o->trap.message, sbx_trap_kind_name(o->trap.kind));
        for (size_t i = 0; i < o->trap.nframes; i++)
            fprintf(stderr, "  #%zu func[%u] %s\n", i, o->trap.frames[i].function_index,
                    o->trap.frames[i].name);
        return 134;
    case SBX_OUTCOME_KILLED:
        fprintf(stderr, "killed by signal %d%s\n", o->signal, o->by_request ? " (on request)" : "");
        return 128 + o->signal;
    default: fprintf(stderr, "%s %s\n", sbx_outcome_kind_name(o->kind), o->message); return 1;
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s SOCKET MODULE.wasm [EXPORT [ARGS...]]\n", argv[0]);
        return 2;
    }
    const char *export_name = argc > 3 ? argv[3] : "_start";
    int status = 1;
    struct sbx_client *c = NULL;
    struct sbx_module_info *info = NULL;
    struct sbx_value *args = NULL;
    struct sbx_client_error err;
    char module_id[SBX_MODULE_ID_SIZE];

    if (sbx_connect(argv[1], "sbx-example-host", &c, &err) < 0) goto fail;
    if (sbx_load_file(c, argv[2], NULL, module_id, &info, &err) < 0) goto fail;

    /* Find the export's signature to convert the arguments. */
    const struct sbx_item *fn = NULL;
    for (size_t i = 0; i < info->nexports; i++)
        if (info->exports[i].kind == SBX_ITEM_FUNC && !strcmp(info->exports[i].name, export_name))
            fn = &info->exports[i];
    size_t nargs = argc > 4 ? (size_t)(argc - 4) : 0;
    if (!fn || fn->nparams != nargs) {
        fprintf(stderr, "%s: no function export %s taking %zu arguments\n", argv[2], export_name,
                nargs);
        goto out;
    }
    args = calloc(nargs ? nargs : 1, sizeof(*args));
    if (!args) goto out;
    for (size_t i = 0; i < nargs; i++)
        if (parse_value(argv[4 + i], fn->params[i], &args[i])) {
            fprintf(stderr, "argument %zu: not a number of the parameter's type: %s\n", i + 1,
                    argv[4 + i]);
            goto out;
        }

    struct sbx_spawn_options opts;
    sbx_spawn_options_init(&opts);
    opts.export_name = export_name;
    opts.args = args;
    opts.nargs = nargs;
    const char *guest_argv[] = {argv[2]};
    opts.argv = guest_argv;
    opts.argc = 1;
    opts.stdout_fd = 1;
    opts.stderr_fd = 2;
    uint64_t worker;
    int pid;
    if (sbx_spawn(c, module_id, &opts, &worker, &pid, &err) < 0) goto fail;

    struct sbx_outcome outcome;
    if (sbx_wait(c, worker, -1, &outcome, &err) < 0) goto fail;
    status = print_outcome(&outcome);
    fprintf(stderr, "worker %" PRIu64 " (pid %d): %s in %" PRIu64 " us, max RSS %" PRIu64 " KiB\n",
            worker, pid, sbx_outcome_kind_name(outcome.kind), outcome.usage.wall_us,
            outcome.usage.max_rss_kb);
    goto out;
fail:
    fprintf(stderr, "%s: %s (%s)\n", argv[0], err.message, sbx_error_code_name(err.code));
out:
    free(args);
    sbx_module_info_free(info);
    sbx_disconnect(c);
    return status;
}
