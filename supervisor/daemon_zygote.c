/* The zygotes' lives in `sbx serve`.
 *
 * Start: each zygote is fork + execve of /proc/self/exe (the hidden
 * `sbx __zygote` subcommand), so it gets its own address-space layout and
 * stack canary, and none of the daemon's memory, which by then may hold
 * untrusted input. It is ready before any module reaches it.
 *
 * Rotation ("fork hygiene"): every worker is a fork of its zygote and shares
 * its layout and canary; a leak of one worker's addresses is valid for its
 * siblings. After --zygote-max-spawns spawns or --zygote-max-age seconds a
 * fresh zygote replaces the current one: every registered module is loaded
 * into it and new spawns go to it. The old one drains: its workers run on,
 * and their WorkerExited (and WorkerStarted of spawns in flight) still come
 * on its channel, which stays watched. Once no worker of it is live and no
 * request to it awaits an answer, its channel is closed (it exits on end of
 * stream) and its SIGCHLD reaps it.
 *
 * Crash: the current zygote is replaced at once (its workers died with it);
 * a draining one is only forgotten, with its workers. Both fail the spawns
 * and loads they had in flight. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipc/limits.h"
#include "ipc/memfd.h"
#include "ipc/msg.h"
#include "ipc/validate.h"
#include "supervisor/daemon.h"

/* After a rotation that failed (the exec, say), the next try waits this
 * long, so that a broken machine is not asked again at every event. */
#define ROTATE_RETRY_S 10

static void arm_rotate_timer(struct daemon *d, uint32_t seconds)
{
    struct itimerspec its = {.it_value = {.tv_sec = seconds}};
    if (d->rotate_timer >= 0) timerfd_settime(d->rotate_timer, 0, &its, NULL);
}

/* Makes `z` the current zygote: a new generation, fresh counts. */
static int install(struct daemon *d, const struct sbx_zygote_client *z)
{
    d->zygote = *z;
    d->zygote_gen++;
    d->zygote_spawns = 0;
    d->rotate_due = false;
    arm_rotate_timer(d, d->cfg->zygote_max_age_s); /* 0 disarms */
    return daemon_watch(d, d->zygote.ctl, EV_ZYGOTE, NULL);
}

static int exec_zygote(struct daemon *d, struct sbx_zygote_client *z)
{
    struct sbx_zygote_config zcfg = {.slots = d->cfg->slots, .strategy = d->cfg->strategy};
    char err[256];
    int rc = sbx_zygote_client_exec(z, &zcfg, err, sizeof err);
    if (rc) fprintf(stderr, "sbx serve: cannot start a zygote: %s\n", err);
    return rc;
}

static int start_zygote(struct daemon *d)
{
    struct sbx_zygote_client z;
    int rc = exec_zygote(d, &z);
    return rc ? rc : install(d, &z);
}

int zygotes_init(struct daemon *d)
{
    d->rotate_timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (d->rotate_timer < 0 || daemon_watch(d, d->rotate_timer, EV_ROTATE_TIMER, NULL)) {
        fprintf(stderr, "sbx serve: timerfd: %s\n", strerror(errno));
        return -1;
    }
    return start_zygote(d);
}

/* Loads every registered module into the current zygote (after a restart
 * or a rotation). A reply has no one waiting: a failure leaves the module
 * out of this zygote, and its spawns fail with the zygote's error. */
static void reload_modules(struct daemon *d)
{
    for (struct module *m = d->modules; m; m = m->next) {
        int memfd = sbx_memfd_from_bytes("sbx-module", m->bytes, m->len);
        if (memfd < 0) continue;
        Sbx__ControlRequest req;
        Sbx__LoadIntoZygote load;
        Sbx__MemfdRef ref;
        sbx_ctl_load_init(&req, &load, &ref, m->id, m->len);
        struct ctl_pending p = {.module = m};
        ctl_send(d, &req, &memfd, 1, &p);
        close(memfd);
    }
}

/* The current zygote died: its workers died with it (PDEATHSIG). Start
 * another and load every registered module into it again. */
static void restart_zygote(struct daemon *d)
{
    fprintf(stderr, "sbx serve: the zygote (pid %d) died; starting a new one\n", d->zygote.pid);
    daemon_unwatch(d, d->zygote.ctl);
    sbx_zygote_client_stop(&d->zygote);
    workers_zygote_died(d, d->zygote_gen);
    ctl_forget_zygote(d, d->zygote_gen);
    d->counters.zygote_restarts++;
    if (start_zygote(d)) {
        d->stopping = true;
        return;
    }
    reload_modules(d);
}

static void unlink_old(struct daemon *d, struct old_zygote *o)
{
    for (struct old_zygote **p = &d->old_zygotes; *p; p = &(*p)->next)
        if (*p == o) {
            *p = o->next;
            break;
        }
    free(o);
}

/* A draining zygote died before it was done: forget it and its workers. */
static void old_zygote_died(struct daemon *d, struct old_zygote *o)
{
    fprintf(stderr, "sbx serve: the replaced zygote (pid %d) died while draining\n", o->z.pid);
    if (o->z.ctl >= 0) daemon_unwatch(d, o->z.ctl);
    sbx_zygote_client_stop(&o->z);
    workers_zygote_died(d, o->gen);
    ctl_forget_zygote(d, o->gen);
    unlink_old(d, o);
}

void zygote_event(struct daemon *d, struct old_zygote *old)
{
    int ctl = old ? old->z.ctl : d->zygote.ctl;
    for (;;) {
        Sbx__ControlReply *rep = NULL;
        int fds[SBX_IPC_MAX_FDS];
        size_t nfds = 0;
        int rc = sbx_ipc_recv(ctl, &sbx__control_reply__descriptor, (ProtobufCMessage **)&rep, fds,
                              &nfds, SBX_IPC_MAX_FDS, 0);
        if (rc == -EAGAIN) return;
        if (rc == -EPIPE || rc == -ECONNRESET) {
            if (old)
                old_zygote_died(d, old);
            else
                restart_zygote(d);
            return;
        }
        struct sbx_ipc_reject why;
        bool valid = rc == 0 && !sbx_ipc_validate_control_reply(rep, nfds, &why);
        if (valid) ctl_reply(d, old ? old->gen : d->zygote_gen, rep, fds, nfds);
        for (size_t i = 0; i < nfds; i++)
            if (fds[i] >= 0) close(fds[i]);
        sbx_ipc_free(rep ? &rep->base : NULL);
        if (!valid) {
            /* A reply it cannot mean: whoever waits for it would wait
             * forever. Such a zygote is broken; end it and go the way of
             * a dead one (its waiters fail, a current one is replaced). */
            fprintf(stderr, "sbx serve: the zygote (pid %d) sent a bad reply (%s); ending it\n",
                    old ? old->z.pid : d->zygote.pid, rc ? strerror(-rc) : why.message);
            kill(old ? old->z.pid : d->zygote.pid, SIGKILL);
            if (old)
                old_zygote_died(d, old);
            else
                restart_zygote(d);
            return;
        }
    }
}

void zygote_rotate_timer(struct daemon *d)
{
    uint64_t n;
    if (read(d->rotate_timer, &n, sizeof n) == sizeof n) d->rotate_due = true;
}

/* Replaces the current zygote with a fresh one; the old one drains. */
static void rotate(struct daemon *d)
{
    struct old_zygote *o = calloc(1, sizeof(*o));
    struct sbx_zygote_client fresh;
    if (!o || exec_zygote(d, &fresh)) {
        free(o);
        fprintf(stderr,
                "sbx serve: zygote rotation failed; the zygote (pid %d) stays, retry in %d s\n",
                d->zygote.pid, ROTATE_RETRY_S);
        d->rotate_not_before_us = daemon_now_us() + ROTATE_RETRY_S * 1000000ull;
        d->rotate_due = false;
        arm_rotate_timer(d, ROTATE_RETRY_S);
        return;
    }
    o->z = d->zygote;
    o->gen = d->zygote_gen;
    pid_t old_pid = o->z.pid;
    daemon_unwatch(d, o->z.ctl);
    o->next = d->old_zygotes;
    d->old_zygotes = o;
    if (daemon_watch(d, o->z.ctl, EV_OLD_ZYGOTE, o)) {
        /* Unwatchable: its workers' exits could not be heard. End it now,
         * as if it had crashed, rather than leave them undecided. */
        old_zygote_died(d, o);
    }
    if (install(d, &fresh)) { /* as a crash of the new one: retried there */
        restart_zygote(d);
        return;
    }
    reload_modules(d);
    /* Warm workers of the old zygote would never be taken (spawns take the
     * current zygote's): end them now rather than when it has drained. */
    warm_dismiss(d, NULL, o->gen);
    d->counters.zygote_rotations++;
    fprintf(stderr, "sbx serve: zygote %d replaced by a fresh one, %d (rotation %llu)\n", old_pid,
            d->zygote.pid, (unsigned long long)d->counters.zygote_rotations);
}

/* Nothing more can come from zygote `gen`: no live worker of it, no
 * request to it unanswered. */
static bool drained(const struct daemon *d, uint64_t gen)
{
    for (const struct worker *w = d->workers; w; w = w->next)
        if (w->zygote_gen == gen && w->state != W_DONE) return false;
    for (size_t i = 0; i < d->npending; i++)
        if (d->pending[i].zygote_gen == gen) return false;
    return true;
}

void zygotes_tick(struct daemon *d)
{
    bool spawns_up = d->cfg->zygote_max_spawns && d->zygote_spawns >= d->cfg->zygote_max_spawns;
    if ((spawns_up || d->rotate_due) && d->zygote.pid > 0 &&
        daemon_now_us() >= d->rotate_not_before_us)
        rotate(d);
    for (struct old_zygote *o = d->old_zygotes; o; o = o->next)
        if (!o->exiting && drained(d, o->gen)) {
            /* End of stream tells it to exit; zygotes_reap collects it. */
            daemon_unwatch(d, o->z.ctl);
            close(o->z.ctl);
            o->z.ctl = -1;
            o->exiting = true;
        }
}

void zygotes_reap(struct daemon *d)
{
    int status;
    if (d->zygote.pid > 0 && waitpid(d->zygote.pid, &status, WNOHANG) == d->zygote.pid) {
        d->zygote.pid = -1;
        restart_zygote(d);
    }
    for (struct old_zygote *o = d->old_zygotes, *next; o; o = next) {
        next = o->next;
        if (o->z.pid <= 0 || waitpid(o->z.pid, &status, WNOHANG) != o->z.pid) continue;
        o->z.pid = -1;
        if (o->exiting)
            unlink_old(d, o);
        else
            old_zygote_died(d, o);
    }
}

void zygotes_tell_old(struct daemon *d, Sbx__ControlRequest *req)
{
    for (struct old_zygote *o = d->old_zygotes; o; o = o->next)
        if (!o->exiting) sbx_ipc_send(o->z.ctl, &req->base, NULL, 0, 5000);
}

void zygotes_stop_all(struct daemon *d)
{
    if (d->zygote.ctl >= 0) daemon_unwatch(d, d->zygote.ctl);
    sbx_zygote_client_stop(&d->zygote);
    while (d->old_zygotes) {
        struct old_zygote *o = d->old_zygotes;
        if (o->z.ctl >= 0) daemon_unwatch(d, o->z.ctl);
        sbx_zygote_client_stop(&o->z); /* its workers were killed: it exits */
        unlink_old(d, o);
    }
    if (d->rotate_timer >= 0) {
        daemon_unwatch(d, d->rotate_timer);
        close(d->rotate_timer);
        d->rotate_timer = -1;
    }
}
