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
 * Warm workers hold no reference to their module (they must not keep it
 * loaded) and do not count as live workers; they are dismissed (killed)
 * when their module is unloaded, when their zygote is replaced and when
 * the daemon stops. Spawns with preopens are not made warm: their broker
 * opens the directories at the spawn. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "ipc/limits.h"
#include "ipc/msg.h"
#include "ipc/socket.h"
#include "supervisor/daemon.h"
#include "supervisor/spawn_policy.h"

static bool same_key(const struct worker *w, const struct module *m, const uint8_t *key, size_t len)
{
    return w->warm && !w->dismissed && w->module == m && w->warm_key_len == len &&
           !memcmp(w->warm_key, key, len);
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

/* One warm worker of (m, policy), forked now. */
static void fork_warm(struct daemon *d, struct module *m, const Sbx__Policy *policy,
                      const uint8_t *key, size_t len)
{
    struct worker *w = calloc(1, sizeof(*w));
    uint8_t *k = malloc(len);
    int ch[2];
    if (!w || !k || sbx_ipc_pair(ch)) {
        free(w);
        free(k);
        return; /* only an optimisation: the next spawn is cold */
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
    req.body_case = SBX__CONTROL_REQUEST__BODY_FORK;
    req.fork = &fw;
    struct ctl_pending p = {.worker = w};
    int rc = ctl_send(d, &req, &ch[1], 1, &p);
    close(ch[1]);
    if (rc) worker_forget(d, w);
}

/* Ends a warm worker: one that has started is killed, one still starting
 * is killed when WorkerStarted comes. Either record goes when the exit is
 * reported, never here: callers walk the worker list, and the record of
 * the next worker must stay valid under them. */
static void dismiss(struct daemon *d, struct worker *w)
{
    (void)d;
    w->dismissed = true;
    if (w->state != W_STARTING && w->pidfd >= 0)
        syscall(SYS_pidfd_send_signal, w->pidfd, SIGKILL, NULL, 0);
}

/* Warm workers not dismissed (starting or waiting), of every pair. */
static uint32_t active_warm(const struct daemon *d)
{
    uint32_t n = 0;
    for (const struct worker *w = d->workers; w; w = w->next)
        n += w->warm && !w->dismissed;
    return n;
}

/* At the cap, the pair spawned now takes the place of the warm worker that
 * has waited longest for another pair: the pool follows the demand. */
static bool evict_one(struct daemon *d, const struct module *m, const uint8_t *key, size_t len)
{
    struct worker *oldest = NULL;
    for (struct worker *w = d->workers; w; w = w->next)
        if (w->warm && !w->dismissed && w->state == W_RUNNING && !same_key(w, m, key, len) &&
            (!oldest || w->started_us < oldest->started_us))
            oldest = w;
    if (oldest) dismiss(d, oldest);
    return oldest != NULL;
}

void warm_refill(struct daemon *d, struct module *m, const Sbx__Policy *policy, const uint8_t *key,
                 size_t len)
{
    if (!key) return;
    uint32_t have = 0;
    for (struct worker *w = d->workers; w; w = w->next)
        if (same_key(w, m, key, len)) have++;
    while (have < d->cfg->warm) {
        /* Live and warm workers within --max-workers (dismissed ones are on
         * their way out and not counted); at the cap, only in place of
         * another pair's. */
        if (d->live_workers + active_warm(d) >= d->cfg->max_workers &&
            (d->live_workers >= d->cfg->max_workers || !evict_one(d, m, key, len)))
            break;
        fork_warm(d, m, policy, key, len);
        have++;
    }
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
    Sbx__Policy *p = (Sbx__Policy *)protobuf_c_message_unpack(&sbx__policy__descriptor, NULL,
                                                              w->warm_key_len, w->warm_key);
    if (!p) return;
    warm_refill(d, m, p, w->warm_key, w->warm_key_len);
    protobuf_c_message_free_unpacked(&p->base, NULL);
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
