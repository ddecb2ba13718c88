/* `sbx run`: runs a module in a worker forked from a zygote, the process
 * model of DESIGN.md: the zygote is started before the module file is read,
 * loads and compiles the module, and forks the worker that runs the export;
 * this process prints what the worker reports. `--in-process` runs the
 * module here instead (for debugging the runtime). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "jit/runtime.h"
#include "ipc/msg.h"
#include "memimg/pool.h"
#include "supervisor/broker.h"
#include "supervisor/cli.h"
#include "supervisor/spawn_policy.h"
#include "supervisor/zygote_client.h"
#include "zygote/worker.h"
#include "wasi/wasi.h"
#include "zygote/values.h"

/* Exit status for a trap: what a native program that aborts returns
 * through a shell (128 + SIGABRT). */
#define CLI_TRAPPED 134
/* Exit status when the wall-clock limit killed the run, as timeout(1). */
#define CLI_TIMED_OUT 124

struct run_opts {
    const char *invoke; /* NULL: _start, with ARGS as the guest's argv */
    /* The guest's environment: --env entries, then --inherit-env's. */
    char **env;
    size_t nenv;
    /* The guest's argv: the file, then ARGS (unless --invoke). */
    char **argv;
    size_t argc;
    int64_t fuel; /* < 0: unmetered */
    uint64_t max_memory;
    size_t stack_size;
    uint32_t timeout_ms;
    bool in_process, inherit_env;
    const char *policy_file;
    Sbx__Policy request; /* what the options ask for (--dir) */
    Sbx__Policy *policy; /* effective: the file's or the default, with the flags */
};

static void run_usage(FILE *f)
{
    fputs("usage: sbx run [OPTIONS] FILE.wasm [ARGS...]\n"
          "Runs a WASI program (its _start, with ARGS as its arguments) in a sandboxed\n"
          "worker, or an exported function (--invoke), and exits with its exit code.\n\n"
          "  --invoke NAME       the export to call, with ARGS as its numeric arguments;\n"
          "                      its results are printed\n"
          "  --env K=V           set an environment variable of the guest (repeatable)\n"
          "  --inherit-env       pass this process's environment to the guest\n"
          "  --dir HOST[::GUEST][:ro]  let the guest reach directory HOST as GUEST\n"
          "                      (default: HOST as given), read-only with :ro (repeatable)\n"
          "  --policy FILE       the worker's policy (JSON, see `sbx policy check`); the\n"
          "                      limit options may then only narrow it\n"
          "  --fuel N            stop with a trap after N function entries and loop iterations\n"
          "  --max-memory BYTES  largest linear memory (default 4 GiB)\n"
          "  --stack-size BYTES  wasm stack size (default 1 MiB)\n"
          "  --timeout MS        kill the run after MS milliseconds of wall-clock time\n"
          "  --in-process        run in this process, not in a worker (debugging)\n",
          f);
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end || s[0] == '-') return -1;
    *out = v;
    return 0;
}

/* Parses a numeric argument of wasm type `type`. Integers may be given
 * signed or unsigned; floats as C floating literals, inf or nan. */
static int parse_arg(const char *s, uint8_t type, union sbx_val *v)
{
    char *end;
    errno = 0;
    memset(v, 0, sizeof(*v));
    switch (type) {
    case SBX_I32:
    case SBX_I64: {
        long long sv;
        unsigned long long uv;
        if (s[0] == '-') {
            sv = strtoll(s, &end, 0);
            uv = (unsigned long long)sv;
            if (type == SBX_I32 && sv < INT32_MIN) return -1;
        } else {
            uv = strtoull(s, &end, 0);
            if (type == SBX_I32 && uv > UINT32_MAX) return -1;
        }
        if (errno || end == s || *end) return -1;
        if (type == SBX_I32)
            v->i32 = (uint32_t)uv;
        else
            v->i64 = uv;
        return 0;
    }
    case SBX_F32: {
        float f = strtof(s, &end);
        if (end == s || *end) return -1;
        memcpy(&v->f32, &f, 4);
        return 0;
    }
    case SBX_F64: {
        double d = strtod(s, &end);
        if (end == s || *end) return -1;
        memcpy(&v->f64, &d, 8);
        return 0;
    }
    default: return -1;
    }
}

static void print_result(uint8_t type, const union sbx_val *v)
{
    float f;
    double d;
    switch (type) {
    case SBX_I32: printf("%" PRId32 "\n", (int32_t)v->i32); break;
    case SBX_I64: printf("%" PRId64 "\n", (int64_t)v->i64); break;
    case SBX_F32:
        memcpy(&f, &v->f32, 4);
        printf("%.9g\n", (double)f);
        break;
    case SBX_F64:
        memcpy(&d, &v->f64, 8);
        printf("%.17g\n", d);
        break;
    default: printf("%s:%p\n", sbx_valtype_name(type), v->ref); break;
    }
}

static void print_trap(const char *path, const struct sbx_module *m, const struct sbx_trap *t)
{
    fprintf(stderr, "sbx: %s: wasm trap: %s\n", path, t->message);
    if (!t->nframes) return;
    fputs("wasm backtrace:\n", stderr);
    for (uint32_t i = 0; i < t->nframes; i++) {
        struct sbx_name name;
        fprintf(stderr, "  %2u: func[%u]", i, t->frames[i]);
        if (sbx_module_func_name(m, t->frames[i], &name))
            fprintf(stderr, " %.*s", (int)name.len, name.ptr);
        fputc('\n', stderr);
    }
}

static int find_export(const struct sbx_module *m, const char *name, uint32_t *func)
{
    const struct sbx_export *e = sbx_module_export(m, name);
    if (!e || e->kind != SBX_EXTERN_FUNC) return -1;
    *func = e->index;
    return 0;
}

/* The export to invoke and its type; 0, or the exit status after saying
 * what is wrong (no such export, wrong number of arguments). */
static int resolve_export(const char *path, const struct sbx_module *m, const char *name, int nargs,
                          uint32_t *func, const struct sbx_functype **ft)
{
    if (find_export(m, name, func)) {
        fprintf(stderr, "sbx: %s: no exported function \"%s\"\n", path, name);
        return CLI_FAILED;
    }
    *ft = sbx_module_func_type(m, *func);
    if ((uint32_t)nargs != (*ft)->nparams) {
        fprintf(stderr, "sbx: %s: \"%s\" takes %u argument%s, %d given\n", path, name,
                (*ft)->nparams, (*ft)->nparams == 1 ? "" : "s", nargs);
        return CLI_USAGE;
    }
    return 0;
}

/* Opens the policy's preopened directories: the broker's roots. NULL and
 * a message on stderr when one cannot be opened. */
static struct sbx_broker *open_preopens(const char *path, const Sbx__Policy *p)
{
    struct sbx_broker *b;
    int e = sbx_broker_for_policy(p, &b);
    if (e) {
        fprintf(stderr, "sbx: %s: cannot open a preopened directory: %s\n", path, strerror(-e));
        return NULL;
    }
    return b;
}

/* WASI in this process (--in-process), with this process's stdio and the
 * local resolver beneath the preopens. */
static int local_wasi(const struct run_opts *o, const struct sbx_broker *dirs,
                      struct sbx_linker *linker, struct sbx_wasi **out, struct sbx_error *err)
{
    struct sbx_wasi_config cfg;
    sbx_wasi_config_default(&cfg);
    cfg.argv = (const char *const *)o->argv, cfg.argc = o->argc;
    cfg.env = (const char *const *)o->env, cfg.envc = o->nenv;
    size_t n = sbx_broker_count(dirs);
    struct sbx_wasi_preopen pre[n + 1];
    for (size_t i = 0; i < n; i++)
        pre[i] = (struct sbx_wasi_preopen){.host_fd = sbx_broker_root_fd(dirs, i),
                                           .guest_path = o->policy->preopens[i]->guest_path,
                                           .read_only = o->policy->preopens[i]->read_only};
    cfg.preopens = pre, cfg.npreopens = n;
    if (sbx_wasi_new(&cfg, out, err)) return -1;
    if (sbx_wasi_define(*out, linker)) return sbx_fail(err, 0, "out of memory");
    return 0;
}

static int run_loaded(const char *path, struct cli_loaded *l, const struct run_opts *o, int nargs,
                      char **args)
{
    const struct sbx_module *m = l->module;
    uint32_t func;
    const struct sbx_functype *ft;
    int bad = resolve_export(path, m, o->invoke ? o->invoke : "_start", nargs, &func, &ft);
    if (bad) return bad;
    union sbx_val *argv = calloc(ft->nparams + 1, sizeof(*argv));
    union sbx_val *res = calloc(ft->nresults + 1, sizeof(*res));
    int status = CLI_FAILED;
    struct sbx_compiled *c = NULL;
    struct sbx_linker *linker = NULL;
    struct sbx_pool *pool = NULL;
    struct sbx_instance *inst = NULL;
    struct sbx_wasi *wasi = NULL;
    struct sbx_broker *dirs = NULL;
    if (!argv || !res) goto out;
    for (uint32_t i = 0; i < ft->nparams; i++)
        if (parse_arg(args[i], ft->params[i], &argv[i])) {
            fprintf(stderr, "sbx: %s: argument %u (\"%s\") is not a valid %s\n", path, i + 1,
                    args[i], sbx_valtype_name(ft->params[i]));
            status = CLI_USAGE;
            goto out;
        }

    struct sbx_error err;
    struct sbx_compile_options copts = {.fuel = o->fuel >= 0};
    c = sbx_compile(m, &copts, &err);
    if (!c) {
        fprintf(stderr, "sbx: %s: cannot compile: %s\n", path, err.msg);
        goto out;
    }
    struct sbx_pool_config pcfg;
    sbx_pool_config_default(&pcfg);
    pcfg.slot_count = 2;
    if (o->max_memory) pcfg.max_memory_bytes = o->max_memory;
    int e = sbx_pool_create(&pcfg, &pool);
    if (e) {
        fprintf(stderr, "sbx: cannot set up linear memory: %s\n", sbx_pool_strerror(e));
        goto out;
    }
    linker = sbx_linker_new();
    struct sbx_trap trap;
    memset(&trap, 0, sizeof trap);
    if (linker && sbx_wasi_imported_by(m)) {
        if (!(dirs = open_preopens(path, o->policy))) goto out;
        if (local_wasi(o, dirs, linker, &wasi, &err)) {
            fprintf(stderr, "sbx: %s: cannot set up WASI: %s\n", path, err.msg);
            goto out;
        }
    }
    struct sbx_instance_options iopts = {.max_memory_bytes = o->max_memory,
                                         .stack_size = o->stack_size};
    inst = linker ? sbx_instantiate_with(c, linker, pool, &iopts, &err, &trap) : NULL;
    if (!inst) {
        if (linker && trap.code != SBX_TRAP_NONE) {
            print_trap(path, m, &trap);
            status = CLI_TRAPPED;
        } else {
            fprintf(stderr, "sbx: %s: cannot instantiate: %s\n", path,
                    linker ? err.msg : "out of memory");
        }
        goto out;
    }
    if (o->fuel >= 0) sbx_instance_set_fuel(inst, o->fuel);
    if (sbx_instance_call(inst, func, argv, res, &trap)) {
        if (trap.code != SBX_TRAP_EXIT) print_trap(path, m, &trap);
        status = trap.code == SBX_TRAP_EXIT ? trap.exit_code : CLI_TRAPPED;
        goto out;
    }
    for (uint32_t i = 0; i < ft->nresults; i++)
        print_result(ft->results[i], &res[i]);
    status = CLI_OK;
out:
    sbx_instance_free(inst);
    sbx_linker_free(linker);
    sbx_wasi_free(wasi);
    sbx_broker_free(dirs);
    sbx_pool_destroy(pool);
    sbx_compiled_free(c);
    free(argv);
    free(res);
    return status;
}

/* Prints the worker's report and turns it into sbx's exit status. */
static int report_outcome(const char *path, const struct sbx_module *m,
                          const struct sbx_functype *ft, const struct sbx_spawn_outcome *out,
                          uint32_t timeout_ms)
{
    if (out->timed_out) {
        fprintf(stderr, "sbx: %s: timed out after %u ms\n", path, timeout_ms);
        return CLI_TIMED_OUT;
    }
    const Sbx__WorkerReport *r = out->report;
    if (sbx_worker_violated(out->wait_status)) {
        int nr = sbx_worker_violation_nr(r);
        const char *name = nr >= 0 ? sbx_syscall_name(nr) : NULL;
        fprintf(stderr, "sbx: %s: policy violation: system call %s (%d) is not allowed\n", path,
                name ? name : "unknown", nr);
        return SBX_CONFINE_EXIT_VIOLATION;
    }
    bool reported = r && WIFEXITED(out->wait_status) && WEXITSTATUS(out->wait_status) == 0;
    if (!reported) {
        if (WIFSIGNALED(out->wait_status)) {
            fprintf(stderr, "sbx: %s: the worker was killed by signal %d\n", path,
                    WTERMSIG(out->wait_status));
            return 128 + WTERMSIG(out->wait_status);
        }
        if (r && r->kind_case == SBX__WORKER_REPORT__KIND_INTERNAL_ERROR &&
            r->internal_error->message) /* a set-up failure, in the worker's words */
            fprintf(stderr, "sbx: %s: the worker failed: %s\n", path, r->internal_error->message);
        else
            fprintf(stderr, "sbx: %s: the worker failed (exit status %d) without a report\n", path,
                    WIFEXITED(out->wait_status) ? WEXITSTATUS(out->wait_status) : -1);
        return CLI_FAILED;
    }
    switch (r->kind_case) {
    case SBX__WORKER_REPORT__KIND_EXITED:
        if (r->n_results == ft->nresults)
            for (size_t i = 0; i < r->n_results; i++) {
                union sbx_val v;
                if (sbx_value_from_proto(r->results[i], ft->results[i], &v) == 0)
                    print_result(ft->results[i], &v);
            }
        return r->exited->code;
    case SBX__WORKER_REPORT__KIND_TRAPPED:
    case SBX__WORKER_REPORT__KIND_FUEL_EXHAUSTED: {
        const Sbx__Trap *t = r->kind_case == SBX__WORKER_REPORT__KIND_TRAPPED ? r->trapped : NULL;
        fprintf(stderr, "sbx: %s: wasm trap: %s\n", path,
                t && t->message ? t->message : sbx_trap_message(SBX_TRAP_OUT_OF_FUEL));
        if (t && t->n_frames) {
            fputs("wasm backtrace:\n", stderr);
            for (size_t i = 0; i < t->n_frames; i++)
                fprintf(stderr, "  %2zu: func[%u]%s%s\n", i, t->frames[i]->function_index,
                        t->frames[i]->name ? " " : "",
                        t->frames[i]->name ? t->frames[i]->name : "");
        }
        (void)m;
        return CLI_TRAPPED;
    }
    case SBX__WORKER_REPORT__KIND_MEMORY_LIMIT:
        fprintf(stderr, "sbx: %s: the memory limit of %" PRIu64 " bytes was reached\n", path,
                r->memory_limit->limit_bytes);
        return CLI_TRAPPED;
    case SBX__WORKER_REPORT__KIND_INTERNAL_ERROR:
        fprintf(stderr, "sbx: %s: %s\n", path,
                r->internal_error->message ? r->internal_error->message : "internal error");
        return CLI_FAILED;
    default:
        fprintf(stderr, "sbx: %s: the worker ended with an unexpected report\n", path);
        return CLI_FAILED;
    }
}

static int run_isolated(const char *path, struct cli_loaded *l, const struct run_opts *o, int nargs,
                        char **args, struct sbx_zygote_client *z)
{
    const struct sbx_module *m = l->module;
    uint32_t func;
    const struct sbx_functype *ft;
    int bad = resolve_export(path, m, o->invoke ? o->invoke : "_start", nargs, &func, &ft);
    if (bad) return bad;
    Sbx__Value vals[ft->nparams + 1];
    Sbx__Value *ptrs[ft->nparams + 1];
    for (uint32_t i = 0; i < ft->nparams; i++) {
        union sbx_val v;
        if (parse_arg(args[i], ft->params[i], &v)) {
            fprintf(stderr, "sbx: %s: argument %u (\"%s\") is not a valid %s\n", path, i + 1,
                    args[i], sbx_valtype_name(ft->params[i]));
            return CLI_USAGE;
        }
        sbx_value_to_proto(ft->params[i], &v, &vals[i]);
        ptrs[i] = &vals[i];
    }
    char id[65], err[512];
    sbx_module_id(l->bytes, l->len, id);
    if (sbx_zygote_client_load(z, id, l->bytes, l->len, err, sizeof err)) {
        fprintf(stderr, "sbx: %s: %s\n", path, err);
        return CLI_FAILED;
    }
    struct sbx_spawn_request req = {
        .worker_id = 1,
        .module_id = id,
        .export_name = o->invoke ? o->invoke : "_start",
        .args = ptrs,
        .nargs = ft->nparams,
        .stdio = {0, 1, 2},
        .fuel = o->fuel >= 0 ? (uint64_t)o->fuel : 0,
        .timeout_ms = o->timeout_ms,
        .argv = o->argv,
        .argc = o->argc,
        .env = o->env,
        .envc = o->nenv,
        .memory_bytes = o->max_memory,
        .stack_bytes = o->stack_size,
        .policy = o->policy,
    };
    if (!(req.broker = open_preopens(path, o->policy))) return CLI_FAILED;
    struct sbx_spawn_outcome out;
    int rc = sbx_zygote_client_run(z, &req, &out, err, sizeof err);
    sbx_broker_free(req.broker);
    if (rc) {
        fprintf(stderr, "sbx: %s: %s\n", path, err);
        return CLI_FAILED;
    }
    fflush(stdout);
    int status = report_outcome(path, m, ft, &out, o->timeout_ms);
    if (out.report_msg) sbx_ipc_free(&out.report_msg->base);
    return status;
}

/* --dir HOST[::GUEST][:ro]: a preopen of the request. HOST is made
 * absolute and canonical here, as a policy requires; GUEST defaults to
 * HOST as the user wrote it (what wasmtime does). */
static int add_dir(struct run_opts *o, const char *spec)
{
    size_t len = strlen(spec);
    bool ro = len > 3 && !strcmp(spec + len - 3, ":ro");
    if (ro) len -= 3;
    char *host = strndup(spec, len);
    if (!host) return -1;
    char *sep = strstr(host, "::");
    const char *guest = host;
    if (sep) *sep = 0, guest = sep + 2;
    char *real = realpath(host, NULL);
    if (!real || !*guest) {
        fprintf(stderr, "sbx run: --dir %s: %s\n", spec,
                real ? "empty guest path" : strerror(errno));
        free(real);
        free(host);
        return -1;
    }
    Sbx__Preopen **list = realloc(o->request.preopens, (o->request.n_preopens + 1) * sizeof *list);
    Sbx__Preopen *p = malloc(sizeof *p);
    char *g = strdup(guest);
    if (list) o->request.preopens = list;
    if (!list || !p || !g) {
        free(p), free(g), free(real), free(host);
        return -1;
    }
    sbx__preopen__init(p);
    p->host_path = real;
    p->guest_path = g;
    p->has_read_only = 1, p->read_only = ro;
    list[o->request.n_preopens++] = p;
    free(host);
    return 0;
}

static void free_dirs(struct run_opts *o)
{
    for (size_t i = 0; i < o->request.n_preopens; i++) {
        free(o->request.preopens[i]->host_path);
        free(o->request.preopens[i]->guest_path);
        free(o->request.preopens[i]);
    }
    free(o->request.preopens);
    o->request.preopens = NULL, o->request.n_preopens = 0;
}

/* Adds "K=V" to the guest's environment (the first entry of a key wins). */
static int add_env(struct run_opts *o, char *kv)
{
    size_t klen = (size_t)(strchr(kv, '=') - kv);
    for (size_t i = 0; i < o->nenv; i++)
        if (!strncmp(o->env[i], kv, klen + 1)) return 0;
    char **p = realloc(o->env, (o->nenv + 1) * sizeof *p);
    if (!p) {
        fprintf(stderr, "sbx: out of memory\n");
        return -1;
    }
    o->env = p;
    o->env[o->nenv++] = kv;
    return 0;
}

static int inherit_env(struct run_opts *o)
{
    for (char **e = environ; *e; e++)
        if (strchr(*e, '=') && **e != '=' && add_env(o, *e)) return -1;
    return 0;
}

static int run_with(const char *path, const struct run_opts *op, int nargs, char **args);

/* The run's effective policy: --policy FILE narrowed by the limit options,
 * or, without a file, the defaults with the options in their place (the
 * user at the terminal is the operator). The options then take its
 * numbers, which every later step uses. */
static int run_policy(struct run_opts *o)
{
    Sbx__ResourceLimits flags = SBX__RESOURCE_LIMITS__INIT;
    if (o->max_memory) flags.has_memory_bytes = 1, flags.memory_bytes = o->max_memory;
    if (o->fuel >= 0) flags.has_fuel = 1, flags.fuel = (uint64_t)o->fuel;
    if (o->timeout_ms) flags.has_timeout_ms = 1, flags.timeout_ms = o->timeout_ms;
    if (o->stack_size) flags.has_stack_bytes = 1, flags.stack_bytes = o->stack_size;
    struct sbx_policy_error err;
    int rc;
    if (o->policy_file) {
        Sbx__Policy *base;
        if (cli_base_policy(o->policy_file, &base)) return -1;
        rc = sbx_spawn_policy(base, &o->request, &flags, &o->policy, &err);
        sbx_policy_free(base);
    } else {
        rc = sbx_default_policy_with(&o->request, &flags, &o->policy, &err);
    }
    if (rc) {
        fprintf(stderr, "sbx run: %s\n", err.msg);
        return -1;
    }
    Sbx__ResourceLimits l;
    sbx_limits_from_policy(o->policy, &l);
    o->max_memory = l.memory_bytes;
    o->stack_size = (size_t)l.stack_bytes;
    o->timeout_ms = l.timeout_ms;
    o->fuel = l.has_fuel ? (int64_t)(l.fuel > INT64_MAX ? INT64_MAX : l.fuel) : -1;
    return 0;
}

int cli_run(int argc, char **argv)
{
    struct run_opts o = {.fuel = -1, .request = SBX__POLICY__INIT};
    int i = 0;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        uint64_t v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            run_usage(stdout);
            return CLI_OK;
        }
        if (!strcmp(a, "--")) {
            i++;
            break;
        }
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--invoke") && val) {
            o.invoke = val;
        } else if (!strcmp(a, "--fuel") && val && !parse_u64(val, &v) && v <= INT64_MAX) {
            o.fuel = (int64_t)v;
        } else if (!strcmp(a, "--max-memory") && val && !parse_u64(val, &v)) {
            o.max_memory = v;
        } else if (!strcmp(a, "--stack-size") && val && !parse_u64(val, &v)) {
            o.stack_size = (size_t)v;
        } else if (!strcmp(a, "--timeout") && val && !parse_u64(val, &v) && v <= UINT32_MAX) {
            o.timeout_ms = (uint32_t)v;
        } else if (!strcmp(a, "--env") && val && strchr(val, '=') && val[0] != '=') {
            if (add_env(&o, (char *)val)) return CLI_FAILED;
        } else if (!strcmp(a, "--dir") && val) {
            if (add_dir(&o, val)) {
                free_dirs(&o);
                free(o.env);
                return CLI_USAGE;
            }
        } else if (!strcmp(a, "--policy") && val) {
            o.policy_file = val;
        } else if (!strcmp(a, "--inherit-env")) {
            o.inherit_env = true;
            continue;
        } else if (!strcmp(a, "--in-process")) {
            o.in_process = true;
            continue;
        } else {
            fprintf(stderr, "sbx run: bad option or value: %s%s%s\n", a, val ? " " : "",
                    val ? val : "");
            run_usage(stderr);
            return CLI_USAGE;
        }
        i++;
    }
    if (i >= argc) {
        run_usage(stderr);
        return CLI_USAGE;
    }
    const char *path = argv[i];
    if (o.inherit_env && inherit_env(&o)) return CLI_FAILED;
    if (run_policy(&o)) {
        free(o.env);
        free_dirs(&o);
        return CLI_USAGE;
    }
    /* The guest's argv: the file as given, then its arguments (which are
     * the export's numeric arguments with --invoke instead). */
    o.argv = argv + i;
    o.argc = o.invoke ? 1 : (size_t)(argc - i);
    i++;
    if (!o.invoke) i = argc; /* no numeric arguments */
    int status = run_with(path, &o, argc - i, argv + i);
    free(o.env);
    free_dirs(&o);
    sbx_policy_free(o.policy);
    return status;
}

static int run_with(const char *path, const struct run_opts *op, int nargs, char **args)
{
    struct run_opts o = *op;
    if (o.in_process) {
        struct cli_loaded l;
        if (cli_load(path, &l)) return CLI_FAILED;
        int status = run_loaded(path, &l, &o, nargs, args);
        cli_unload(&l);
        return status;
    }
    /* The zygote comes first, before any byte of the module is read. A
     * plain fork, not the daemon's exec'd zygote: cold-start latency is what
     * matters here (exec + dynamic linking cost ~1.7 ms more than the ~0.5 ms
     * fork on the development machine, against a 5 ms budget), and this
     * process has read nothing untrusted yet, so the zygote's image is as
     * clean as an exec'd one; only its layout is shared with this short-lived
     * supervisor. */
    struct sbx_zygote_client z;
    struct sbx_zygote_config zcfg = {.slots = 4, .max_memory_bytes = o.max_memory, .strategy = -1};
    char err[512];
    if (sbx_zygote_client_start(&z, &zcfg, err, sizeof err)) {
        fprintf(stderr, "sbx: cannot start the zygote: %s\n", err);
        return CLI_FAILED;
    }
    struct cli_loaded l;
    int status = CLI_FAILED;
    if (cli_load(path, &l) == 0) {
        status = run_isolated(path, &l, &o, nargs, args, &z);
        cli_unload(&l);
    }
    sbx_zygote_client_kill(&z); /* the run is over: its outcome is known */
    return status;
}
