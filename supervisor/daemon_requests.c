/* Client requests of `sbx serve`: every packet is received and validated by
 * ipc/ (a refused request gets an Error naming the field), then answered.
 * Module bytes are decoded and validated here before the zygote sees them,
 * so a bad module is refused with the decoder's message. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipc/limits.h"
#include "ipc/memfd.h"
#include "ipc/msg.h"
#include "ipc/socket.h"
#include "ipc/validate.h"
#include "supervisor/broker.h"
#include "supervisor/daemon.h"
#include "supervisor/spawn_policy.h"

#ifndef SBX_VERSION
#define SBX_VERSION "unknown"
#endif

int send_response(struct daemon *d, struct conn *c, Sbx__Response *r)
{
    (void)d;
    /* A client that does not read its replies is not waited for forever:
     * after a second it is cut off, so that it cannot stall the daemon a
     * second per reply. Its queued requests then fail at once and the end
     * of stream closes the connection (handle_client). */
    int rc = sbx_ipc_send(c->fd, &r->base, NULL, 0, 1000);
    if (rc == -ETIMEDOUT || rc == -EAGAIN) shutdown(c->fd, SHUT_RDWR);
    return rc;
}

void send_error(struct daemon *d, struct conn *c, uint64_t id, Sbx__ErrorCode code, const char *fmt,
                ...)
{
    char text[SBX_IPC_MAX_TEXT];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    Sbx__Response r;
    Sbx__Error e;
    sbx__response__init(&r);
    sbx__error__init(&e);
    e.has_code = 1, e.code = code;
    e.message = text;
    r.has_id = 1, r.id = id;
    r.body_case = SBX__RESPONSE__BODY_ERROR;
    r.error = &e;
    send_response(d, c, &r);
}

static void send_ack(struct daemon *d, struct conn *c, uint64_t id)
{
    Sbx__Response r;
    Sbx__Ack ack;
    sbx__response__init(&r);
    sbx__ack__init(&ack);
    r.has_id = 1, r.id = id;
    r.body_case = SBX__RESPONSE__BODY_ACK;
    r.ack = &ack;
    send_response(d, c, &r);
}

static Sbx__ValType valtype(uint8_t t)
{
    switch (t) {
    case SBX_I32: return SBX__VAL_TYPE__VALTYPE_I32;
    case SBX_I64: return SBX__VAL_TYPE__VALTYPE_I64;
    case SBX_F32: return SBX__VAL_TYPE__VALTYPE_F32;
    case SBX_F64: return SBX__VAL_TYPE__VALTYPE_F64;
    case SBX_V128: return SBX__VAL_TYPE__VALTYPE_V128;
    case SBX_FUNCREF: return SBX__VAL_TYPE__VALTYPE_FUNCREF;
    default: return SBX__VAL_TYPE__VALTYPE_EXTERNREF;
    }
}

/* The function exports of a module (with their signatures) and its
 * imports, for ModuleLoaded. Other export kinds are listed by name. */
void reply_module_loaded(struct daemon *d, struct conn *c, uint64_t request_id,
                         const struct module *m, bool already)
{
    const struct sbx_module *mod = m->decoded;
    uint32_t ne = mod->nexports < SBX_IPC_MAX_EXTERNS ? mod->nexports : SBX_IPC_MAX_EXTERNS;
    uint32_t ni = mod->nimports < SBX_IPC_MAX_EXTERNS ? mod->nimports : SBX_IPC_MAX_EXTERNS;
    Sbx__Export *ex = calloc(ne + 1, sizeof(*ex));
    Sbx__Export **exp = calloc(ne + 1, sizeof(*exp));
    Sbx__Import *im = calloc(ni + 1, sizeof(*im));
    Sbx__Import **imp = calloc(ni + 1, sizeof(*imp));
    Sbx__ExternType *et = calloc(ne + ni + 1, sizeof(*et));
    Sbx__FuncType *ft = calloc(ne + ni + 1, sizeof(*ft));
    size_t nvts = 0; /* parameters and results of every function extern */
    for (uint32_t i = 0; i < ne + ni; i++) {
        bool is_export = i < ne;
        uint8_t kind = is_export ? mod->exports[i].kind : mod->imports[i - ne].kind;
        if (kind != SBX_EXTERN_FUNC) continue;
        const struct sbx_functype *t = is_export ? sbx_module_func_type(mod, mod->exports[i].index)
                                                 : &mod->types[mod->imports[i - ne].u.func_type];
        nvts += t->nparams + t->nresults;
    }
    Sbx__ValType *vts = calloc(nvts + 1, sizeof(*vts));
    char **names = calloc(2 * (ne + ni) + 1, sizeof(char *));
    if (!ex || !exp || !im || !imp || !et || !ft || !vts || !names) {
        send_error(d, c, request_id, SBX__ERROR_CODE__INTERNAL, "out of memory");
        goto out;
    }
    size_t nv = 0, nn = 0, k = 0;
    for (uint32_t i = 0; i < ne + ni; i++) {
        bool is_export = i < ne;
        uint8_t kind = is_export ? mod->exports[i].kind : mod->imports[i - ne].kind;
        sbx__extern_type__init(&et[k]);
        et[k].has_kind = 1;
        et[k].kind = (Sbx__ExternKind)(kind + 1);
        if (kind == SBX_EXTERN_FUNC) {
            const struct sbx_functype *t = is_export
                                               ? sbx_module_func_type(mod, mod->exports[i].index)
                                               : &mod->types[mod->imports[i - ne].u.func_type];
            sbx__func_type__init(&ft[k]);
            ft[k].params = &vts[nv];
            for (uint32_t p = 0; p < t->nparams; p++)
                vts[nv++] = valtype(t->params[p]);
            ft[k].n_params = t->nparams;
            ft[k].results = &vts[nv];
            for (uint32_t r = 0; r < t->nresults; r++)
                vts[nv++] = valtype(t->results[r]);
            ft[k].n_results = t->nresults;
            et[k].func = &ft[k];
        }
        if (is_export) {
            const struct sbx_name *n = &mod->exports[i].name;
            sbx__export__init(&ex[i]);
            names[nn] = strndup(n->ptr, n->len);
            ex[i].name = names[nn++];
            ex[i].type = &et[k];
            exp[i] = &ex[i];
        } else {
            const struct sbx_import *in = &mod->imports[i - ne];
            Sbx__Import *x = &im[i - ne];
            sbx__import__init(x);
            names[nn] = strndup(in->module.ptr, in->module.len);
            x->module = names[nn++];
            names[nn] = strndup(in->name.ptr, in->name.len);
            x->name = names[nn++];
            x->type = &et[k];
            imp[i - ne] = x;
        }
        k++;
    }
    Sbx__Response r;
    Sbx__ModuleLoaded ml;
    sbx__response__init(&r);
    sbx__module_loaded__init(&ml);
    ml.module_id = (char *)m->id;
    ml.has_already_loaded = 1, ml.already_loaded = already;
    ml.n_exports = ne, ml.exports = exp;
    ml.n_imports = ni, ml.imports = imp;
    r.has_id = 1, r.id = request_id;
    r.body_case = SBX__RESPONSE__BODY_MODULE_LOADED;
    r.module_loaded = &ml;
    send_response(d, c, &r);
out:
    for (size_t i = 0; names && i < 2 * (ne + ni); i++)
        free(names[i]);
    free(names);
    free(ex), free(exp), free(im), free(imp), free(et), free(ft), free(vts);
}

static int add_conn_ref(struct conn *c, const char *id)
{
    if (c->nrefs == c->refs_cap) {
        size_t cap = c->refs_cap ? c->refs_cap * 2 : 8;
        void *p = realloc(c->refs, cap * sizeof(*c->refs));
        if (!p) return -ENOMEM;
        c->refs = p, c->refs_cap = cap;
    }
    snprintf(c->refs[c->nrefs++], 65, "%s", id);
    return 0;
}

/* Reads the module's bytes from wherever the request says they are. */
static uint8_t *module_bytes(const Sbx__LoadModule *lm, const int *fds, size_t *len, char *why,
                             size_t whysz)
{
    uint8_t *b = NULL;
    switch (lm->source_case) {
    case SBX__LOAD_MODULE__SOURCE_INLINE_BYTES:
        *len = lm->inline_bytes.len;
        b = malloc(*len ? *len : 1);
        if (b && *len) memcpy(b, lm->inline_bytes.data, *len);
        break;
    case SBX__LOAD_MODULE__SOURCE_MEMFD: {
        *len = lm->memfd->size;
        b = malloc(*len ? *len : 1);
        int rc = b ? sbx_memfd_read(fds[lm->memfd->fd_index], *len, SBX_IPC_MAX_MODULE_BYTES, b)
                   : -ENOMEM;
        if (rc) {
            snprintf(why, whysz, "cannot read the module memfd: %s", strerror(-rc));
            free(b);
            return NULL;
        }
        break;
    }
    default: { /* a path, read with the daemon's rights (clients are its own user) */
        int fd = open(lm->path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) ||
            (uint64_t)st.st_size > SBX_IPC_MAX_MODULE_BYTES) {
            snprintf(why, whysz, "cannot read %s: %s", lm->path,
                     fd < 0 ? strerror(errno) : "not a regular file of at most 1 GiB");
            if (fd >= 0) close(fd);
            return NULL;
        }
        *len = (size_t)st.st_size;
        b = malloc(*len ? *len : 1);
        if (b && (size_t)pread(fd, b, *len, 0) != *len) {
            snprintf(why, whysz, "cannot read %s", lm->path);
            free(b);
            b = NULL;
        }
        close(fd);
        return b;
    }
    }
    if (!b) snprintf(why, whysz, "out of memory");
    return b;
}

static void handle_load(struct daemon *d, struct conn *c, uint64_t id, const Sbx__LoadModule *lm,
                        const int *fds)
{
    char why[SBX_IPC_MAX_TEXT];
    size_t len;
    uint8_t *bytes = module_bytes(lm, fds, &len, why, sizeof why);
    if (!bytes) {
        send_error(d, c, id, SBX__ERROR_CODE__IO_ERROR, "%s", why);
        return;
    }
    char mid[65];
    sbx_module_id(bytes, len, mid);
    d->counters.loads++;
    struct module *m = find_module(d, mid);
    if (m) { /* same bytes: one more reference */
        free(bytes);
        m->refs++;
        if (!lm->detach) add_conn_ref(c, mid);
        reply_module_loaded(d, c, id, m, true);
        return;
    }
    struct sbx_error err;
    struct sbx_module *decoded = sbx_module_load(bytes, len, &err);
    if (!decoded) {
        char msg[SBX_ERROR_MSG_MAX + 64];
        sbx_error_format(&err, msg, sizeof msg);
        send_error(d, c, id, SBX__ERROR_CODE__INVALID_MODULE, "%s", msg);
        free(bytes);
        return;
    }
    m = calloc(1, sizeof(*m));
    int memfd = m ? sbx_memfd_from_bytes("sbx-module", bytes, len) : -ENOMEM;
    if (memfd < 0) {
        send_error(d, c, id, SBX__ERROR_CODE__INTERNAL, "out of memory");
        sbx_module_free(decoded);
        free(bytes);
        free(m);
        return;
    }
    snprintf(m->id, sizeof m->id, "%s", mid);
    snprintf(m->name, sizeof m->name, "%s", lm->name ? lm->name : "");
    m->bytes = bytes, m->len = len, m->decoded = decoded, m->refs = 1;
    m->next = d->modules;
    d->modules = m;
    if (!lm->detach) add_conn_ref(c, mid);

    Sbx__ControlRequest req;
    Sbx__LoadIntoZygote load;
    Sbx__MemfdRef ref;
    sbx_ctl_load_init(&req, &load, &ref, m->id, len);
    struct ctl_pending p = {.conn = c, .request_id = id, .module = m, .conn_ref = !lm->detach};
    if (ctl_send(d, &req, &memfd, 1, &p)) {
        send_error(d, c, id, SBX__ERROR_CODE__INTERNAL, "cannot reach the zygote");
        load_failed(d, &p);
    }
    close(memfd);
}

bool conn_drop_ref(struct conn *c, const char *mid)
{
    for (size_t i = 0; i < c->nrefs; i++)
        if (!strcmp(c->refs[i], mid)) {
            memmove(c->refs[i], c->refs[--c->nrefs], 65);
            return true;
        }
    return false;
}

static void handle_unload(struct daemon *d, struct conn *c, uint64_t id, const char *mid)
{
    if (conn_drop_ref(c, mid)) {
        struct module *m = find_module(d, mid);
        if (m) drop_module_ref(d, m);
        send_ack(d, c, id);
        return;
    }
    send_error(d, c, id, SBX__ERROR_CODE__UNKNOWN_MODULE,
               "this connection holds no reference to module %s", mid);
}

static bool allows_sockets(const Sbx__Policy *p)
{
    for (size_t i = 0; p->syscalls && i < p->syscalls->n_allow; i++)
        if (p->syscalls->allow[i] == SBX__SYSCALL_GROUP__SYSCALL_GROUP_SOCKETS) return true;
    return false;
}

/* The broker of a spawn's preopens (its directories opened now, so a
 * missing one fails the spawn); NULL after sending the error. */
static struct sbx_broker *open_preopens(struct daemon *d, struct conn *c, uint64_t id,
                                        const Sbx__Policy *p)
{
    struct sbx_broker *b;
    int e = sbx_broker_for_policy(p, &b);
    if (e) {
        send_error(d, c, id, SBX__ERROR_CODE__IO_ERROR,
                   "policy.preopens: cannot open a directory: %s", strerror(-e));
        return NULL;
    }
    return b;
}

/* What a spawn resolved to, for the worker that runs it. */
struct spawn_plan {
    const Sbx__Spawn *sp;
    const int *fds; /* the request's */
    struct module *m;
    const struct sbx_functype *type;
    const char *export_name;
    bool keep_alive;
    const Sbx__Policy *policy; /* effective */
    struct sbx_broker *broker; /* given to the worker */
};

/* Makes w the spawn's: its owner, module reference, limits and broker. */
static void adopt(struct daemon *d, struct conn *c, uint64_t id, const struct spawn_plan *p,
                  struct worker *w, Sbx__ResourceLimits *limits)
{
    w->owner = c;
    w->detach = p->sp->has_detach && p->sp->detach;
    w->spawn_request = id;
    /* Answered like a Wait of the spawning connection: the Outcome is the
     * Spawn's response. */
    w->reply_with_outcome = p->sp->reply_with_outcome;
    if (w->reply_with_outcome) w->waiter = c, w->wait_request = id;
    w->module = p->m;
    w->type = p->type;
    w->uid = c->uid;
    w->broker = p->broker;
    w->keep_alive = p->keep_alive;
    sbx_limits_from_policy(p->policy, limits);
    w->metered = limits->has_fuel;
    w->timeout_ms = limits->timeout_ms;
    sbx__usage__init(&w->usage);
    d->live_workers++;
    d->counters.spawns++;
    p->m->refs++; /* the worker holds its module */
    if (p->m->spawns < UINT32_MAX) p->m->spawns++;
}

/* The spawn's own part of a ForkWorker (for a cold fork, or the start of a
 * warm worker): stdio, argv, env, export, args, keep_alive and sockets,
 * their fds appended to cfds. */
struct spawn_fds {
    Sbx__StdioFd sfd[3], *sptr[3];
    uint32_t socket_index[SBX_IPC_MAX_SOCKETS];
};

static void fill_spawn_part(const struct spawn_plan *p, Sbx__ForkWorker *fw, struct spawn_fds *s,
                            int *cfds, size_t *nfds)
{
    const Sbx__Spawn *sp = p->sp;
    for (size_t i = 0; i < sp->n_stdio && i < 3; i++) {
        s->sfd[i] = *sp->stdio[i];
        s->sfd[i].fd_index = (uint32_t)*nfds;
        cfds[(*nfds)++] = p->fds[sp->stdio[i]->fd_index];
        s->sptr[i] = &s->sfd[i];
    }
    fw->n_stdio = sp->n_stdio < 3 ? sp->n_stdio : 3;
    fw->stdio = s->sptr;
    fw->export_name = (char *)p->export_name;
    fw->n_args = sp->n_args, fw->args = sp->args;
    fw->has_keep_alive = 1, fw->keep_alive = p->keep_alive;
    /* The spawn's own argv and env, else the policy's. */
    fw->n_argv = sp->n_argv ? sp->n_argv : p->policy->n_args;
    fw->argv = sp->n_argv ? sp->argv : p->policy->args;
    fw->n_env = sp->n_env ? sp->n_env : p->policy->n_env;
    fw->env = sp->n_env ? sp->env : p->policy->env;
    for (size_t i = 0; i < sp->n_socket_fd_index; i++) {
        s->socket_index[i] = (uint32_t)*nfds;
        cfds[(*nfds)++] = p->fds[sp->socket_fd_index[i]];
    }
    fw->n_socket_fd_index = sp->n_socket_fd_index;
    fw->socket_fd_index = s->socket_index;
}

/* A warm worker runs the spawn, and the start message brings it the
 * spawn's part. Spawned goes out at once if it has a pid, else when its
 * WorkerStarted comes (worker_started). */
static void start_warm(struct daemon *d, struct conn *c, uint64_t id, const struct spawn_plan *p,
                       struct worker *w)
{
    Sbx__ResourceLimits limits;
    adopt(d, c, id, p, w, &limits);
    d->counters.warm_spawns++;
    d->zygote_spawns++; /* a spawn of the current zygote (warm_take) */
    w->started_us = daemon_now_us();
    worker_arm_timeout(d, w, w->timeout_ms);
    Sbx__ToWorker msg;
    Sbx__ForkWorker start;
    struct spawn_fds s;
    int cfds[SBX_IPC_MAX_FDS];
    size_t nfds = 0;
    sbx__to_worker__init(&msg);
    sbx__fork_worker__init(&start);
    fill_spawn_part(p, &start, &s, cfds, &nfds);
    msg.has_id = 1, msg.id = 1;
    msg.body_case = SBX__TO_WORKER__BODY_START;
    msg.start = &start;
    /* A warm worker that died meanwhile: its exit decides the outcome. */
    if (sbx_ipc_send(w->channel, &msg.base, cfds, nfds, 1000)) worker_kill(d, w, false);
    if (w->state == W_RUNNING) worker_send_spawned(d, w);
}

/* No warm worker: the zygote forks one for this spawn. */
static struct worker *start_cold(struct daemon *d, struct conn *c, uint64_t id,
                                 const struct spawn_plan *p)
{
    struct worker *w = calloc(1, sizeof(*w));
    int ch[2];
    if (!w || sbx_ipc_pair(ch)) {
        sbx_broker_free(p->broker);
        free(w);
        send_error(d, c, id, SBX__ERROR_CODE__INTERNAL, "out of resources");
        return NULL;
    }
    w->id = d->next_worker_id++;
    w->state = W_STARTING;
    w->pidfd = -1;
    w->channel = ch[0];
    Sbx__ResourceLimits limits;
    adopt(d, c, id, p, w, &limits);
    w->next = d->workers;
    d->workers = w;

    Sbx__ControlRequest req;
    Sbx__ForkWorker fw;
    struct spawn_fds s;
    int cfds[SBX_IPC_MAX_FDS];
    uint32_t preopen_index[SBX_IPC_MAX_PREOPENS];
    size_t nfds = 0;
    sbx__control_request__init(&req);
    sbx__fork_worker__init(&fw);
    fill_spawn_part(p, &fw, &s, cfds, &nfds);
    fw.has_channel_fd_index = 1, fw.channel_fd_index = (uint32_t)nfds;
    cfds[nfds++] = ch[1];
    fw.has_worker_id = 1, fw.worker_id = w->id;
    fw.module_id = p->m->id;
    fw.limits = &limits;
    fw.policy = (Sbx__Policy *)p->policy;
    /* The worker's own directory fd of each preopen (the broker's roots). */
    for (size_t i = 0; i < sbx_broker_count(p->broker) && i < SBX_IPC_MAX_PREOPENS; i++) {
        preopen_index[i] = (uint32_t)nfds;
        cfds[nfds++] = sbx_broker_root_fd(p->broker, i);
    }
    fw.n_preopen_fd_index = sbx_broker_count(p->broker);
    fw.preopen_fd_index = preopen_index;
    req.body_case = SBX__CONTROL_REQUEST__BODY_FORK;
    req.fork = &fw;
    worker_arm_timeout(d, w, w->timeout_ms);
    struct ctl_pending pend = {.worker = w};
    int rc = ctl_send(d, &req, cfds, nfds, &pend);
    close(ch[1]);
    if (rc) {
        worker_spawn_failed(d, w, "cannot reach the zygote");
        return NULL;
    }
    return w;
}

static void handle_spawn(struct daemon *d, struct conn *c, uint64_t id, const Sbx__Spawn *sp,
                         const int *fds)
{
    struct module *m = find_module(d, sp->module_id);
    if (!m) {
        send_error(d, c, id, SBX__ERROR_CODE__UNKNOWN_MODULE, "no module %s", sp->module_id);
        return;
    }
    if (d->live_workers >= d->cfg->max_workers) {
        d->counters.refused_busy++;
        send_error(d, c, id, SBX__ERROR_CODE__BUSY, "%u workers are running (the maximum)",
                   d->live_workers);
        return;
    }
    const char *export_name = sp->export_name ? sp->export_name : "_start";
    const struct sbx_module *mod = m->decoded;
    const struct sbx_export *e = sbx_module_export(mod, export_name);
    bool keep_alive = sp->has_keep_alive && sp->keep_alive;
    /* A keep-alive spawn of a module without `_start` (a reactor) runs
     * `_initialize` if there is one: the worker gets an empty name. */
    static const struct sbx_functype nothing;
    const struct sbx_functype *type =
        e && e->kind == SBX_EXTERN_FUNC ? sbx_module_func_type(mod, e->index) : NULL;
    if (!e && keep_alive && !strcmp(export_name, "_start")) {
        export_name = "";
        type = &nothing;
    }
    if (!type) {
        send_error(d, c, id, SBX__ERROR_CODE__BAD_REQUEST, "no exported function \"%s\"",
                   export_name);
        return;
    }
    if (sp->n_args != type->nparams) {
        send_error(d, c, id, SBX__ERROR_CODE__BAD_REQUEST, "\"%s\" takes %u arguments, %zu given",
                   export_name, type->nparams, sp->n_args);
        return;
    }
    Sbx__Policy *policy;
    struct sbx_policy_error perr;
    if (sbx_spawn_policy(d->cfg->policy, sp->policy, sp->limits, &policy, &perr)) {
        send_error(d, c, id, SBX__ERROR_CODE__BAD_REQUEST, "spawn.policy: %s", perr.msg);
        return;
    }
    if (sp->n_socket_fd_index && !allows_sockets(policy)) {
        send_error(d, c, id, SBX__ERROR_CODE__BAD_REQUEST,
                   "spawn.socket_fd_index: the policy does not allow sockets (syscalls.allow: "
                   "SYSCALL_GROUP_SOCKETS)");
        sbx_policy_free(policy);
        return;
    }
    uint8_t *key = NULL;
    size_t key_len = 0;
    if (warm_key(d, policy, &key, &key_len)) key = NULL; /* out of memory: cold */
    struct sbx_broker *broker = open_preopens(d, c, id, policy);
    if (broker) {
        struct spawn_plan plan = {sp, fds, m, type, export_name, keep_alive, policy, broker};
        struct worker *warm = warm_take(d, m, key, key_len);
        if (warm) {
            start_warm(d, c, id, &plan, warm);
        } else {
            struct worker *w = start_cold(d, c, id, &plan);
            /* Its end makes warm workers for the next spawn like it. */
            if (w) w->warm_key = key, w->warm_key_len = key_len, key = NULL;
        }
    }
    free(key);
    sbx_policy_free(policy);
}

/* Modules are listed a page at a time, so that a reply always fits. */
#define STATUS_PAGE 256

static void handle_status(struct daemon *d, struct conn *c, uint64_t id, const Sbx__Status *req)
{
    Sbx__Response r;
    Sbx__StatusReply st;
    sbx__response__init(&r);
    sbx__status_reply__init(&st);
    uint32_t first = req->has_first_module_index ? req->first_module_index : 0;
    Sbx__ModuleInfo info[STATUS_PAGE], *ptrs[STATUS_PAGE];
    uint32_t nm = 0;
    for (struct module *m = d->modules; m; m = m->next, nm++) {
        if (nm < first || st.n_modules == STATUS_PAGE) continue;
        Sbx__ModuleInfo *mi = &info[st.n_modules];
        sbx__module_info__init(mi);
        mi->module_id = m->id;
        mi->name = m->name[0] ? m->name : NULL;
        mi->has_size_bytes = 1, mi->size_bytes = m->len;
        mi->has_references = 1, mi->references = m->refs;
        mi->has_live_workers = 1;
        for (struct worker *w = d->workers; w; w = w->next)
            if (w->module == m && w->state != W_DONE && !w->warm) mi->live_workers++;
        ptrs[st.n_modules++] = mi;
    }
    st.modules = ptrs;
    if (first + st.n_modules < nm)
        st.has_next_module_index = 1, st.next_module_index = first + st.n_modules;
    st.has_total_modules = 1, st.total_modules = nm;
    st.has_live_workers = 1, st.live_workers = d->live_workers;
    st.has_warm_workers = 1; /* ready ones: started, waiting for a spawn */
    for (const struct worker *w = d->workers; w; w = w->next)
        if (w->warm && !w->warm_template && !w->dismissed && w->state == W_RUNNING)
            st.warm_workers++;
    st.has_max_workers = 1, st.max_workers = d->cfg->max_workers;
    st.has_zygote_pid = 1, st.zygote_pid = d->zygote.pid;
    st.has_uptime_ms = 1, st.uptime_ms = (daemon_now_us() - d->start_us) / 1000;
    st.has_slots_total = 1, st.slots_total = d->cfg->slots;
    Sbx__Counters counters = d->counters;
    /* Every counter is present: set each has_ flag. */
    counters.has_requests = counters.has_bad_requests = counters.has_loads = 1;
    counters.has_unloads = counters.has_spawns = counters.has_refused_busy = 1;
    counters.has_exited = counters.has_trapped = counters.has_timeouts = 1;
    counters.has_fuel_exhausted = counters.has_memory_limit = counters.has_killed = 1;
    counters.has_policy_violations = counters.has_internal_errors = 1;
    counters.has_zygote_restarts = counters.has_zygote_rotations = counters.has_warm_spawns = 1;
    counters.has_warm_template_forks = 1;
    st.counters = &counters;
    r.has_id = 1, r.id = id;
    r.body_case = SBX__RESPONSE__BODY_STATUS;
    r.status = &st;
    send_response(d, c, &r);
}

/* The worker a request names, if it exists and c may use it; otherwise
 * the error is sent and NULL returned. Workers belong to the uid that
 * spawned them (root may use any). */
static struct worker *usable_worker(struct daemon *d, struct conn *c, uint64_t id,
                                    uint64_t worker_id)
{
    struct worker *w = find_worker(d, worker_id);
    /* Reported: its outcome is out, as if forgotten. Warm: nobody's yet. */
    if (!w || w->state == W_REPORTED || w->warm) {
        send_error(d, c, id, SBX__ERROR_CODE__UNKNOWN_WORKER, "no worker %llu",
                   (unsigned long long)worker_id);
        return NULL;
    }
    if (!worker_usable_by(w, c)) {
        send_error(d, c, id, SBX__ERROR_CODE__PERMISSION_DENIED,
                   "worker %llu belongs to another user", (unsigned long long)worker_id);
        return NULL;
    }
    return w;
}

static void dispatch(struct daemon *d, struct conn *c, Sbx__Request *req, const int *fds)
{
    uint64_t id = req->id;
    if (!c->hello && req->body_case != SBX__REQUEST__BODY_HELLO) {
        send_error(d, c, id, SBX__ERROR_CODE__NOT_HANDSHAKEN, "send Hello first");
        return;
    }
    switch (req->body_case) {
    case SBX__REQUEST__BODY_HELLO: {
        if (req->hello->protocol_version < SBX__PROTOCOL_VERSION__PROTOCOL_VERSION_1) {
            send_error(d, c, id, SBX__ERROR_CODE__UNSUPPORTED_VERSION,
                       "this server speaks protocol version %d",
                       SBX__PROTOCOL_VERSION__PROTOCOL_VERSION_1);
            return;
        }
        c->hello = true;
        Sbx__Response r;
        Sbx__Welcome wl;
        sbx__response__init(&r);
        sbx__welcome__init(&wl);
        wl.has_protocol_version = 1,
        wl.protocol_version = SBX__PROTOCOL_VERSION__PROTOCOL_VERSION_1;
        wl.server_version = SBX_VERSION;
        wl.has_supervisor_pid = 1, wl.supervisor_pid = getpid();
        wl.has_max_message_bytes = 1, wl.max_message_bytes = SBX_IPC_MAX_MESSAGE;
        wl.has_max_inline_module_bytes = 1, wl.max_inline_module_bytes = SBX_IPC_MAX_INLINE_MODULE;
        wl.has_max_fds_per_message = 1, wl.max_fds_per_message = SBX_IPC_MAX_FDS;
        r.has_id = 1, r.id = id;
        r.body_case = SBX__RESPONSE__BODY_WELCOME;
        r.welcome = &wl;
        send_response(d, c, &r);
        return;
    }
    case SBX__REQUEST__BODY_LOAD_MODULE: handle_load(d, c, id, req->load_module, fds); return;
    case SBX__REQUEST__BODY_UNLOAD_MODULE:
        handle_unload(d, c, id, req->unload_module->module_id);
        return;
    case SBX__REQUEST__BODY_SPAWN: handle_spawn(d, c, id, req->spawn, fds); return;
    case SBX__REQUEST__BODY_WAIT: {
        struct worker *w = usable_worker(d, c, id, req->wait->worker_id);
        if (w) worker_wait(d, c, id, w, req->wait);
        return;
    }
    case SBX__REQUEST__BODY_KILL: {
        struct worker *w = usable_worker(d, c, id, req->kill->worker_id);
        if (!w) return;
        if (w->state != W_DONE) worker_kill(d, w, true);
        send_ack(d, c, id);
        return;
    }
    case SBX__REQUEST__BODY_CALL: {
        struct worker *w = usable_worker(d, c, id, req->call->worker_id);
        if (w) worker_call(d, c, id, w, req->call);
        return;
    }
    case SBX__REQUEST__BODY_STATUS: handle_status(d, c, id, req->status); return;
    default: send_error(d, c, id, SBX__ERROR_CODE__BAD_REQUEST, "unknown request"); return;
    }
}

void handle_client(struct daemon *d, struct conn *c)
{
    Sbx__Request *req = NULL;
    int fds[SBX_IPC_MAX_FDS];
    size_t nfds = 0;
    struct sbx_ipc_reject why;
    int rc = sbx_ipc_recv_request(c->fd, &req, fds, &nfds, 0, &why);
    if (rc == -EAGAIN) return;
    d->counters.requests++;
    if (rc == -EPIPE || rc == -ECONNRESET) {
        close_conn(d, c);
        return;
    }
    if (rc) {
        /* Refused: the fds are closed already; say why, by request id. */
        d->counters.bad_requests++;
        send_error(d, c, why.request_id, why.code ? why.code : SBX__ERROR_CODE__BAD_REQUEST, "%s",
                   why.message[0] ? why.message : strerror(-rc));
        return;
    }
    dispatch(d, c, req, fds);
    sbx_ipc_close_fds(fds, nfds); /* the zygote and worker have their copies */
    sbx_ipc_free(&req->base);
}

void close_conn(struct daemon *d, struct conn *c)
{
    for (struct conn **p = &d->conns; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    daemon_unwatch(d, c->fd);
    close(c->fd);
    workers_conn_closed(d, c);
    for (size_t i = 0; i < c->nrefs; i++) {
        struct module *m = find_module(d, c->refs[i]);
        if (m) drop_module_ref(d, m);
    }
    for (size_t i = 0; i < d->npending; i++)
        if (d->pending[i].conn == c) d->pending[i].conn = NULL;
    free(c->refs);
    free(c);
}
