/* The supervisor's side of the zygote: start it, load modules into it, have
 * it fork workers, and collect each worker's outcome (its report over the
 * worker channel, cross-checked with the exit status the zygote reports). */
#ifndef SBX_SUPERVISOR_ZYGOTE_CLIENT_H
#define SBX_SUPERVISOR_ZYGOTE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto/sbx.pb-c.h"
#include "zygote/zygote.h"

struct sbx_broker;

struct sbx_zygote_client {
    pid_t pid;
    int ctl;
    uint64_t next_id;
};

/* Forks the zygote (call before reading any untrusted input) and waits for
 * it to say it is ready. 0 or -errno; `err` gets a message. */
int sbx_zygote_client_start(struct sbx_zygote_client *z, const struct sbx_zygote_config *cfg,
                            char *err, size_t errsz);

/* The hidden subcommand an exec'd zygote runs (supervisor/cli_zygote.c):
 * `sbx __zygote FD SLOTS MAX_MEMORY_BYTES STRATEGY`, FD its control
 * channel. Internal: not in the help, and it refuses an FD that is not a
 * SOCK_SEQPACKET socket. */
#define SBX_ZYGOTE_SUBCOMMAND "__zygote"

/* Like sbx_zygote_client_start, but the child execs /proc/self/exe (the
 * hidden subcommand) instead of running the zygote in the forked copy: the
 * zygote gets a fresh address-space layout and stack-protector canary
 * instead of the caller's, and none of the caller's memory. Its
 * configuration travels as arguments; it holds only stdio and the channel,
 * and dies with the caller (PDEATHSIG). Costs an exec and a dynamic link
 * more than a fork (see docs/architecture.md). */
int sbx_zygote_client_exec(struct sbx_zygote_client *z, const struct sbx_zygote_config *cfg,
                           char *err, size_t errsz);

/* Closes the control channel (the zygote exits on end of stream) and reaps
 * it. */
void sbx_zygote_client_stop(struct sbx_zygote_client *z);

/* Kills the zygote (SIGKILL), then stops it as above: for a caller that
 * needs nothing more from it, so that its end does not wait for its
 * workers' (see the definition). */
void sbx_zygote_client_kill(struct sbx_zygote_client *z);

/* The lowercase hex SHA-256 of `bytes`: a module's id. `out` holds 65. */
void sbx_module_id(const uint8_t *bytes, size_t len, char out[65]);

/* Fills a LoadIntoZygote control request for `len` module bytes that
 * travel as the message's first fd. The request keeps pointers to `load`,
 * `ref` and `module_id`. */
void sbx_ctl_load_init(Sbx__ControlRequest *req, Sbx__LoadIntoZygote *load, Sbx__MemfdRef *ref,
                       const char *module_id, uint64_t len);

/* Loads a module into the zygote (bytes travel as a sealed memfd). */
int sbx_zygote_client_load(struct sbx_zygote_client *z, const char *module_id, const uint8_t *bytes,
                           size_t len, char *err, size_t errsz);

/* What a spawn asks for. */
struct sbx_spawn_request {
    uint64_t worker_id;
    const char *module_id;
    const char *export_name;
    Sbx__Value **args;
    size_t nargs;
    int stdio[3];        /* -1: the worker gets no such stream */
    uint64_t fuel;       /* 0: unmetered */
    uint32_t timeout_ms; /* 0: none */
    /* The guest's argv and "K=V" environment (WASI). */
    char **argv;
    size_t argc;
    char **env;
    size_t envc;
    uint64_t memory_bytes;     /* 0: the largest the pool allows */
    uint64_t stack_bytes;      /* 0: 1 MiB */
    const Sbx__Policy *policy; /* effective; NULL: the zygote's default */
    struct sbx_broker *broker; /* its preopens (policy order), or NULL */
};

/* How a worker ended, as the supervisor decided it. */
struct sbx_spawn_outcome {
    Sbx__FromWorker *report_msg; /* the worker's report, or NULL; free with sbx_ipc_free */
    const Sbx__WorkerReport *report;
    int wait_status; /* from the zygote's WorkerExited */
    bool timed_out;  /* killed by the supervisor's wall-clock limit */
    uint64_t user_us, sys_us, max_rss_kb, wall_us;
};

/* Spawns and waits for the worker to end; 0, or -errno with `err`. */
int sbx_zygote_client_run(struct sbx_zygote_client *z, const struct sbx_spawn_request *req,
                          struct sbx_spawn_outcome *out, char *err, size_t errsz);

#endif
