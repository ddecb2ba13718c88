/* Warm workers in `sbx serve` (--warm N), what Android's USAP pool does for
 * apps: when a spawn of a module under some effective policy ends (from
 * the module's second spawn on: one-shot modules get none), the daemon
 * keeps up to N workers of that pair forked, instantiated and confined,
 * each blocked on its channel. Made after the spawn's outcome went out,
 * not at its start, so that they do not compete with it for the CPUs. The next such spawn takes one
 * and sends it ToWorker.start with what only the spawn knows (args, env, stdio, sockets, export and
 * arguments), so the fork, the instance and the confinement are off its path. A warm worker is the
 * same process a cold spawn would get, made earlier: it has run no guest code and is never reused.
 *
 * The zygote forks the first ones, and with them the pair's template
 * (zygote/worker_template.c), a warm worker that never runs a spawn: once
 * it runs, it forks the pair's warm workers, which inherit its instance and
 * confinement instead of making their own.
 *
 * Warm workers hold no reference to their module (they must not keep it
 * loaded) and do not count as live workers; they are dismissed (killed;
 * a template: told) when their module is unloaded, when their zygote is
 * replaced and when the daemon stops. Spawns with preopens are not made warm: their broker
 * opens the directories at the spawn. */
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "ipc/limits.h"
#include "ipc/msg.h"
#include "ipc/socket.h"
#include "supervisor/daemon.h"
#include "supervisor/spawn_policy.h"

/* A warm record of (m, key), template or not, not dismissed. */
static bool same_pair(const struct worker *w, const struct module *m, const uint8_t *key,
                      size_t len)
{
    return w->warm && !w->dismissed && w->module == m && w->warm_key_len == len &&
           !memcmp(w->warm_key, key, len);
}

/* A warm worker of (m, key): one a spawn may take. */
static bool same_key(const struct worker *w, const struct module *m, const uint8_t *key, size_t len)
{
    return same_pair(w, m, key, len) && !w->warm_template;
}

/* The pair's template from the current zygote, started or starting. */
static struct worker *template_of(struct daemon *d, const struct module *m, const uint8_t *key,
                                  size_t len)
{
    for (struct worker *w = d->workers; w; w = w->next)
        if (same_pair(w, m, key, len) && w->warm_template && w->zygote_gen == d->zygote_gen)
            return w;
    return NULL;
}

/* A module whose templates keep failing to start (its zygote refusing
 * the template's filter, say) stops asking for one. */
#define MAX_TEMPLATE_FAILURES 3

/* A worker that is pid 1 of its own namespace cannot fork a sibling. */
static bool template_possible(const Sbx__Policy *p)
{
    const Sbx__Namespaces *ns = p->namespaces;
    return !(ns && ns->pid && ns->pid->has_enabled && ns->pid->enabled);
}

int warm_key(const struct daemon *d, const Sbx__Policy *policy, uint8_t **key, size_t *len)
{
    *key = NULL, *len = 0;
    if (!d->cfg->warm || policy->n_preopens) return 0;
    size_t n = protobuf_c_message_get_packed_size(&policy->base);
    *key = malloc(n ? n : 1);
    if (!*key) return -1;
    *len = protobuf_c_message_pack(&policy->base, *key);
    return 0;
}

struct worker *warm_take(struct daemon *d, const struct module *m, const uint8_t *key, size_t len)
{
    if (!key) return NULL;
    /* One that waits; else the oldest still starting (the list is newest
     * first), which is nearer to ready than a cold fork would be: that
     * fork would queue in the zygote behind this worker's. Measured back
     * to back, a fifth of the spawns found no worker waiting and went
     * cold. Its start message waits in its channel until it reads it. */
    struct worker *starting = NULL;
    for (struct worker *w = d->workers; w; w = w->next) {
        if (!same_key(w, m, key, len) || w->zygote_gen != d->zygote_gen) continue;
        if (w->state == W_RUNNING) {
            w->warm = false;
            return w;
        }
        if (w->state == W_STARTING) starting = w;
    }
    if (starting) starting->warm = false;
    return starting;
}

void warm_init(struct daemon *d)
{
    /* The expiry timer fires every warm_idle_s seconds, so a warm worker
     * waits between one and two periods before it is dismissed unused. */
    if (!d->cfg->warm || !d->cfg->warm_idle_s) return;
    d->warm_timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (d->warm_timer < 0) return; /* no expiry: they wait until dismissed otherwise */
    struct itimerspec its = {.it_value = {.tv_sec = d->cfg->warm_idle_s},
                             .it_interval = {.tv_sec = d->cfg->warm_idle_s}};
    if (timerfd_settime(d->warm_timer, 0, &its, NULL) ||
        daemon_watch(d, d->warm_timer, EV_WARM_TIMER, NULL)) {
        close(d->warm_timer);
        d->warm_timer = -1;
    }
}

/* The record of a warm worker (or template) of (m, key) about to be made,
 * with its channel ch[0]; ch[1] is for the process. NULL if out of
 * resources: only an optimisation, the next spawn is cold. */
static struct worker *warm_record(struct daemon *d, struct module *m, const uint8_t *key,
                                  size_t len, int ch[2])
{
    struct worker *w = calloc(1, sizeof(*w));
    uint8_t *k = malloc(len);
    if (!w || !k || sbx_ipc_pair(ch)) {
        free(w);
        free(k);
        return NULL;
    }
    memcpy(k, key, len);
    w->id = d->next_worker_id++;
    w->state = W_STARTING;
    w->warm = true;
    w->warm_key = k, w->warm_key_len = len;
    w->pidfd = -1;
    w->channel = ch[0];
    w->module = m;
    sbx__usage__init(&w->usage);
    w->next = d->workers;
    d->workers = w;
    return w;
}

/* One warm worker of (m, policy), or the pair's template, forked by the
 * zygote now. */
static void fork_warm(struct daemon *d, struct module *m, const Sbx__Policy *policy,
                      const uint8_t *key, size_t len, bool warm_template)
{
    int ch[2];
    struct worker *w = warm_record(d, m, key, len, ch);
    if (!w) return;
    w->warm_template = warm_template;

    Sbx__ControlRequest req;
    Sbx__ForkWorker fw;
    Sbx__ResourceLimits limits;
    sbx_limits_from_policy(policy, &limits);
    sbx__control_request__init(&req);
    sbx__fork_worker__init(&fw);
    fw.has_channel_fd_index = 1, fw.channel_fd_index = 0;
    fw.has_worker_id = 1, fw.worker_id = w->id;
    fw.module_id = m->id;
    fw.limits = &limits;
    fw.policy = (Sbx__Policy *)policy;
    fw.has_warm = 1, fw.warm = true;
    if (warm_template) fw.has_warm_template = 1, fw.warm_template = true;
    req.body_case = SBX__CONTROL_REQUEST__BODY_FORK;
    req.fork = &fw;
    struct ctl_pending p = {.worker = w};
    int rc = ctl_send(d, &req, &ch[1], 1, &p);
    close(ch[1]);
    if (rc) worker_forget(d, w);
}

/* One warm worker of (m, key), forked by the pair's template t now: it
 * inherits t's instance and confinement and says it started on its own
 * channel (worker_channel_event). False if t cannot be asked. */
static bool fork_from_template(struct daemon *d, struct worker *t, struct module *m,
                               const uint8_t *key, size_t len)
{
    int ch[2];
    struct worker *w = warm_record(d, m, key, len, ch);
    if (!w) return true; /* out of resources, not t's fault */
    w->from_template = true;
    w->zygote_gen = t->zygote_gen; /* the zygote reaps t's children too */
    Sbx__ToWorker msg;
    Sbx__ForkWarm fw;
    sbx__to_worker__init(&msg);
    sbx__fork_warm__init(&fw);
    fw.has_channel_fd_index = 1, fw.channel_fd_index = 0;
    msg.has_id = 1, msg.id = 1;
    msg.body_case = SBX__TO_WORKER__BODY_FORK_WARM;
    msg.fork_warm = &fw;
    int rc = daemon_watch(d, w->channel, EV_CHANNEL, w);
    if (!rc) rc = sbx_ipc_send(t->channel, &msg.base, &ch[1], 1, 1000);
    close(ch[1]);
    if (rc) {
        worker_forget(d, w);
        return false;
    }
    t->started_us = daemon_now_us(); /* in use: not idle (warm_timer_event) */
    d->counters.warm_template_forks++;
    return true;
}

/* Ends a warm worker: one that has started is killed (a template: told),
 * one still starting is killed when WorkerStarted comes. Either record goes when the exit is
 * reported, never here: callers walk the worker list, and the record of
 * the next worker must stay valid under them. */
static void dismiss(struct daemon *d, struct worker *w)
{
    w->dismissed = true;
    if (w->state == W_STARTING) return;
    /* A template started is not killed: its channel is closed, so that it
     * forks the workers it was asked for (spawns may have taken them
     * already) before it sees the end and exits. */
    if (w->warm_template)
        worker_close_channel(d, w);
    else
        worker_kill(d, w, false);
}

/* Warm workers not dismissed (starting or waiting), of every pair. Not
 * the templates: one per pair that has warm workers, never more processes
 * than those, and none ever runs a spawn. */
static uint32_t active_warm(const struct daemon *d)
{
    uint32_t n = 0;
    for (const struct worker *w = d->workers; w; w = w->next)
        n += w->warm && !w->warm_template && !w->dismissed;
    return n;
}

/* At the cap, the pair spawned now takes the place of the warm worker that
 * has waited longest for another pair: the pool follows the demand. */
static bool evict_one(struct daemon *d, const struct module *m, const uint8_t *key, size_t len)
{
    struct worker *oldest = NULL;
    for (struct worker *w = d->workers; w; w = w->next)
        if (w->warm && !w->warm_template && !w->dismissed && w->state == W_RUNNING &&
            !same_pair(w, m, key, len) && (!oldest || w->started_us < oldest->started_us))
            oldest = w;
    if (oldest) dismiss(d, oldest);
    return oldest != NULL;
}

/* Room for one more warm process of (m, key) within --max-workers. */
static bool room(struct daemon *d, const struct module *m, const uint8_t *key, size_t len)
{
    return d->live_workers + active_warm(d) < d->cfg->max_workers ||
           (d->live_workers < d->cfg->max_workers && evict_one(d, m, key, len));
}

/* The pair's policy, unpacked from its key only when the zygote is asked
 * for a process: a refill from a running template needs none. */
struct pair_policy {
    const uint8_t *key;
    size_t len;
    Sbx__Policy *policy; /* NULL until asked for, or out of memory */
};

static const Sbx__Policy *policy_of(struct pair_policy *pp)
{
    if (!pp->policy)
        pp->policy = (Sbx__Policy *)protobuf_c_message_unpack(&sbx__policy__descriptor, NULL,
                                                              pp->len, pp->key);
    return pp->policy;
}

void warm_refill(struct daemon *d, struct module *m, const uint8_t *key, size_t len)
{
    if (!key) return;
    uint32_t have = 0;
    for (struct worker *w = d->workers; w; w = w->next)
        if (same_key(w, m, key, len)) have++;
    struct worker *t = template_of(d, m, key, len);
    struct pair_policy pp = {.key = key, .len = len};
    while (have < d->cfg->warm) {
        /* Live and warm workers within --max-workers (dismissed ones are on
         * their way out and not counted); at the cap, only in place of
         * another pair's. */
        if (!room(d, m, key, len)) break;
        /* From the template once it runs; from the zygote until then, or
         * if the template cannot be asked (then it goes). */
        bool from_template = t && t->state == W_RUNNING;
        if (from_template && !fork_from_template(d, t, m, key, len)) {
            dismiss(d, t);
            t = NULL, from_template = false;
        }
        if (!from_template) {
            if (!policy_of(&pp)) break;
            fork_warm(d, m, pp.policy, key, len, false);
        }
        have++;
    }
    /* A pair refilled once will be again: its template, made now. */
    if (!t && have && m->template_failures < MAX_TEMPLATE_FAILURES && policy_of(&pp) &&
        template_possible(pp.policy))
        fork_warm(d, m, pp.policy, key, len, true);
    if (pp.policy) protobuf_c_message_free_unpacked(&pp.policy->base, NULL);
}

void warm_after_spawn(struct daemon *d, struct worker *w)
{
    struct module *m = (struct module *)w->module;
    /* Not for a module spawned once so far (one-shot modules, `sbx
     * --connect run`, would pay for workers nobody takes), nor one this
     * worker alone keeps loaded (it is going), nor while there is no zygote
     * to ask. */
    if (!w->warm_key || !m || m->spawns < 2 || m->refs < 2 || d->stopping || d->zygote.ctl < 0)
        return;
    warm_refill(d, m, w->warm_key, w->warm_key_len);
}

void warm_timer_event(struct daemon *d)
{
    uint64_t n;
    if (read(d->warm_timer, &n, sizeof n) != sizeof n) return;
    uint64_t now = daemon_now_us(), idle = (uint64_t)d->cfg->warm_idle_s * 1000000u;
    for (struct worker *w = d->workers; w; w = w->next)
        if (w->warm && !w->dismissed && w->state == W_RUNNING && now - w->started_us >= idle)
            dismiss(d, w);
}

void warm_stop(struct daemon *d)
{
    if (d->warm_timer < 0) return;
    daemon_unwatch(d, d->warm_timer);
    close(d->warm_timer);
    d->warm_timer = -1;
}

void warm_dismiss(struct daemon *d, const struct module *m, uint64_t gen)
{
    for (struct worker *w = d->workers; w; w = w->next)
        if (w->warm && !w->dismissed && (m ? w->module == m : w->zygote_gen == gen)) dismiss(d, w);
}
