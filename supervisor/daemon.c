/* The daemon's event loop: accepting clients, signals (SIGTERM/SIGINT end
 * it cleanly; SIGCHLD tells that a zygote ended), and the zygotes' control
 * channels, whose replies are matched to the requests waiting on them. The
 * zygotes' lives (start, crash and restart, rotation) are
 * daemon_zygote.c's. */
#include "supervisor/daemon.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "ipc/limits.h"
#include "ipc/msg.h"
#include "ipc/socket.h"
#include "ipc/validate.h"

struct watch {
    enum ev_kind kind;
    void *ptr;
    int fd;
};

uint64_t daemon_now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

/* Each watched fd carries a small heap record naming what it is for; the
 * record is freed after the fd is unwatched (collect_dead_watches). */

int daemon_watch(struct daemon *d, int fd, enum ev_kind kind, void *ptr)
{
    struct watch *w = malloc(sizeof(*w));
    if (!w) return -ENOMEM;
    *w = (struct watch){.kind = kind, .ptr = ptr, .fd = fd};
    struct watch **p = realloc(d->watches, (d->nwatches + 1) * sizeof(*p));
    if (!p) {
        free(w);
        return -ENOMEM;
    }
    d->watches = p;
    d->watches[d->nwatches++] = w;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = w};
    if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev)) {
        d->nwatches--;
        free(w);
        return -errno;
    }
    return 0;
}

void daemon_unwatch(struct daemon *d, int fd)
{
    epoll_ctl(d->epfd, EPOLL_CTL_DEL, fd, NULL);
    for (size_t i = 0; i < d->nwatches; i++)
        if (d->watches[i]->fd == fd) {
            /* Events already fetched may still point here: mark, free later. */
            d->watches[i]->kind = (enum ev_kind) - 1;
            d->watches[i]->fd = -1;
            return;
        }
}

static void collect_dead_watches(struct daemon *d)
{
    size_t k = 0;
    for (size_t i = 0; i < d->nwatches; i++) {
        if (d->watches[i]->fd < 0)
            free(d->watches[i]);
        else
            d->watches[k++] = d->watches[i];
    }
    d->nwatches = k;
}

struct module *find_module(struct daemon *d, const char *id)
{
    for (struct module *m = d->modules; m; m = m->next)
        if (!strcmp(m->id, id)) return m;
    return NULL;
}

static void unload_module(struct daemon *d, struct module *m)
{
    /* Processes that still map its code and image: warm workers, and
     * workers whose outcome went out but which have not exited yet. */
    warm_dismiss(d, m, 0);
    for (struct worker *w = d->workers; w; w = w->next)
        if (w->module == m && w->state == W_REPORTED) {
            worker_kill(d, w, false);
            w->module = NULL;
        }
    for (struct module **p = &d->modules; *p; p = &(*p)->next)
        if (*p == m) {
            *p = m->next;
            break;
        }
    Sbx__ControlRequest req;
    Sbx__UnloadFromZygote un;
    sbx__control_request__init(&req);
    sbx__unload_from_zygote__init(&un);
    un.module_id = m->id;
    req.body_case = SBX__CONTROL_REQUEST__BODY_UNLOAD;
    req.unload = &un;
    ctl_send(d, &req, NULL, 0, NULL);
    /* A draining zygote may hold it too: it purges it as the current one. */
    zygotes_tell_old(d, &req);
    d->counters.unloads++;
    sbx_module_free(m->decoded);
    free(m->bytes);
    free(m);
}

void drop_module_ref(struct daemon *d, struct module *m)
{
    if (m->refs && --m->refs == 0) unload_module(d, m);
}

void load_failed(struct daemon *d, const struct ctl_pending *p)
{
    /* Without this, the connection's list would name the module still, and
     * its hang-up would drop a reference someone else took since. */
    if (p->conn && p->conn_ref) conn_drop_ref(p->conn, p->module->id);
    drop_module_ref(d, p->module);
}

/* Sends a control request to the zygote of generation `gen` (the current
 * one or one draining); `p` (if any) is recorded to match the reply. */
int ctl_send_to(struct daemon *d, uint64_t gen, Sbx__ControlRequest *req, const int *fds,
                size_t nfds, struct ctl_pending *p)
{
    int ctl = gen == d->zygote_gen ? d->zygote.ctl : -1;
    for (struct old_zygote *o = d->old_zygotes; ctl < 0 && o; o = o->next)
        if (o->gen == gen && !o->exiting) ctl = o->z.ctl;
    if (ctl < 0) return -ESRCH;
    req->has_id = 1;
    req->id = d->next_ctl_id++;
    if (p) {
        if (d->npending == d->pending_cap) {
            size_t cap = d->pending_cap ? d->pending_cap * 2 : 32;
            struct ctl_pending *np = realloc(d->pending, cap * sizeof(*np));
            if (!np) return -ENOMEM;
            d->pending = np, d->pending_cap = cap;
        }
        p->ctl_id = req->id;
        p->zygote_gen = gen;
        d->pending[d->npending++] = *p;
    }
    if (req->body_case == SBX__CONTROL_REQUEST__BODY_FORK) {
        /* The worker's exit will come from this zygote; a spawn counts
         * towards the zygote's rotation (a warm worker when it is taken:
         * daemon_requests.c). */
        if (p && p->worker) p->worker->zygote_gen = gen;
        if (!(p && p->worker && p->worker->warm)) d->zygote_spawns++;
    }
    int rc = sbx_ipc_send(ctl, &req->base, fds, nfds, 5000);
    if (rc && p) d->npending--;
    return rc;
}

int ctl_send(struct daemon *d, Sbx__ControlRequest *req, const int *fds, size_t nfds,
             struct ctl_pending *p)
{
    return ctl_send_to(d, d->zygote_gen, req, fds, nfds, p);
}

static bool take_pending(struct daemon *d, uint64_t id, struct ctl_pending *out)
{
    for (size_t i = 0; i < d->npending; i++)
        if (d->pending[i].ctl_id == id) {
            *out = d->pending[i];
            d->pending[i] = d->pending[--d->npending];
            return true;
        }
    return false;
}

void ctl_forget_zygote(struct daemon *d, uint64_t gen)
{
    size_t k = 0;
    for (size_t i = 0; i < d->npending; i++) {
        struct ctl_pending p = d->pending[i];
        if (p.zygote_gen != gen) {
            d->pending[k++] = p;
            continue;
        }
        if (p.conn && !p.worker) {
            send_error(d, p.conn, p.request_id, SBX__ERROR_CODE__INTERNAL,
                       "the zygote died during the load; try again");
            load_failed(d, &p);
        }
    }
    d->npending = k;
}

void ctl_reply(struct daemon *d, uint64_t gen, Sbx__ControlReply *rep, int *fds, size_t nfds)
{
    if (rep->body_case == SBX__CONTROL_REPLY__BODY_EXITED) {
        worker_exited(d, gen, rep->exited);
        return;
    }
    struct ctl_pending p;
    if (!take_pending(d, rep->id, &p)) return; /* an unload's ack, or stale */
    if (p.worker) {
        if (rep->body_case == SBX__CONTROL_REPLY__BODY_STARTED) {
            int pidfd = rep->started->has_pidfd_fd_index ? fds[rep->started->pidfd_fd_index] : -1;
            for (size_t i = 0; i < nfds; i++)
                if (fds[i] == pidfd) fds[i] = -1; /* kept by the worker record */
            worker_started(d, p.worker, rep->started, pidfd);
        } else {
            worker_spawn_failed(d, p.worker,
                                rep->body_case == SBX__CONTROL_REPLY__BODY_ERROR &&
                                        rep->error->message
                                    ? rep->error->message
                                    : "the zygote refused the spawn");
        }
        return;
    }
    if (!p.conn) return; /* a reload after a zygote restart */
    if (rep->body_case == SBX__CONTROL_REPLY__BODY_ACK) {
        reply_module_loaded(d, p.conn, p.request_id, p.module, p.already_loaded);
    } else {
        send_error(d, p.conn, p.request_id, SBX__ERROR_CODE__INVALID_MODULE, "%s",
                   rep->body_case == SBX__CONTROL_REPLY__BODY_ERROR && rep->error->message
                       ? rep->error->message
                       : "the zygote refused the module");
        load_failed(d, &p);
    }
}

static void accept_clients(struct daemon *d)
{
    for (;;) {
        int fd = sbx_ipc_accept(d->listen_fd, 0);
        if (fd < 0) return;
        struct ucred cred;
        /* Only the daemon's own user, or root, may talk to it; the socket's
         * mode (0600, or 0660 with a group) is the first line of that. */
        if (sbx_ipc_peer_cred(fd, &cred) ||
            (cred.uid != getuid() && cred.uid != 0 &&
             !(d->cfg->group != (gid_t)-1 && cred.gid == d->cfg->group))) {
            close(fd);
            continue;
        }
        struct conn *c = calloc(1, sizeof(*c));
        if (!c) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->uid = cred.uid;
        if (daemon_watch(d, fd, EV_CONN, c)) {
            close(fd);
            free(c);
            continue;
        }
        c->next = d->conns;
        d->conns = c;
    }
}

static bool signal_event(struct daemon *d)
{
    struct signalfd_siginfo si;
    bool stop = false;
    while (read(d->sigfd, &si, sizeof si) == sizeof si)
        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) stop = true;
    /* SIGCHLD: only zygotes are our children. */
    zygotes_reap(d);
    return stop;
}

static void shut_down(struct daemon *d)
{
    for (struct worker *w = d->workers; w; w = w->next)
        if (w->state != W_DONE) worker_kill(d, w, true);
    while (d->conns)
        close_conn(d, d->conns);
    close(d->listen_fd);
    unlink(d->cfg->socket_path);
    zygotes_stop_all(d);
    warm_stop(d);
    deadlines_stop(d);
}

int sbx_daemon_run(const struct sbx_daemon_config *cfg)
{
    struct daemon d = {.cfg = cfg,
                       .next_worker_id = 1,
                       .next_ctl_id = 1,
                       .zygote = {.pid = -1, .ctl = -1},
                       .rotate_timer = -1,
                       .warm_timer = -1,
                       .deadline_timer = -1};
    sbx__counters__init(&d.counters);
    d.start_us = daemon_now_us();
    signal(SIGPIPE, SIG_IGN);
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGCHLD);
    sigprocmask(SIG_BLOCK, &sigs, NULL);

    d.epfd = epoll_create1(EPOLL_CLOEXEC);
    d.sigfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
    if (d.epfd < 0 || d.sigfd < 0) {
        fprintf(stderr, "sbx serve: %s\n", strerror(errno));
        return 1;
    }
    /* The zygote is started before any client can send a byte. */
    if (zygotes_init(&d)) return 1;
    if (deadlines_init(&d)) {
        fprintf(stderr, "sbx serve: timerfd: %s\n", strerror(errno));
        zygotes_stop_all(&d);
        return 1;
    }
    warm_init(&d);
    /* umask and socket creation before any thread exists (there are none). */
    d.listen_fd =
        sbx_ipc_listen(cfg->socket_path, cfg->group == (gid_t)-1 ? 0600 : 0660, cfg->group, 64);
    if (d.listen_fd < 0) {
        fprintf(stderr, "sbx serve: cannot listen on %s: %s\n", cfg->socket_path,
                strerror(-d.listen_fd));
        zygotes_stop_all(&d);
        return 1;
    }
    daemon_watch(&d, d.listen_fd, EV_LISTEN, NULL);
    daemon_watch(&d, d.sigfd, EV_SIGNAL, NULL);
    fprintf(stderr, "sbx serve: listening on %s (pid %d, zygote %d)\n", cfg->socket_path, getpid(),
            d.zygote.pid);

    while (!d.stopping) {
        struct epoll_event evs[64];
        int n = epoll_wait(d.epfd, evs, 64, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int i = 0; i < n && !d.stopping; i++) {
            struct watch *w = evs[i].data.ptr;
            switch ((int)w->kind) {
            case EV_LISTEN: accept_clients(&d); break;
            case EV_SIGNAL:
                if (signal_event(&d)) d.stopping = true;
                break;
            case EV_ZYGOTE: zygote_event(&d, NULL); break;
            case EV_OLD_ZYGOTE: zygote_event(&d, w->ptr); break;
            case EV_ROTATE_TIMER: zygote_rotate_timer(&d); break;
            case EV_WARM_TIMER: warm_timer_event(&d); break;
            case EV_CONN: handle_client(&d, w->ptr); break;
            case EV_CHANNEL: worker_channel_event(&d, w->ptr); break;
            case EV_DEADLINE: deadlines_event(&d); break;
            default: break; /* unwatched while this batch was pending */
            }
        }
        if (!d.stopping) zygotes_tick(&d);
        collect_dead_watches(&d);
    }
    fprintf(stderr, "sbx serve: shutting down\n");
    shut_down(&d);
    collect_dead_watches(&d);
    /* Everything left is released (the zygote is gone: no unload needed). */
    workers_free_all(&d);
    free(d.pending);
    while (d.modules) {
        struct module *m = d.modules;
        d.modules = m->next;
        sbx_module_free(m->decoded);
        free(m->bytes);
        free(m);
    }
    for (size_t i = 0; i < d.nwatches; i++)
        free(d.watches[i]);
    free(d.watches);
    d.watches = NULL, d.nwatches = 0;
    close(d.sigfd);
    close(d.epfd);
    return 0;
}
