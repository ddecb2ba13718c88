/* The zygote's loop: answer the supervisor's control requests (load,
 * unload, fork, ping) one at a time, and reap workers as SIGCHLD arrives,
 * reporting each exit once. It holds every loaded module decoded and
 * compiled, and one memimg pool that every worker inherits by fork. */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipc/limits.h"
#include "ipc/memfd.h"
#include "ipc/msg.h"
#include "ipc/validate.h"
#include "memimg/pool.h"
#include "zygote/confinements.h"
#include "zygote/huge_text.h"
#include "zygote/no_rseq.h"
#include "zygote/worker.h"
#include "zygote/zygote.h"

struct module_entry {
    char id[SBX_IPC_MODULE_ID_LEN + 1];
    uint8_t *bytes;
    struct sbx_module *module;
    struct sbx_compiled *compiled;      /* without fuel metering */
    struct sbx_compiled *compiled_fuel; /* with it, made on the first spawn that sets fuel */
    struct module_entry *next;
};

struct worker_entry {
    pid_t pid;
    uint64_t worker_id;
};

struct zygote {
    int ctl;
    int sigfd;
    struct sbx_ipc_arena rx; /* requests are received into static storage */
    struct sbx_pool *pool;
    struct zygote_confinements *confinements;
    struct module_entry *modules;
    struct worker_entry *workers;
    size_t nworkers, workers_cap;
};

static struct module_entry *find_module(struct zygote *z, const char *id)
{
    for (struct module_entry *e = z->modules; e; e = e->next)
        if (!strcmp(e->id, id)) return e;
    return NULL;
}

static void free_module(struct zygote *z, struct module_entry *e)
{
    /* Slots that still map the image go back to plain reservations first. */
    sbx_pool_purge_module(z->pool, (uint64_t)(uintptr_t)e->compiled, NULL, NULL);
    sbx_compiled_free(e->compiled);
    if (e->compiled_fuel) {
        sbx_pool_purge_module(z->pool, (uint64_t)(uintptr_t)e->compiled_fuel, NULL, NULL);
        sbx_compiled_free(e->compiled_fuel);
    }
    sbx_module_free(e->module);
    free(e->bytes);
    free(e);
}

static void reply(struct zygote *z, Sbx__ControlReply *rep, const int *fds, size_t nfds)
{
    sbx_ipc_send(z->ctl, &rep->base, fds, nfds, 5000);
}

static void reply_ack(struct zygote *z, uint64_t id)
{
    Sbx__ControlReply rep;
    Sbx__Ack ack;
    sbx__control_reply__init(&rep);
    sbx__ack__init(&ack);
    rep.has_id = 1, rep.id = id;
    rep.body_case = SBX__CONTROL_REPLY__BODY_ACK;
    rep.ack = &ack;
    reply(z, &rep, NULL, 0);
}

static void reply_error(struct zygote *z, uint64_t id, Sbx__ErrorCode code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void reply_error(struct zygote *z, uint64_t id, Sbx__ErrorCode code, const char *fmt, ...)
{
    char text[SBX_IPC_MAX_TEXT];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    Sbx__ControlReply rep;
    Sbx__Error e;
    sbx__control_reply__init(&rep);
    sbx__error__init(&e);
    e.has_code = 1, e.code = code;
    e.message = text;
    rep.has_id = 1, rep.id = id;
    rep.body_case = SBX__CONTROL_REPLY__BODY_ERROR;
    rep.error = &e;
    reply(z, &rep, NULL, 0);
}

static void handle_load(struct zygote *z, uint64_t id, const Sbx__LoadIntoZygote *req, int *fds)
{
    if (find_module(z, req->module_id)) {
        reply_ack(z, id); /* same id, same bytes: already loaded */
        return;
    }
    int fd = fds[req->module->fd_index];
    uint64_t size = req->module->size;
    struct module_entry *e = calloc(1, sizeof(*e));
    uint8_t *bytes = malloc(size ? size : 1);
    if (!e || !bytes) {
        free(e);
        free(bytes);
        reply_error(z, id, SBX__ERROR_CODE__LIMIT, "out of memory loading %s", req->module_id);
        return;
    }
    int rc = sbx_memfd_read(fd, size, SBX_IPC_MAX_MODULE_BYTES, bytes);
    if (rc) {
        free(e);
        free(bytes);
        reply_error(z, id, SBX__ERROR_CODE__BAD_REQUEST, "cannot read the module memfd: %s",
                    strerror(-rc));
        return;
    }
    struct sbx_error err;
    e->bytes = bytes;
    e->module = sbx_module_load(bytes, size, &err);
    /* Unmetered: metering costs every loop iteration, so the metered
     * variant is compiled only when a spawn asks for fuel (handle_fork). */
    struct sbx_compile_options opts = {0};
    if (e->module) e->compiled = sbx_compile(e->module, &opts, &err);
    /* The memory image too, once here rather than in every worker. */
    if (e->compiled) sbx_compiled_prepare(e->compiled);
    if (!e->module || !e->compiled) {
        char msg[SBX_ERROR_MSG_MAX + 64];
        sbx_error_format(&err, msg, sizeof msg);
        sbx_module_free(e->module);
        free(bytes);
        free(e);
        reply_error(z, id, SBX__ERROR_CODE__INVALID_MODULE, "%s", msg);
        return;
    }
    snprintf(e->id, sizeof e->id, "%s", req->module_id);
    e->next = z->modules;
    z->modules = e;
    /* Compiling freed a lot of heap: give it back, so that every fork has
     * fewer page-table entries to copy and every worker fewer to tear down. */
    malloc_trim(0);
    reply_ack(z, id);
}

static void handle_unload(struct zygote *z, uint64_t id, const Sbx__UnloadFromZygote *req)
{
    for (struct module_entry **p = &z->modules; *p; p = &(*p)->next) {
        if (strcmp((*p)->id, req->module_id)) continue;
        struct module_entry *e = *p;
        *p = e->next;
        free_module(z, e);
        reply_ack(z, id);
        return;
    }
    reply_error(z, id, SBX__ERROR_CODE__UNKNOWN_MODULE, "no module %s", req->module_id);
}

/* A template's child (CLONE_PARENT made it the zygote's): killed only if
 * it is a child not yet reaped, whose pid cannot have been recycled (only
 * the zygote reaps its children, and it is not doing so now). */
static void handle_kill(const Sbx__KillWorker *req)
{
    siginfo_t si = {0};
    if (!waitid(P_PID, (id_t)req->pid, &si, WEXITED | WNOHANG | WNOWAIT)) kill(req->pid, SIGKILL);
}

static void handle_fork(struct zygote *z, uint64_t id, const Sbx__ForkWorker *req, int *fds)
{
    struct module_entry *e = find_module(z, req->module_id);
    if (!e) {
        reply_error(z, id, SBX__ERROR_CODE__UNKNOWN_MODULE, "no module %s", req->module_id);
        return;
    }
    if (z->nworkers == z->workers_cap) {
        size_t cap = z->workers_cap ? z->workers_cap * 2 : 16;
        struct worker_entry *p = realloc(z->workers, cap * sizeof(*p));
        if (!p) {
            reply_error(z, id, SBX__ERROR_CODE__LIMIT, "out of memory");
            return;
        }
        z->workers = p, z->workers_cap = cap;
    }
    /* Compiled here, before the fork, so later workers inherit it too. */
    bool fuel = req->limits && req->limits->has_fuel && req->limits->fuel > 0;
    if (fuel && !e->compiled_fuel) {
        struct sbx_compile_options opts = {.fuel = true};
        struct sbx_error err;
        e->compiled_fuel = sbx_compile(e->module, &opts, &err);
        if (!e->compiled_fuel) {
            reply_error(z, id, SBX__ERROR_CODE__INTERNAL, "cannot compile with fuel: %s", err.msg);
            return;
        }
        sbx_compiled_prepare(e->compiled_fuel);
    }
    struct sbx_worker_spec spec = {
        .module = e->module,
        .compiled = fuel ? e->compiled_fuel : e->compiled,
        .pool = z->pool,
        .req = req,
        .stdio = {-1, -1, -1},
        .channel = fds[req->channel_fd_index],
        .zygote_pid = getpid(),
        .warm = req->has_warm && req->warm,
        .warm_template = req->has_warm_template && req->warm_template, /* validated: warm too */
    };
    for (size_t i = 0; i < req->n_stdio; i++)
        spec.stdio[req->stdio[i]->stream - SBX__STDIO_STREAM__STDIO_STDIN] =
            fds[req->stdio[i]->fd_index];
    int preopens[SBX_IPC_MAX_PREOPENS];
    for (size_t i = 0; i < req->n_preopen_fd_index && i < SBX_IPC_MAX_PREOPENS; i++)
        preopens[i] = fds[req->preopen_fd_index[i]];
    spec.preopen_fds = preopens;
    int sockets[SBX_IPC_MAX_SOCKETS];
    for (size_t i = 0; i < req->n_socket_fd_index && i < SBX_IPC_MAX_SOCKETS; i++)
        sockets[i] = fds[req->socket_fd_index[i]];
    spec.socket_fds = sockets;
    struct sbx_confine_error cerr;
    char why[640];
    spec.confine = zygote_confinement(&z->confinements, req->policy, spec.warm_template, &cerr);
    if (!spec.confine) {
        reply_error(z, id, SBX__ERROR_CODE__UNSUPPORTED, "cannot confine the worker: %s",
                    sbx_confine_error_text(&cerr, why, sizeof why));
        return;
    }

    /* The zygote is single-threaded, so the child may do anything. */
    pid_t pid = sbx_confine_fork(spec.confine, &cerr);
    if (pid < 0) {
        reply_error(z, id, SBX__ERROR_CODE__LIMIT, "fork: %s",
                    sbx_confine_error_text(&cerr, why, sizeof why));
        return;
    }
    if (pid == 0) {
        close(z->ctl);
        close(z->sigfd);
        sbx_worker_main(&spec);
    }
    z->workers[z->nworkers++] = (struct worker_entry){.pid = pid, .worker_id = req->worker_id};
    /* A pidfd made here, by the parent, names exactly this child. */
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    Sbx__ControlReply rep;
    Sbx__WorkerStarted started;
    sbx__control_reply__init(&rep);
    sbx__worker_started__init(&started);
    started.has_worker_id = 1, started.worker_id = req->worker_id;
    started.has_pid = 1, started.pid = pid;
    if (pidfd >= 0) started.has_pidfd_fd_index = 1, started.pidfd_fd_index = 0;
    rep.has_id = 1, rep.id = id;
    rep.body_case = SBX__CONTROL_REPLY__BODY_STARTED;
    rep.started = &started;
    reply(z, &rep, pidfd >= 0 ? &pidfd : NULL, pidfd >= 0 ? 1 : 0);
    if (pidfd >= 0) close(pidfd);
}

static void report_exit(struct zygote *z, pid_t pid, int status, const struct rusage *ru)
{
    uint64_t worker_id = 0;
    for (size_t i = 0; i < z->nworkers; i++)
        if (z->workers[i].pid == pid) {
            worker_id = z->workers[i].worker_id;
            z->workers[i] = z->workers[--z->nworkers];
            break;
        }
    Sbx__ControlReply rep;
    Sbx__WorkerExited exited;
    Sbx__Usage usage;
    sbx__control_reply__init(&rep);
    sbx__worker_exited__init(&exited);
    sbx__usage__init(&usage);
    usage.has_user_us = 1;
    usage.user_us = (uint64_t)ru->ru_utime.tv_sec * 1000000u + (uint64_t)ru->ru_utime.tv_usec;
    usage.has_sys_us = 1;
    usage.sys_us = (uint64_t)ru->ru_stime.tv_sec * 1000000u + (uint64_t)ru->ru_stime.tv_usec;
    usage.has_max_rss_kb = 1;
    usage.max_rss_kb = (uint64_t)ru->ru_maxrss;
    exited.has_worker_id = 1, exited.worker_id = worker_id;
    exited.has_pid = 1, exited.pid = pid;
    exited.has_wait_status = 1, exited.wait_status = status;
    exited.usage = &usage;
    rep.has_id = 1, rep.id = 0;
    rep.body_case = SBX__CONTROL_REPLY__BODY_EXITED;
    rep.exited = &exited;
    reply(z, &rep, NULL, 0);
}

static void reap(struct zygote *z)
{
    struct signalfd_siginfo si;
    while (read(z->sigfd, &si, sizeof si) == sizeof si) {
    }
    for (;;) {
        int status;
        struct rusage ru;
        pid_t pid = wait4(-1, &status, WNOHANG, &ru);
        if (pid <= 0) break;
        report_exit(z, pid, status, &ru);
    }
}

static void handle_request(struct zygote *z)
{
    Sbx__ControlRequest *req = NULL;
    int fds[SBX_IPC_MAX_FDS];
    size_t nfds = 0;
    /* Called once poll has seen the request: no need to wait for it. */
    int rc = sbx_ipc_recv_arena(z->ctl, &sbx__control_request__descriptor, &z->rx,
                                (ProtobufCMessage **)&req, fds, &nfds, SBX_IPC_MAX_FDS, 0);
    if (rc == -EPIPE) _exit(0); /* the supervisor is gone */
    if (rc) return;             /* a bad packet: consumed, its fds closed */
    struct sbx_ipc_reject why;
    if (sbx_ipc_validate_control_request(req, nfds, &why)) {
        reply_error(z, req->id, SBX__ERROR_CODE__BAD_REQUEST, "%s", why.message);
    } else {
        switch (req->body_case) {
        case SBX__CONTROL_REQUEST__BODY_LOAD: handle_load(z, req->id, req->load, fds); break;
        case SBX__CONTROL_REQUEST__BODY_UNLOAD: handle_unload(z, req->id, req->unload); break;
        case SBX__CONTROL_REQUEST__BODY_FORK: handle_fork(z, req->id, req->fork, fds); break;
        case SBX__CONTROL_REQUEST__BODY_KILL: handle_kill(req->kill); break; /* no answer */
        default: reply_ack(z, req->id); break;                               /* ping */
        }
    }
    sbx_ipc_close_fds(fds, nfds); /* the children have their copies */
    sbx_ipc_arena_free(&z->rx, &req->base);
}

/* Where requests are received and unpacked: static, so that the pages a
 * request writes after a fork are the few it fills, not the allocator's
 * (ipc/arena.c). A ForkWorker's unpacked request stays valid in the child,
 * which has its own copy. */
static uint8_t rx_packet[SBX_IPC_MAX_MESSAGE];
static _Alignas(16) uint8_t rx_mem[16384];

_Noreturn void sbx_zygote_main(int ctl, const struct sbx_zygote_config *cfg)
{
    struct zygote z = {
        .ctl = ctl, .sigfd = -1, .rx = {.packet = rx_packet, .mem = rx_mem, .size = sizeof rx_mem}};
    /* First, before the zygote maps anything that could land in the code's
     * last huge page. Not fatal if it cannot: the code stays where it is
     * (tests/daemon/test_huge_text.c sees which). */
    size_t huge_bytes;
    if (cfg && cfg->huge_text) sbx_huge_text(&huge_bytes);
    /* The zygote must not outlive the supervisor. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    prctl(PR_SET_NAME, "sbx-zygote");
    /* Not fatal: without it, a few more copy-on-write faults per spawn. */
    sbx_zygote_drop_rseq();
    /* Default dispositions, whatever the supervisor had; then what every
     * worker needs for wasm (trap handlers, alternate signal stack, wasm
     * stack) made once here and inherited by fork. */
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP) signal(sig, SIG_DFL);
    /* A write to a pipe or socket whose reader is gone is EPIPE to the
     * guest, as other runtimes give it, not the end of its worker. */
    signal(SIGPIPE, SIG_IGN);
    int prep = sbx_runtime_prepare_thread(0);
    /* Each loaded module holds a code and an image memfd: let the zygote
     * use every fd its hard limit allows (workers set their own, lower). */
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
        nofile.rlim_cur = nofile.rlim_max;
        setrlimit(RLIMIT_NOFILE, &nofile);
    }
    /* Workers inherit an empty bounding set instead of each emptying it. */
    if (!prep) prep = sbx_confine_drop_bounding();
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    z.sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);

    struct sbx_pool_config pcfg;
    sbx_pool_config_default(&pcfg);
    if (cfg && cfg->slots) pcfg.slot_count = cfg->slots;
    if (cfg && cfg->max_memory_bytes) pcfg.max_memory_bytes = cfg->max_memory_bytes;
    if (cfg && cfg->strategy >= 0) pcfg.strategy = (enum sbx_pool_strategy)cfg->strategy;
    int rc = z.sigfd < 0 ? -errno : prep ? prep : sbx_pool_create(&pcfg, &z.pool);
    /* Set up: from here on the zygote needs no network, exec or ptrace. */
    struct sbx_confine_error cerr;
    if (!rc && sbx_confine_zygote(&cerr)) rc = -(cerr.errnum ? cerr.errnum : EPERM);

    Sbx__ControlReply ready;
    Sbx__ZygoteReady body;
    sbx__control_reply__init(&ready);
    sbx__zygote_ready__init(&body);
    if (rc) {
        reply_error(&z, 0, SBX__ERROR_CODE__INTERNAL, "zygote set-up failed: %s", strerror(-rc));
        _exit(1);
    }
    body.has_pid = 1, body.pid = getpid();
    ready.has_id = 1, ready.id = 0;
    ready.body_case = SBX__CONTROL_REPLY__BODY_READY;
    ready.ready = &body;
    reply(&z, &ready, NULL, 0);

    for (;;) {
        struct pollfd p[2] = {{.fd = ctl, .events = POLLIN}, {.fd = z.sigfd, .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR) continue;
            _exit(1);
        }
        if (p[1].revents) reap(&z);
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) handle_request(&z);
    }
}
