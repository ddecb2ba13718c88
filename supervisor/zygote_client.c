/* The supervisor's side of the zygote protocol (proto/sbx.proto, the
 * ControlRequest/ControlReply and FromWorker sections). */
#include "supervisor/zygote_client.h"

#include "supervisor/broker.h"

#include <errno.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipc/limits.h"
#include "ipc/memfd.h"
#include "ipc/msg.h"
#include "ipc/socket.h"
#include "zygote/worker.h"
#include "ipc/validate.h"

#define CONTROL_TIMEOUT_MS 30000 /* a load compiles the module: be patient */

void sbx_module_id(const uint8_t *bytes, size_t len, char out[65])
{
    struct sha256_ctx ctx;
    uint8_t digest[SHA256_DIGEST_SIZE];
    sha256_init(&ctx);
    sha256_update(&ctx, len, bytes);
    sha256_digest(&ctx, sizeof digest, digest);
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

/* Receives the reply to request `id` (replies to other ids cannot come: the
 * client sends one request at a time). WorkerExited events (id 0) that
 * arrive meanwhile are not expected before a spawn completes. */
static int recv_reply(struct sbx_zygote_client *z, Sbx__ControlReply **out, int *fds, size_t *nfds,
                      char *err, size_t errsz)
{
    *nfds = 0;
    int rc = sbx_ipc_recv(z->ctl, &sbx__control_reply__descriptor, (ProtobufCMessage **)out, fds,
                          nfds, SBX_IPC_MAX_FDS, CONTROL_TIMEOUT_MS);
    if (rc) {
        snprintf(err, errsz, "zygote: %s", rc == -EPIPE ? "it died" : strerror(-rc));
        return rc;
    }
    struct sbx_ipc_reject why;
    if (sbx_ipc_validate_control_reply(*out, *nfds, &why)) {
        snprintf(err, errsz, "zygote: bad reply: %s", why.message);
        sbx_ipc_close_fds(fds, *nfds);
        sbx_ipc_free(&(*out)->base);
        *out = NULL;
        return -EPROTO;
    }
    if ((*out)->body_case == SBX__CONTROL_REPLY__BODY_ERROR) {
        snprintf(err, errsz, "%s", (*out)->error->message ? (*out)->error->message : "error");
        sbx_ipc_close_fds(fds, *nfds);
        sbx_ipc_free(&(*out)->base);
        *out = NULL;
        return -EINVAL;
    }
    return 0;
}

/* Waits for the new zygote's ZygoteReady; stops it on failure. */
static int await_ready(struct sbx_zygote_client *z, char *err, size_t errsz)
{
    Sbx__ControlReply *rep;
    int fds[SBX_IPC_MAX_FDS];
    size_t nfds;
    int rc = recv_reply(z, &rep, fds, &nfds, err, errsz);
    if (rc) {
        sbx_zygote_client_stop(z);
        return rc;
    }
    bool ready = rep->body_case == SBX__CONTROL_REPLY__BODY_READY;
    sbx_ipc_close_fds(fds, nfds);
    sbx_ipc_free(&rep->base);
    if (!ready) {
        snprintf(err, errsz, "zygote: expected ZygoteReady");
        sbx_zygote_client_stop(z);
        return -EPROTO;
    }
    return 0;
}

/* A control channel and a fork: the pid (0 in the child), or -errno with
 * err filled and nothing left open. */
static pid_t fork_with_channel(int sv[2], char *err, size_t errsz)
{
    int rc = sbx_ipc_pair(sv);
    if (rc) {
        snprintf(err, errsz, "socketpair: %s", strerror(-rc));
        return rc;
    }
    fflush(NULL); /* nothing buffered may be written twice */
    pid_t pid = fork();
    if (pid < 0) {
        rc = -errno;
        close(sv[0]);
        close(sv[1]);
        snprintf(err, errsz, "fork: %s", strerror(-rc));
        return rc;
    }
    return pid;
}

int sbx_zygote_client_start(struct sbx_zygote_client *z, const struct sbx_zygote_config *cfg,
                            char *err, size_t errsz)
{
    int sv[2];
    pid_t pid = fork_with_channel(sv, err, errsz);
    if (pid < 0) return (int)pid;
    if (pid == 0) {
        /* Only stdio and the control channel: a zygote restarted by the
         * daemon would otherwise inherit every fd the daemon has open (client
         * connections, the listening socket, workers' channels and pidfds,
         * epoll, signalfd). */
        close(sv[0]);
        int ctl = sv[1];
        if (ctl > 3) syscall(SYS_close_range, 3u, (unsigned)ctl - 1, 0u);
        syscall(SYS_close_range, (unsigned)(ctl >= 3 ? ctl + 1 : 3), ~0u, 0u);
        sbx_zygote_main(ctl, cfg);
    }
    close(sv[1]);
    z->pid = pid;
    z->ctl = sv[0];
    z->next_id = 1;
    return await_ready(z, err, errsz);
}

int sbx_zygote_client_exec(struct sbx_zygote_client *z, const struct sbx_zygote_config *cfg,
                           char *err, size_t errsz)
{
    /* Everything the child needs is made before the fork: between fork and
     * execve it only moves fds and calls prctl. */
    char slots[16], max_memory[24], strategy[16];
    snprintf(slots, sizeof slots, "%u", cfg ? cfg->slots : 0u);
    snprintf(max_memory, sizeof max_memory, "%llu",
             (unsigned long long)(cfg ? cfg->max_memory_bytes : 0));
    snprintf(strategy, sizeof strategy, "%d", cfg ? cfg->strategy : -1);
    char fd_arg[] = "3";
    char *argv[] = {"sbx", SBX_ZYGOTE_SUBCOMMAND, fd_arg, slots, max_memory, strategy, NULL};
    int sv[2];
    pid_t parent = getpid();
    pid_t pid = fork_with_channel(sv, err, errsz);
    if (pid < 0) return (int)pid;
    if (pid == 0) {
        /* The channel becomes fd 3 (without close-on-exec); every other fd
         * but stdio is closed. PDEATHSIG survives execve (sbx is not set-id),
         * so the zygote is bound to the daemon from its first instruction.
         * The signal mask is inherited on purpose: a terminal's SIGINT must
         * reach only the daemon, which then stops the zygote itself. */
        int ctl = sv[1];
        if (ctl == 3) {
            if (fcntl(3, F_SETFD, 0) < 0) _exit(127);
        } else if (dup2(ctl, 3) != 3) {
            _exit(127);
        }
        if (ctl < 3) { /* a closed stdio slot: not the channel twice */
            int null = open("/dev/null", O_RDWR);
            if (null < 0 || dup2(null, ctl) != ctl) _exit(127);
        }
        syscall(SYS_close_range, 4u, ~0u, 0u);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent) _exit(127);
        execve("/proc/self/exe", argv, environ);
        _exit(127);
    }
    close(sv[1]);
    z->pid = pid;
    z->ctl = sv[0];
    z->next_id = 1;
    int rc = await_ready(z, err, errsz);
    if (rc == -EPIPE) /* exit status 127 is the exec's failure */
        snprintf(err, errsz, "zygote: it died at start-up (cannot execute /proc/self/exe?)");
    return rc;
}

void sbx_zygote_client_stop(struct sbx_zygote_client *z)
{
    if (z->ctl >= 0) close(z->ctl);
    z->ctl = -1;
    if (z->pid > 0) {
        int status;
        while (waitpid(z->pid, &status, 0) < 0 && errno == EINTR) {
        }
    }
    z->pid = -1;
}

/* A zygote told to stop by end of stream first reaps the worker still
 * exiting, and a worker's address-space teardown is the longest part of its
 * life. The zygote then waits behind that teardown, and the caller behind
 * the zygote. Killed, it ends at once; its workers get their parent-death
 * SIGKILL, and nothing the caller still needs is lost: it has the outcome. */
void sbx_zygote_client_kill(struct sbx_zygote_client *z)
{
    if (z->pid > 0) kill(z->pid, SIGKILL);
    sbx_zygote_client_stop(z);
}

void sbx_ctl_load_init(Sbx__ControlRequest *req, Sbx__LoadIntoZygote *load, Sbx__MemfdRef *ref,
                       const char *module_id, uint64_t len)
{
    sbx__control_request__init(req);
    sbx__load_into_zygote__init(load);
    sbx__memfd_ref__init(ref);
    ref->has_fd_index = 1, ref->fd_index = 0;
    ref->has_size = 1, ref->size = len;
    load->module_id = (char *)module_id;
    load->module = ref;
    req->body_case = SBX__CONTROL_REQUEST__BODY_LOAD;
    req->load = load;
}

int sbx_zygote_client_load(struct sbx_zygote_client *z, const char *module_id, const uint8_t *bytes,
                           size_t len, char *err, size_t errsz)
{
    int memfd = sbx_memfd_from_bytes("sbx-module", bytes, len);
    if (memfd < 0) {
        snprintf(err, errsz, "cannot make a module memfd: %s", strerror(-memfd));
        return memfd;
    }
    Sbx__ControlRequest req;
    Sbx__LoadIntoZygote load;
    Sbx__MemfdRef ref;
    sbx_ctl_load_init(&req, &load, &ref, module_id, len);
    req.has_id = 1, req.id = z->next_id++;
    int rc = sbx_ipc_send(z->ctl, &req.base, &memfd, 1, CONTROL_TIMEOUT_MS);
    close(memfd);
    if (rc) {
        snprintf(err, errsz, "zygote: %s", strerror(-rc));
        return rc;
    }
    Sbx__ControlReply *rep;
    int fds[SBX_IPC_MAX_FDS];
    size_t nfds;
    rc = recv_reply(z, &rep, fds, &nfds, err, errsz);
    if (rc) return rc;
    sbx_ipc_close_fds(fds, nfds);
    sbx_ipc_free(&rep->base);
    return 0;
}

static uint64_t now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

/* Sends ForkWorker and receives WorkerStarted; *pidfd gets the worker's
 * pidfd (or -1). */
static int fork_worker(struct sbx_zygote_client *z, const struct sbx_spawn_request *r, int channel,
                       pid_t *pid, int *pidfd, char *err, size_t errsz)
{
    Sbx__ControlRequest req;
    Sbx__ForkWorker fw;
    Sbx__ResourceLimits limits;
    Sbx__StdioFd sfd[3], *sptr[3];
    int fds[SBX_IPC_MAX_FDS];
    uint32_t preopen_index[SBX_IPC_MAX_PREOPENS];
    size_t nfds = 0;
    sbx__control_request__init(&req);
    sbx__fork_worker__init(&fw);
    sbx__resource_limits__init(&limits);
    for (int i = 0; i < 3; i++) {
        if (r->stdio[i] < 0) continue;
        sbx__stdio_fd__init(&sfd[fw.n_stdio]);
        sfd[fw.n_stdio].has_stream = 1;
        sfd[fw.n_stdio].stream = (Sbx__StdioStream)(SBX__STDIO_STREAM__STDIO_STDIN + i);
        sfd[fw.n_stdio].has_fd_index = 1;
        sfd[fw.n_stdio].fd_index = (uint32_t)nfds;
        fds[nfds++] = r->stdio[i];
        sptr[fw.n_stdio] = &sfd[fw.n_stdio];
        fw.n_stdio++;
    }
    fw.stdio = sptr;
    fw.has_channel_fd_index = 1, fw.channel_fd_index = (uint32_t)nfds;
    fds[nfds++] = channel;
    fw.has_worker_id = 1, fw.worker_id = r->worker_id;
    fw.module_id = (char *)r->module_id;
    fw.export_name = (char *)r->export_name;
    fw.n_args = r->nargs;
    fw.args = r->args;
    /* An absent limit is no limit (the wall clock is enforced here). */
    if (r->fuel) limits.has_fuel = 1, limits.fuel = r->fuel;
    if (r->timeout_ms) limits.has_timeout_ms = 1, limits.timeout_ms = r->timeout_ms;
    limits.has_memory_bytes = 1;
    limits.memory_bytes = r->memory_bytes ? r->memory_bytes : SBX_IPC_MAX_MEMORY_BYTES;
    limits.has_stack_bytes = 1, limits.stack_bytes = r->stack_bytes ? r->stack_bytes : 1024 * 1024;
    fw.limits = &limits;
    fw.argv = r->argv, fw.n_argv = r->argc;
    fw.env = r->env, fw.n_env = r->envc;
    fw.policy = (Sbx__Policy *)r->policy;
    /* The worker's own directory fd of each preopen (the broker's roots). */
    size_t npre = r->broker ? sbx_broker_count(r->broker) : 0;
    for (size_t i = 0; i < npre && i < SBX_IPC_MAX_PREOPENS; i++) {
        preopen_index[i] = (uint32_t)nfds;
        fds[nfds++] = sbx_broker_root_fd(r->broker, i);
    }
    fw.n_preopen_fd_index = npre;
    fw.preopen_fd_index = preopen_index;
    req.has_id = 1, req.id = z->next_id++;
    req.body_case = SBX__CONTROL_REQUEST__BODY_FORK;
    req.fork = &fw;
    int rc = sbx_ipc_send(z->ctl, &req.base, fds, nfds, CONTROL_TIMEOUT_MS);
    if (rc) {
        snprintf(err, errsz, "zygote: %s", strerror(-rc));
        return rc;
    }
    Sbx__ControlReply *rep;
    int rfds[SBX_IPC_MAX_FDS];
    size_t nrfds;
    rc = recv_reply(z, &rep, rfds, &nrfds, err, errsz);
    if (rc) return rc;
    if (rep->body_case != SBX__CONTROL_REPLY__BODY_STARTED) {
        snprintf(err, errsz, "zygote: expected WorkerStarted");
        sbx_ipc_close_fds(rfds, nrfds);
        sbx_ipc_free(&rep->base);
        return -EPROTO;
    }
    *pid = rep->started->pid;
    *pidfd = rep->started->has_pidfd_fd_index ? rfds[rep->started->pidfd_fd_index] : -1;
    for (size_t i = 0; i < nrfds; i++)
        if (rfds[i] != *pidfd) close(rfds[i]);
    sbx_ipc_free(&rep->base);
    return 0;
}

static void kill_worker(pid_t pid, int pidfd)
{
    if (pidfd >= 0)
        syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
    else
        kill(pid, SIGKILL);
}

int sbx_zygote_client_run(struct sbx_zygote_client *z, const struct sbx_spawn_request *r,
                          struct sbx_spawn_outcome *out, char *err, size_t errsz)
{
    memset(out, 0, sizeof(*out));
    int ch[2];
    int rc = sbx_ipc_pair(ch);
    if (rc) {
        snprintf(err, errsz, "socketpair: %s", strerror(-rc));
        return rc;
    }
    uint64_t start = now_us();
    pid_t pid;
    int pidfd;
    rc = fork_worker(z, r, ch[1], &pid, &pidfd, err, errsz);
    close(ch[1]); /* the worker has its copy */
    if (rc) {
        close(ch[0]);
        return rc;
    }
    bool exited = false, channel_open = true;
    while (!exited) {
        int timeout = -1;
        if (r->timeout_ms && !out->timed_out) {
            uint64_t spent = (now_us() - start) / 1000;
            timeout = spent >= r->timeout_ms ? 0 : (int)(r->timeout_ms - spent);
        }
        struct pollfd p[2] = {{.fd = z->ctl, .events = POLLIN},
                              {.fd = channel_open ? ch[0] : -1, .events = POLLIN}};
        int n = poll(p, 2, timeout);
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) { /* wall-clock limit: kill it; the exit still arrives */
            out->timed_out = true;
            kill_worker(pid, pidfd);
            continue;
        }
        if (p[1].revents) {
            Sbx__FromWorker *msg = NULL;
            int fds[SBX_IPC_MAX_FDS];
            size_t nfds = 0;
            int e = sbx_ipc_recv(ch[0], &sbx__from_worker__descriptor, (ProtobufCMessage **)&msg,
                                 fds, &nfds, 0, 0);
            struct sbx_ipc_reject why;
            bool valid = e == 0 && !sbx_ipc_validate_from_worker(msg, nfds, &why);
            if (valid && msg->body_case == SBX__FROM_WORKER__BODY_PATH) {
                /* A path call for the broker; a bad one ends the worker. */
                if (!r->broker || sbx_broker_serve(r->broker, ch[0], msg)) kill_worker(pid, pidfd);
                sbx_ipc_free(&msg->base);
            } else if (valid && msg->body_case == SBX__FROM_WORKER__BODY_REPORT &&
                       !out->report_msg) {
                out->report_msg = msg; /* kept: the first report counts */
                out->report = msg->report;
                channel_open = false; /* the last message: its end of stream wakes nobody */
                /* A normal end: done now, without waiting for the worker's
                 * teardown (it exits by itself, or with the zygote). */
                if (!out->timed_out && sbx_worker_report_is_final(msg->report)) {
                    exited = true;
                    out->wait_status = 0; /* the clean exit that follows */
                    if (msg->report->usage) {
                        out->user_us = msg->report->usage->user_us;
                        out->sys_us = msg->report->usage->sys_us;
                        out->max_rss_kb = msg->report->usage->max_rss_kb;
                    }
                }
            } else if (e == 0) {
                sbx_ipc_free(&msg->base);
            } else if (e != -EAGAIN) {
                channel_open = false; /* end of stream or garbage: stop listening */
            }
        }
        if (p[0].revents) {
            Sbx__ControlReply *rep;
            int fds[SBX_IPC_MAX_FDS];
            size_t nfds;
            rc = recv_reply(z, &rep, fds, &nfds, err, errsz);
            if (rc) break;
            sbx_ipc_close_fds(fds, nfds);
            if (rep->body_case == SBX__CONTROL_REPLY__BODY_EXITED && rep->exited->pid == pid) {
                exited = true;
                out->wait_status = rep->exited->wait_status;
                if (rep->exited->usage) {
                    out->user_us = rep->exited->usage->user_us;
                    out->sys_us = rep->exited->usage->sys_us;
                    out->max_rss_kb = rep->exited->usage->max_rss_kb;
                }
            }
            sbx_ipc_free(&rep->base);
        }
    }
    /* A report sent just before exiting may still be queued. */
    if (exited && channel_open && !out->report_msg) {
        Sbx__FromWorker *msg = NULL;
        int fds[SBX_IPC_MAX_FDS];
        size_t nfds = 0;
        while (sbx_ipc_recv(ch[0], &sbx__from_worker__descriptor, (ProtobufCMessage **)&msg, fds,
                            &nfds, 0, 0) == 0) {
            struct sbx_ipc_reject why;
            if (!sbx_ipc_validate_from_worker(msg, nfds, &why) &&
                msg->body_case == SBX__FROM_WORKER__BODY_REPORT) {
                out->report_msg = msg;
                out->report = msg->report;
                break;
            }
            sbx_ipc_free(&msg->base);
        }
    }
    out->wall_us = now_us() - start;
    if (pidfd >= 0) close(pidfd);
    close(ch[0]);
    return exited ? 0 : rc;
}
