/* Workers in `sbx serve`: from Spawn to an Outcome delivered exactly once.
 * A worker's outcome is decided when the zygote reports its exit: its own
 * report counts only with a clean exit status; the supervisor's knowledge
 * (timeout, kill) takes precedence. The outcome goes to a Wait waiting for
 * it, else to the spawning connection as an Event, else (detached) it is
 * kept until a Wait collects it. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipc/limits.h"
#include "ipc/msg.h"
#include "ipc/validate.h"
#include "policy/confine.h"
#include "supervisor/broker.h"
#include "supervisor/daemon.h"
#include "zygote/worker.h"

struct worker *find_worker(struct daemon *d, uint64_t id)
{
    for (struct worker *w = d->workers; w; w = w->next)
        if (w->id == id) return w;
    return NULL;
}

static void close_fd(struct daemon *d, int *fd)
{
    if (*fd < 0) return;
    daemon_unwatch(d, *fd);
    close(*fd);
    *fd = -1;
}

void worker_close_channel(struct daemon *d, struct worker *w)
{
    close_fd(d, &w->channel);
}

void worker_forget(struct daemon *d, struct worker *w)
{
    for (struct worker **p = &d->workers; *p; p = &(*p)->next)
        if (*p == w) {
            *p = w->next;
            break;
        }
    close_fd(d, &w->channel);
    if (w->pidfd >= 0) close(w->pidfd);
    if (w->report) sbx_ipc_free(&w->report->base);
    sbx_broker_free(w->broker);
    free(w->warm_key);
    free(w);
}

/* An internal-error outcome with the supervisor's own words. */
static void internal_error(struct daemon *d, Sbx__Outcome *o, Sbx__InternalError *ie, char *text)
{
    sbx__internal_error__init(ie);
    ie->message = text;
    o->kind_case = SBX__OUTCOME__KIND_INTERNAL_ERROR;
    o->internal_error = ie;
    d->counters.internal_errors++;
}

/* Fills `o` from what is known about a finished worker; pointers in `o`
 * point into `w` or into the storage given. */
static void build_outcome(struct daemon *d, struct worker *w, Sbx__Outcome *o, Sbx__Killed *killed,
                          Sbx__TimedOut *timed_out, Sbx__PolicyViolation *violation,
                          Sbx__InternalError *ie, char *text, size_t textsz)
{
    sbx__outcome__init(o);
    o->has_worker_id = 1, o->worker_id = w->id;
    o->usage = &w->usage;
    const Sbx__WorkerReport *r = w->report ? w->report->report : NULL;
    bool clean = WIFEXITED(w->wait_status) && WEXITSTATUS(w->wait_status) == 0;
    if (w->timed_out) {
        sbx__timed_out__init(timed_out);
        timed_out->has_timeout_ms = 1, timed_out->timeout_ms = w->armed_ms;
        o->kind_case = SBX__OUTCOME__KIND_TIMEOUT;
        o->timeout = timed_out;
        d->counters.timeouts++;
        return;
    }
    if (w->killed_by_request ||
        (WIFSIGNALED(w->wait_status) && !sbx_worker_violated(w->wait_status))) {
        sbx__killed__init(killed);
        killed->has_signal = 1;
        killed->signal = WIFSIGNALED(w->wait_status) ? WTERMSIG(w->wait_status) : SIGKILL;
        killed->has_by_request = 1, killed->by_request = w->killed_by_request;
        o->kind_case = SBX__OUTCOME__KIND_KILLED;
        o->killed = killed;
        d->counters.killed++;
        return;
    }
    if (sbx_worker_violated(w->wait_status)) {
        sbx__policy_violation__init(violation);
        int nr = sbx_worker_violation_nr(r);
        const char *name = nr >= 0 ? sbx_syscall_name(nr) : NULL;
        if (nr >= 0) violation->has_syscall_nr = 1, violation->syscall_nr = nr;
        violation->syscall_name = (char *)(name ? name : "unknown");
        o->kind_case = SBX__OUTCOME__KIND_POLICY_VIOLATION;
        o->policy_violation = violation;
        d->counters.policy_violations++;
        return;
    }
    if (!r || !clean) {
        if (r && r->kind_case == SBX__WORKER_REPORT__KIND_INTERNAL_ERROR &&
            r->internal_error->message) /* a set-up failure, in the worker's words */
            snprintf(text, textsz, "the worker failed: %s", r->internal_error->message);
        else
            snprintf(text, textsz, "the worker ended (%s %d) without a report",
                     WIFEXITED(w->wait_status) ? "exit status" : "wait status",
                     WIFEXITED(w->wait_status) ? WEXITSTATUS(w->wait_status) : w->wait_status);
        internal_error(d, o, ie, text);
        return;
    }
    switch (r->kind_case) {
    case SBX__WORKER_REPORT__KIND_EXITED:
        o->kind_case = SBX__OUTCOME__KIND_EXITED;
        o->exited = r->exited;
        o->n_results = r->n_results;
        o->results = r->results;
        d->counters.exited++;
        return;
    case SBX__WORKER_REPORT__KIND_TRAPPED:
        o->kind_case = SBX__OUTCOME__KIND_TRAPPED;
        o->trapped = r->trapped;
        d->counters.trapped++;
        return;
    case SBX__WORKER_REPORT__KIND_FUEL_EXHAUSTED:
        o->kind_case = SBX__OUTCOME__KIND_FUEL_EXHAUSTED;
        o->fuel_exhausted = r->fuel_exhausted;
        d->counters.fuel_exhausted++;
        return;
    case SBX__WORKER_REPORT__KIND_MEMORY_LIMIT:
        o->kind_case = SBX__OUTCOME__KIND_MEMORY_LIMIT;
        o->memory_limit = r->memory_limit;
        d->counters.memory_limit++;
        return;
    case SBX__WORKER_REPORT__KIND_INTERNAL_ERROR:
        o->kind_case = SBX__OUTCOME__KIND_INTERNAL_ERROR;
        o->internal_error = r->internal_error;
        d->counters.internal_errors++;
        return;
    default:
        snprintf(text, textsz, "unexpected report");
        internal_error(d, o, ie, text);
        return;
    }
}

/* Delivers a finished worker's outcome if someone can take it, and forgets
 * the worker once delivered. */
static int send_outcome(struct daemon *d, struct worker *w, struct conn *to)
{
    Sbx__Outcome o;
    Sbx__Killed killed;
    Sbx__TimedOut timed_out;
    Sbx__InternalError ie;
    char text[256];
    Sbx__PolicyViolation violation;
    build_outcome(d, w, &o, &killed, &timed_out, &violation, &ie, text, sizeof text);
    Sbx__Response r;
    Sbx__Event ev;
    sbx__response__init(&r);
    if (w->waiter) {
        r.has_id = 1, r.id = w->wait_request;
        r.body_case = SBX__RESPONSE__BODY_OUTCOME;
        r.outcome = &o;
    } else {
        sbx__event__init(&ev);
        ev.body_case = SBX__EVENT__BODY_OUTCOME;
        ev.outcome = &o;
        r.has_id = 1, r.id = 0;
        r.body_case = SBX__RESPONSE__BODY_EVENT;
        r.event = &ev;
    }
    return send_response(d, to, &r);
}

/* The outcome to the Wait waiting for it, else to the spawning connection.
 * A waiter whose connection is gone (it hung up, and the daemon has not
 * read that yet) does not swallow it: the owner gets it then. */
static void send_outcome_once(struct daemon *d, struct worker *w)
{
    if (w->waiter) {
        int rc = send_outcome(d, w, w->waiter);
        if (rc != -EPIPE && rc != -ECONNRESET) return;
        w->waiter = NULL;
    }
    if (w->owner) send_outcome(d, w, w->owner);
}

static void deliver(struct daemon *d, struct worker *w)
{
    if (!w->waiter && !w->owner) {
        /* Detached, nobody waiting: kept for a Wait. Not detached: its
         * connection closed, so the outcome has nowhere to go. */
        if (!w->detach) worker_forget(d, w);
        return;
    }
    send_outcome_once(d, w);
    worker_forget(d, w);
}

/* The outcome from the worker's report, at once: the client need not wait
 * for the worker's address space to be torn down and its exit to travel
 * through the zygote. Only when nothing the supervisor knows overrides the
 * report (timeout, kill) and someone takes the outcome now; otherwise the
 * exit decides, as before. The record stays until the exit is reaped. */
static bool worker_reported(struct daemon *d, struct worker *w)
{
    const Sbx__WorkerReport *r = w->report->report;
    struct conn *to = w->waiter ? w->waiter : w->owner;
    if (w->state != W_RUNNING || w->keep_alive || !to || w->timed_out || w->killed_by_request ||
        !sbx_worker_report_is_final(r))
        return false;
    if (r->usage) {
        w->usage.has_user_us = 1, w->usage.user_us = r->usage->user_us;
        w->usage.has_sys_us = 1, w->usage.sys_us = r->usage->sys_us;
        w->usage.has_max_rss_kb = 1, w->usage.max_rss_kb = r->usage->max_rss_kb;
    }
    w->usage.has_wall_us = 1, w->usage.wall_us = daemon_now_us() - w->started_us;
    w->wait_status = 0; /* as the report's exit will be */
    d->live_workers--;  /* no longer runs guest code: room for the next spawn */
    w->state = W_REPORTED;
    send_outcome_once(d, w);
    w->owner = w->waiter = NULL;
    w->wait_at_us = 0;
    return true;
}

/* What follows an outcome decided by the report, once the worker's channel
 * is closed: the refill, then the module's reference. */
static void after_report(struct daemon *d, struct worker *w)
{
    warm_after_spawn(d, w);
    /* Its module may go now: unloading it kills a worker still exiting
     * (unload_module), so that its mappings go at once, not whenever it
     * finishes. */
    drop_module_ref(d, (struct module *)w->module);
}

/* A worker whose process is gone with nothing left to decide: a warm one
 * (nobody's) or one whose outcome went out at its report. Forgets it and
 * says so. */
static bool forget_if_decided(struct daemon *d, struct worker *w)
{
    if (!w->warm && w->state != W_REPORTED) return false;
    worker_forget(d, w);
    return true;
}

static void finish(struct daemon *d, struct worker *w)
{
    /* A report read just before (still queued at the exit) may have
     * decided the outcome already. */
    if (forget_if_decided(d, w)) return;
    worker_call_abandoned(d, w, "ended");
    if (w->state != W_DONE) d->live_workers--;
    w->state = W_DONE;
    w->timeout_at_us = 0;
    warm_after_spawn(d, w);
    drop_module_ref(d, (struct module *)w->module);
    w->module = NULL;
    deliver(d, w);
}

void worker_send_spawned(struct daemon *d, struct worker *w)
{
    if (w->owner && !w->reply_with_outcome) {
        Sbx__Response r;
        Sbx__Spawned sp;
        sbx__response__init(&r);
        sbx__spawned__init(&sp);
        sp.has_worker_id = 1, sp.worker_id = w->id;
        sp.has_pid = 1, sp.pid = w->pid;
        r.has_id = 1, r.id = w->spawn_request;
        r.body_case = SBX__RESPONSE__BODY_SPAWNED;
        r.spawned = &sp;
        send_response(d, w->owner, &r);
    }
    if (w->detach) w->owner = NULL;
}

void worker_started(struct daemon *d, struct worker *w, const Sbx__WorkerStarted *s, int pidfd)
{
    w->pid = s->pid;
    w->pidfd = pidfd;
    w->state = W_RUNNING;
    w->started_us = daemon_now_us();
    /* A template's child spoke on its channel: watched since it was asked for. */
    if (!w->from_template) daemon_watch(d, w->channel, EV_CHANNEL, w);
    if (w->warm) { /* it waits for a spawn, unless dismissed meanwhile */
        if (w->dismissed) worker_kill(d, w, false); /* forgotten at its exit */
        return;
    }
    /* Killed while it was starting (a Kill, its timeout, or its connection
     * closed): that could not reach it then, it has a pid now. */
    if (w->timed_out || w->killed_by_request) worker_kill(d, w, w->killed_by_request);
    if (!w->owner && !w->detach) worker_kill(d, w, true);
    worker_send_spawned(d, w);
}

void worker_spawn_failed(struct daemon *d, struct worker *w, const char *why)
{
    if (w->warm_template && w->module) ((struct module *)w->module)->template_failures++;
    if (w->warm) { /* nobody asked for it */
        worker_forget(d, w);
        return;
    }
    if (w->owner) send_error(d, w->owner, w->spawn_request, SBX__ERROR_CODE__INTERNAL, "%s", why);
    w->owner = NULL;
    d->live_workers--;
    w->state = W_DONE;
    drop_module_ref(d, (struct module *)w->module);
    worker_forget(d, w);
}

/* The first message of a template's child: WorkerStarted with its pid,
 * sent before it ran anything untrusted. It has no pidfd: it is killed
 * through the zygote (worker_kill). Anything else, or its channel closing,
 * means it did not start; closing its channel ends it if it is there. */
static void template_child_started(struct daemon *d, struct worker *w, int rc, Sbx__FromWorker *msg)
{
    struct sbx_ipc_reject why;
    bool ok = !rc && !sbx_ipc_validate_from_worker(msg, 0, &why) &&
              msg->body_case == SBX__FROM_WORKER__BODY_STARTED;
    if (ok) worker_started(d, w, msg->started, -1);
    if (!rc) sbx_ipc_free(&msg->base);
    if (!ok) worker_spawn_failed(d, w, "the template's worker did not start");
}

void worker_channel_event(struct daemon *d, struct worker *w)
{
    for (;;) {
        Sbx__FromWorker *msg = NULL;
        int fds[SBX_IPC_MAX_FDS];
        size_t nfds = 0;
        int rc = sbx_ipc_recv(w->channel, &sbx__from_worker__descriptor, (ProtobufCMessage **)&msg,
                              fds, &nfds, 0, 0);
        if (rc == -EAGAIN) return;
        if (w->from_template && w->state == W_STARTING) {
            template_child_started(d, w, rc, msg);
            return;
        }
        if (w->warm) { /* a warm worker speaks only after its start: it failed */
            if (!rc) sbx_ipc_free(&msg->base);
            close_fd(d, &w->channel);
            worker_kill(d, w, false); /* forgotten at its exit */
            return;
        }
        if (rc == -EPIPE || rc == -ECONNRESET) {
            close_fd(d, &w->channel);
            return;
        }
        if (rc) continue;
        struct sbx_ipc_reject why;
        if (sbx_ipc_validate_from_worker(msg, nfds, &why)) {
            sbx_ipc_free(&msg->base);
            worker_kill(d, w, false); /* garbage: the worker is not behaving */
            continue;
        }
        if (msg->body_case == SBX__FROM_WORKER__BODY_REPORT && !w->report) {
            w->report = msg; /* the first report counts */
            bool decided = worker_reported(d, w);
            /* It is the last message: stop listening, so that the worker's
             * exit (closing its end) wakes nobody here. After the outcome
             * went out: closing a socket takes tens of microseconds. And
             * before the refill sends a template the next worker's channel:
             * a unix socket closed while another is in flight makes the
             * kernel queue its garbage collector, a worker thread's wake-up
             * and run for every spawn. */
            close_fd(d, &w->channel);
            if (decided) after_report(d, w);
            return;
        }
        if (msg->body_case == SBX__FROM_WORKER__BODY_PATH &&
            sbx_broker_serve(w->broker, w->channel, msg)) /* hostile, or not reading */
            worker_kill(d, w, false);
        if (msg->body_case == SBX__FROM_WORKER__BODY_IDLE && w->keep_alive) worker_idle(d, w);
        if (msg->body_case == SBX__FROM_WORKER__BODY_CALL_RESULT) worker_call_result(d, w, msg);
        sbx_ipc_free(&msg->base);
    }
}

/* A template's child by its zygote and pid: the oldest such record, should
 * a recycled pid have a newer one already. Its pid comes with its
 * WorkerStarted, on its own channel, which may not have been read yet when
 * the zygote's report of its exit is: then the channels of those still
 * starting are read first. */
static struct worker *find_template_child(struct daemon *d, uint64_t gen, pid_t pid)
{
    for (int pass = 0; pass < 2; pass++) {
        struct worker *found = NULL;
        for (struct worker *w = d->workers; w; w = w->next) /* newest first */
            if (w->from_template && w->pid == pid && w->zygote_gen == gen) found = w;
        if (found || pass) return found;
        for (struct worker *w = d->workers, *next; w; w = next) {
            next = w->next; /* reading may end w's record, and only w's */
            if (w->from_template && w->state == W_STARTING && w->zygote_gen == gen)
                worker_channel_event(d, w);
        }
    }
    return NULL;
}

void worker_exited(struct daemon *d, uint64_t gen, const Sbx__WorkerExited *e)
{
    struct worker *w =
        e->worker_id ? find_worker(d, e->worker_id) : find_template_child(d, gen, e->pid);
    if (!w || w->pid != e->pid || forget_if_decided(d, w)) return;
    w->wait_status = e->wait_status;
    if (e->usage) {
        w->usage.has_user_us = 1, w->usage.user_us = e->usage->user_us;
        w->usage.has_sys_us = 1, w->usage.sys_us = e->usage->sys_us;
        w->usage.has_max_rss_kb = 1, w->usage.max_rss_kb = e->usage->max_rss_kb;
    }
    w->usage.has_wall_us = 1, w->usage.wall_us = daemon_now_us() - w->started_us;
    /* The report was sent before exit; read what is still queued. */
    if (w->channel >= 0) worker_channel_event(d, w);
    finish(d, w);
}

/* A template's child has no pidfd: its parent, the zygote, kills it if it
 * is still its child (KillWorker). */
static void kill_through_zygote(struct daemon *d, const struct worker *w)
{
    Sbx__ControlRequest req;
    Sbx__KillWorker k;
    sbx__control_request__init(&req);
    sbx__kill_worker__init(&k);
    k.has_worker_id = 1, k.worker_id = w->id;
    k.has_pid = 1, k.pid = w->pid;
    req.body_case = SBX__CONTROL_REQUEST__BODY_KILL;
    req.kill = &k;
    ctl_send_to(d, w->zygote_gen, &req, NULL, 0, NULL);
}

void worker_kill(struct daemon *d, struct worker *w, bool by_request)
{
    w->killed_by_request = by_request;
    if (w->pidfd >= 0)
        syscall(SYS_pidfd_send_signal, w->pidfd, SIGKILL, NULL, 0);
    else if (w->from_template && w->pid > 0)
        kill_through_zygote(d, w);
    else if (w->pid > 0)
        kill(w->pid, SIGKILL);
}

void worker_timeout(struct daemon *d, struct worker *w)
{
    if (w->state == W_DONE) return;
    /* Reported, yet still there after its whole time: end it, nothing more
     * (its outcome is out). */
    if (w->state != W_REPORTED) w->timed_out = true;
    worker_kill(d, w, false);
}

void worker_wait(struct daemon *d, struct conn *c, uint64_t request_id, struct worker *w,
                 const Sbx__Wait *wait)
{
    if (w->waiter) {
        send_error(d, c, request_id, SBX__ERROR_CODE__WRONG_STATE,
                   "another Wait is already waiting for worker %llu", (unsigned long long)w->id);
        return;
    }
    w->waiter = c;
    w->wait_request = request_id;
    if (w->state == W_DONE) {
        deliver(d, w);
        return;
    }
    /* A timeout of 0 answers at once (the deadline is already due). */
    if (wait->has_timeout_ms)
        deadline_set(d, &w->wait_at_us, daemon_now_us() + (uint64_t)wait->timeout_ms * 1000u);
}

void worker_arm_timeout(struct daemon *d, struct worker *w, uint32_t ms)
{
    if (ms) w->armed_ms = ms;
    deadline_set(d, &w->timeout_at_us, ms ? daemon_now_us() + (uint64_t)ms * 1000u : 0);
}

bool worker_usable_by(const struct worker *w, const struct conn *c)
{
    return c->uid == w->uid || c->uid == 0;
}

void worker_wait_timeout(struct daemon *d, struct worker *w)
{
    w->wait_at_us = 0;
    if (!w->waiter || w->state == W_DONE) return;
    send_error(d, w->waiter, w->wait_request, SBX__ERROR_CODE__STILL_RUNNING,
               "worker %llu is still running", (unsigned long long)w->id);
    w->waiter = NULL;
}

void workers_conn_closed(struct daemon *d, struct conn *c)
{
    for (struct worker *w = d->workers, *next; w; w = next) {
        next = w->next;
        if (w->waiter == c) {
            w->waiter = NULL;
            w->wait_at_us = 0;
        }
        if (w->caller == c) w->caller = NULL; /* its result goes nowhere */
        if (w->owner != c) continue;
        w->owner = NULL; /* its outcome has no one to go to */
        if (w->state == W_DONE)
            worker_forget(d, w);
        else if (!w->detach) /* a starting one is killed in worker_started */
            worker_kill(d, w, true);
    }
}

void workers_zygote_died(struct daemon *d, uint64_t gen)
{
    /* Workers die with their zygote (PDEATHSIG) and nobody will report their
     * exit: decide their outcomes here. Another zygote's (a draining one's,
     * or the current one's) live on. */
    for (struct worker *w = d->workers, *next; w; w = next) {
        next = w->next;
        if (w->state == W_DONE || w->zygote_gen != gen || forget_if_decided(d, w)) continue;
        if (w->state == W_STARTING) {
            worker_spawn_failed(d, w, "the zygote died; try again");
            continue;
        }
        w->wait_status = SIGKILL; /* as if WIFSIGNALED with SIGKILL */
        if (w->channel >= 0) worker_channel_event(d, w);
        finish(d, w);
    }
}

void workers_free_all(struct daemon *d)
{
    while (d->workers)
        worker_forget(d, d->workers);
}
