/* `sbx serve`: the supervisor daemon. One thread, one epoll loop over the
 * listening socket, client connections, the zygote's control channel, each
 * worker's report channel, one timer for every deadline, and a signalfd.
 * State shared by daemon*.c; internal to supervisor/. */
#ifndef SBX_SUPERVISOR_DAEMON_H
#define SBX_SUPERVISOR_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "jit/module.h"
#include "proto/sbx.pb-c.h"
#include "supervisor/zygote_client.h"

struct sbx_daemon_config {
    const char *socket_path;
    gid_t group; /* (gid_t)-1: socket mode 0600, owner only */
    uint32_t max_workers;
    uint32_t slots;
    int strategy; /* enum sbx_pool_strategy, or -1 for the default */
    /* Every spawn's base policy, complete (--policy FILE or the default);
     * a spawn may narrow it, never widen it. */
    const Sbx__Policy *policy;
    /* Zygote rotation (daemon_zygote.c): a fresh exec'd zygote replaces the
     * current one after this many spawns or seconds; 0 disables each. */
    uint64_t zygote_max_spawns;
    uint32_t zygote_max_age_s;
    /* Warm workers kept per (module, effective policy) after a spawn of
     * that pair (daemon_warm.c); 0: none. Each is dismissed after waiting
     * about warm_idle_s seconds (0: never). */
    uint32_t warm;
    uint32_t warm_idle_s;
};

/* Runs until SIGTERM/SIGINT; returns the exit status. Messages about the
 * daemon itself go to stderr. */
int sbx_daemon_run(const struct sbx_daemon_config *cfg);

/* -- Internal ---------------------------------------------------------- */

struct module {
    char id[65];
    char name[257];
    uint8_t *bytes; /* kept to reload a restarted zygote */
    size_t len;
    struct sbx_module *decoded;
    uint32_t refs;   /* references held by connections (and detached loads) */
    uint32_t spawns; /* since it was loaded: warm workers only from the second on */
    /* Templates of its warm workers that failed to start: after a few, its
     * warm workers come from the zygote only (daemon_warm.c). */
    uint32_t template_failures;
    struct module *next;
};

struct watch;

struct conn {
    int fd;
    bool hello;
    uid_t uid;
    struct conn *next;
    /* Module references this connection holds (ids, may repeat). */
    char (*refs)[65];
    size_t nrefs, refs_cap;
};

/* W_REPORTED: its outcome went out from its report (daemon_workers.c); the
 * process is still exiting, so the record keeps its timeout and its place
 * in the zygote's drain until the exit is reaped. Its module reference is
 * dropped: unloading the module kills it (daemon.c, unload_module). */
enum worker_state { W_STARTING, W_RUNNING, W_REPORTED, W_DONE };

struct worker {
    uint64_t id;
    enum worker_state state;
    pid_t pid;
    int pidfd;
    int channel;            /* report channel; -1 once closed */
    uint64_t timeout_at_us; /* its timeout, as daemon_now_us, or 0 (daemon_deadlines.c) */
    struct conn *owner;     /* NULL once detached or disconnected */
    bool detach;
    bool reply_with_outcome; /* Spawn.reply_with_outcome: no Spawned */
    uint64_t spawn_request;  /* the Spawn awaiting WorkerStarted */
    bool timed_out, killed_by_request;
    uint64_t started_us;
    Sbx__FromWorker *report; /* the worker's report, if any */
    int wait_status;
    Sbx__Usage usage;
    /* A Wait waiting for this worker: its connection and request id. */
    struct conn *waiter;
    uint64_t wait_request;
    uint64_t wait_at_us; /* when that Wait gives up, or 0 */
    const struct module *module;
    const struct sbx_functype *type; /* of the export, for results */
    uid_t uid;                       /* of the spawning connection: who may use it */
    /* Keep-alive instances: idle once the start export returned; at most
     * one Call in flight, answered to `caller` (NULL if it went away). */
    bool keep_alive, idle, metered;
    uint32_t timeout_ms;      /* the spawn's, for each call; 0: none */
    uint32_t call_timeout_ms; /* the call in flight's */
    uint32_t armed_ms;        /* the timeout last armed: the limit a timeout hit */
    bool calling;
    struct conn *caller;
    uint64_t call_request, call_id;
    struct sbx_broker *broker; /* its preopens: serves its path calls */
    uint64_t zygote_gen;       /* the zygote that forked it (its exit comes from there) */
    /* A warm worker (daemon_warm.c), not yet taken by a spawn: no owner, no
     * module reference, not live; dismissed: to be ended when started. */
    bool warm, dismissed;
    /* A template of warm workers (never taken: it forks them), and a warm
     * worker it forked (its WorkerStarted comes on its own channel). */
    bool warm_template, from_template;
    uint8_t *warm_key; /* the packed effective policy it was made for (or,
                        * cold, that its spawn had: refilled at its end) */
    size_t warm_key_len;
    struct worker *next;
};

/* A replaced zygote, draining: it keeps running until its workers have
 * ended, then its channel is closed and it is reaped (daemon_zygote.c). */
struct old_zygote {
    struct sbx_zygote_client z;
    uint64_t gen;
    bool exiting; /* channel closed: waiting for its SIGCHLD */
    struct old_zygote *next;
};

struct daemon {
    const struct sbx_daemon_config *cfg;
    int epfd, listen_fd, sigfd;
    struct sbx_zygote_client zygote; /* the current one: new spawns and loads go here */
    uint64_t zygote_gen;             /* its generation; one more at each start */
    uint64_t zygote_spawns;          /* ForkWorkers sent to it */
    bool rotate_due;                 /* its age is up (or a failed rotation retries) */
    uint64_t rotate_not_before_us;   /* back-off after a failed rotation */
    int rotate_timer;                /* timerfd: the current zygote's age limit */
    int warm_timer;                  /* timerfd: idle warm workers' expiry, or -1 */
    int deadline_timer;              /* timerfd: workers' deadlines (daemon_deadlines.c) */
    uint64_t deadline_armed_us;      /* what it is armed for, or 0 */
    struct old_zygote *old_zygotes;
    struct module *modules;
    struct conn *conns;
    struct worker *workers;
    uint32_t live_workers;
    uint64_t next_worker_id, next_ctl_id;
    uint64_t start_us;
    bool stopping;
    Sbx__Counters counters;
    struct watch **watches; /* what each epoll registration is for */
    size_t nwatches;
    /* Control requests in flight: id -> what waits on the reply. */
    struct ctl_pending {
        uint64_t ctl_id;
        struct conn *conn;     /* for a load: who asked */
        uint64_t request_id;   /* its request */
        struct module *module; /* the module being loaded */
        struct worker *worker; /* for a fork */
        bool already_loaded;
        bool conn_ref;       /* the load added a reference of `conn` to undo if it fails */
        uint64_t zygote_gen; /* the zygote it was sent to */
    } * pending;
    size_t npending, pending_cap;
};

/* epoll user data: what an event is for. */
enum ev_kind {
    EV_LISTEN,
    EV_SIGNAL,
    EV_ZYGOTE,     /* the current zygote's channel */
    EV_OLD_ZYGOTE, /* a draining zygote's channel; ptr: its struct old_zygote */
    EV_ROTATE_TIMER,
    EV_WARM_TIMER,
    EV_CONN,
    EV_CHANNEL,
    EV_DEADLINE
};

int daemon_watch(struct daemon *d, int fd, enum ev_kind kind, void *ptr);
void daemon_unwatch(struct daemon *d, int fd);
uint64_t daemon_now_us(void);

/* Responses to a client (daemon_requests.c). */
/* 0, or -errno (the connection is gone or stalled). */
int send_response(struct daemon *d, struct conn *c, Sbx__Response *r);
void send_error(struct daemon *d, struct conn *c, uint64_t id, Sbx__ErrorCode code, const char *fmt,
                ...) __attribute__((format(printf, 5, 6)));
void handle_client(struct daemon *d, struct conn *c);
void close_conn(struct daemon *d, struct conn *c);

/* The reply to a LoadModule, once the zygote has the module
 * (daemon_requests.c). */
void reply_module_loaded(struct daemon *d, struct conn *c, uint64_t request_id,
                         const struct module *m, bool already);

/* Control channel (daemon.c). Requests go to the current zygote; replies
 * from any zygote are matched by id (ids are unique across zygotes). */
int ctl_send(struct daemon *d, Sbx__ControlRequest *req, const int *fds, size_t nfds,
             struct ctl_pending *p);
/* A reply from the zygote of generation `gen`. */
void ctl_reply(struct daemon *d, uint64_t gen, Sbx__ControlReply *rep, int *fds, size_t nfds);
/* ctl_send to the zygote of generation `gen`, current or draining (-ESRCH:
 * none of that generation is there to answer). */
int ctl_send_to(struct daemon *d, uint64_t gen, Sbx__ControlRequest *req, const int *fds,
                size_t nfds, struct ctl_pending *p);
/* Zygote generation `gen` died: its requests will never be answered. Loads
 * in flight fail (spawns were failed by workers_zygote_died). */
void ctl_forget_zygote(struct daemon *d, uint64_t gen);
struct module *find_module(struct daemon *d, const char *id);
/* Removes one of c's references to module `mid` from its list (the caller
 * drops the module's count); false if it held none. */
bool conn_drop_ref(struct conn *c, const char *mid);
/* A load that will not complete (refused, or its zygote died): its
 * references, the connection's and the module's, are undone. */
void load_failed(struct daemon *d, const struct ctl_pending *p);
void drop_module_ref(struct daemon *d, struct module *m);

/* Workers (daemon_workers.c). */
struct worker *find_worker(struct daemon *d, uint64_t id);
void worker_started(struct daemon *d, struct worker *w, const Sbx__WorkerStarted *s, int pidfd);
void worker_spawn_failed(struct daemon *d, struct worker *w, const char *why);
void worker_channel_event(struct daemon *d, struct worker *w);
/* The zygote of generation `gen` reaped a worker: its own, by id, or a
 * template's child (worker_id 0), by pid. */
void worker_exited(struct daemon *d, uint64_t gen, const Sbx__WorkerExited *e);
void worker_timeout(struct daemon *d, struct worker *w);
void worker_kill(struct daemon *d, struct worker *w, bool by_request);
void worker_wait(struct daemon *d, struct conn *c, uint64_t request_id, struct worker *w,
                 const Sbx__Wait *wait);
void worker_wait_timeout(struct daemon *d, struct worker *w);
/* Arms (ms > 0) or disarms (0) the worker's timeout. */
void worker_arm_timeout(struct daemon *d, struct worker *w, uint32_t ms);

/* Deadlines (daemon_deadlines.c): one timerfd for every worker's. */
int deadlines_init(struct daemon *d);
void deadlines_stop(struct daemon *d);
/* *slot (a worker's timeout_at_us or wait_at_us) = at_us; 0 clears it. */
void deadline_set(struct daemon *d, uint64_t *slot, uint64_t at_us);
/* The timer fired: runs worker_timeout and worker_wait_timeout for the
 * deadlines due and arms it for the next. */
void deadlines_event(struct daemon *d);
/* May connection c use worker w (Wait, Kill, Call)? */
bool worker_usable_by(const struct worker *w, const struct conn *c);
/* Tells w's owner it has a pid (Spawned). */
void worker_send_spawned(struct daemon *d, struct worker *w);
/* Stops listening to the worker's channel and closes it. */
void worker_close_channel(struct daemon *d, struct worker *w);
/* Drops the record: its fds, report, broker and warm key (its deadlines
 * go with it: daemon_deadlines.c finds nothing due for it). */
void worker_forget(struct daemon *d, struct worker *w);

/* Warm workers (daemon_warm.c). */
/* The key warm workers of `policy` are kept under (its packed bytes), or
 * NULL (*key) when the policy is not made warm; -1 only out of memory. */
int warm_key(const struct daemon *d, const Sbx__Policy *policy, uint8_t **key, size_t *len);
/* A warm worker of (m, key) from the current zygote, now no longer warm
 * (the caller makes it the spawn's): a started one, else one still
 * starting (no pid yet), or NULL. */
struct worker *warm_take(struct daemon *d, const struct module *m, const uint8_t *key, size_t len);
/* Forks warm workers of (m, the policy packed in key) until cfg->warm are
 * there or starting (and live plus warm stay within max_workers). */
void warm_refill(struct daemon *d, struct module *m, const uint8_t *key, size_t len);
/* A spawn ended (its outcome is out): refills the warm workers of its
 * (module, policy), now that the refill no longer competes with it for
 * the CPUs. Call before the worker drops its module reference. */
void warm_after_spawn(struct daemon *d, struct worker *w);
/* Kills the warm workers of module m, or (m NULL) of zygote generation
 * gen; their records go at their exits. */
void warm_dismiss(struct daemon *d, const struct module *m, uint64_t gen);
/* At start-up, before any client: the expiry timer of idle warm workers. */
void warm_init(struct daemon *d);
/* The expiry timer fired: dismisses warm workers idle for warm_idle_s. */
void warm_timer_event(struct daemon *d);
/* At shutdown: closes the expiry timer. */
void warm_stop(struct daemon *d);

/* Calls into keep-alive workers (daemon_calls.c). */
void worker_call(struct daemon *d, struct conn *c, uint64_t request_id, struct worker *w,
                 const Sbx__Call *call);
void worker_call_result(struct daemon *d, struct worker *w, Sbx__FromWorker *msg);
void worker_idle(struct daemon *d, struct worker *w);
/* The worker ended or its caller went away with a call in flight. */
void worker_call_abandoned(struct daemon *d, struct worker *w, const char *why);
void workers_conn_closed(struct daemon *d, struct conn *c);
/* Zygote generation `gen` died, and its workers with it. */
void workers_zygote_died(struct daemon *d, uint64_t gen);
/* At exit: releases every worker record. */
void workers_free_all(struct daemon *d);

/* The zygotes' lives (daemon_zygote.c): start (exec'd), crash and restart,
 * rotation, drain, reaping. */
int zygotes_init(struct daemon *d); /* the first zygote, before any client */
void zygote_event(struct daemon *d, struct old_zygote *old); /* NULL: the current one */
void zygote_rotate_timer(struct daemon *d);
void zygotes_reap(struct daemon *d); /* on SIGCHLD */
/* After each batch of events: rotate if due, retire drained zygotes. */
void zygotes_tick(struct daemon *d);
/* Sends a request that needs no reply (an unload) to the draining zygotes. */
void zygotes_tell_old(struct daemon *d, Sbx__ControlRequest *req);
void zygotes_stop_all(struct daemon *d);

#endif
