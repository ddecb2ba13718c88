/* sbx.h: the C client library of sbx (libsbx). A host program connects to
 * a running `sbx serve` daemon over its AF_UNIX socket, loads WebAssembly
 * modules, spawns sandboxed workers from them, waits for their outcomes and
 * calls exports of long-lived instances. docs/client.md is the guide;
 * docs/protocol.md the wire protocol this library speaks (version 1).
 *
 * Conventions of every function below:
 * - It returns 0 on success or a negative errno value; the errno values
 *   each function can return, and what they mean there, are listed with it.
 *   Errors the server reported come back as the errno of their code (see
 *   enum sbx_error_code) with the server's own message.
 * - `err` may be NULL. When not NULL it is always written: code
 *   SBX_ERROR_NONE and an empty message on success, else a code and a
 *   message naming what went wrong. Nothing is printed, nothing exits.
 * - A `struct sbx_client` is one connection. It keeps no global state and
 *   holds no lock: use one client per thread, or serialise the calls on a
 *   client yourself. Different clients are independent.
 * - After a connection or protocol error (the server hung up, or sent
 *   something that breaks the protocol) the client is unusable: every later
 *   call fails with the same errno and SBX_ERROR_CONNECTION or
 *   SBX_ERROR_PROTOCOL. Disconnect it and connect again. A server Error
 *   reply does not break the connection.
 * - File descriptors given to the library stay the caller's; the library
 *   closes every fd it creates or receives on every path. */
#ifndef SBX_H
#define SBX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The wire protocol version this library speaks. */
#define SBX_PROTOCOL_VERSION 1

/* A module id: 64 lowercase hex digits (SHA-256 of the module bytes) and a
 * NUL. */
#define SBX_MODULE_ID_SIZE 65

/* Sizes of the fixed buffers below. Longer texts are cut (always
 * NUL-terminated); longer lists keep their first entries and say how many
 * there were. */
#define SBX_MESSAGE_SIZE    512 /* error, trap and internal-error messages */
#define SBX_NAME_SIZE       257 /* module names, syscall names: 256 bytes and a NUL */
#define SBX_FRAME_NAME_SIZE 120
#define SBX_MAX_FRAMES      32 /* the runtime records 32 */
#define SBX_MAX_RESULTS     16 /* results kept in a struct sbx_outcome */

/* Wait for whichever worker of this connection ends first (sbx_wait). */
#define SBX_ANY_WORKER 0

/* -- Errors --------------------------------------------------------------- */

/* Codes 1 to 14 are the server's Error codes (proto/sbx.proto, ErrorCode),
 * with the same numbers, each returned as the errno shown. Codes from 100
 * were found by the client itself. */
enum sbx_error_code {
    SBX_ERROR_NONE = 0,
    SBX_ERROR_BAD_REQUEST = 1,         /* -EINVAL: the request was malformed */
    SBX_ERROR_UNKNOWN_MODULE = 2,      /* -ENOENT: no module with that id */
    SBX_ERROR_UNKNOWN_WORKER = 3,      /* -ESRCH: no such worker, or its outcome was taken */
    SBX_ERROR_LIMIT = 4,               /* -E2BIG: a size, count or resource limit */
    SBX_ERROR_BUSY = 5,                /* -EBUSY: too many workers or requests; retry */
    SBX_ERROR_INTERNAL = 6,            /* -EREMOTEIO: the server failed */
    SBX_ERROR_UNSUPPORTED_VERSION = 7, /* -EPROTONOSUPPORT: no common protocol version */
    SBX_ERROR_NOT_HANDSHAKEN = 8,      /* -EPROTO */
    SBX_ERROR_INVALID_MODULE = 9,      /* -ENOEXEC: did not decode, validate or compile */
    SBX_ERROR_PERMISSION_DENIED = 10,  /* -EACCES: this peer or path is not allowed */
    SBX_ERROR_STILL_RUNNING = 11,      /* -ETIMEDOUT (-EAGAIN when polling) */
    SBX_ERROR_WRONG_STATE = 12,        /* -EBADFD: e.g. Call on a worker not kept alive */
    SBX_ERROR_IO = 13,                 /* -EIO: the server could not read a path or memfd */
    SBX_ERROR_UNSUPPORTED = 14,        /* -EOPNOTSUPP: a feature the server lacks */
    SBX_ERROR_INVALID_ARGUMENT = 100,  /* -EINVAL (or -E2BIG): refused before sending */
    SBX_ERROR_SYSTEM = 101,            /* a local call failed: open, read, memfd_create, malloc */
    SBX_ERROR_CONNECTION = 102,        /* connect, send or receive failed; the server hung up */
    SBX_ERROR_PROTOCOL = 103,          /* -EPROTO: the server broke the protocol */
    SBX_ERROR_TIMEOUT = 104,           /* -ETIMEDOUT / -EAGAIN: no answer in time */
};

struct sbx_client_error {
    int code;                       /* enum sbx_error_code */
    char message[SBX_MESSAGE_SIZE]; /* e.g. "spawn: UNKNOWN_MODULE: no module 9f86..." */
};

/* A static name for an error code ("UNKNOWN_MODULE", "CONNECTION", ...);
 * "UNKNOWN" for a code not in the enum. */
const char *sbx_error_code_name(int code);

/* -- Values ---------------------------------------------------------------- */

enum sbx_value_type {
    SBX_VALUE_I32 = 1,
    SBX_VALUE_I64 = 2,
    SBX_VALUE_F32 = 3,
    SBX_VALUE_F64 = 4,
};

/* A wasm number. Floats keep their exact bits (NaN payloads, -0.0). */
struct sbx_value {
    enum sbx_value_type type;
    union {
        int32_t i32;
        int64_t i64;
        float f32;
        double f64;
    } u;
};

/* -- Connections ----------------------------------------------------------- */

/* One connection to a server; opaque. */
struct sbx_client;

/* Connects to the daemon listening at `socket_path` and does the handshake
 * (Hello/Welcome), naming this client `client_name` in the server's logs
 * (NULL: "libsbx"; at most 256 bytes). On success *out is the new client.
 * The handshake waits at most 10 seconds. Errors:
 *   -ENOENT, -ECONNREFUSED, -EACCES, -ENAMETOOLONG ...  connecting failed
 *   -EPROTONOSUPPORT  the server does not speak SBX_PROTOCOL_VERSION
 *   -EPROTO           the server's answer was not a valid Welcome
 *   -ETIMEDOUT, -EPIPE, -ENOMEM, -EINVAL (bad arguments). */
int sbx_connect(const char *socket_path, const char *client_name, struct sbx_client **out,
                struct sbx_client_error *err);

/* The same over a connected AF_UNIX SOCK_SEQPACKET socket `fd` (socket
 * activation, tests). The client owns `fd` from this call on, and has
 * closed it if the call fails. */
int sbx_connect_fd(int fd, const char *client_name, struct sbx_client **out,
                   struct sbx_client_error *err);

/* Closes the connection and frees the client; NULL is ignored. The server
 * then kills the workers this connection spawned without `detach` and drops
 * the module references it holds without `detach`. Outcomes not collected
 * are discarded. */
void sbx_disconnect(struct sbx_client *c);

/* What the server said in its Welcome. */
struct sbx_server_info {
    uint32_t protocol_version;
    char server_version[64];
    int supervisor_pid;
    uint32_t max_message_bytes;
    uint32_t max_inline_module_bytes;
    uint32_t max_fds_per_message;
};

/* Copies the Welcome of this connection into *out (cannot fail). */
void sbx_server_info(const struct sbx_client *c, struct sbx_server_info *out);

/* Sets how long each request waits for its answer: -1 forever (the
 * default), or a number of milliseconds > 0. A request that gets no answer
 * in time fails with -ETIMEDOUT; its late answer is discarded when it comes
 * (an outcome in it is kept for sbx_wait). 0 or -EINVAL. sbx_wait has its
 * own timeout. */
int sbx_set_request_timeout(struct sbx_client *c, int timeout_ms);

/* The connection's socket, for poll(2) in an event loop: it is readable
 * when the server has pushed something (an outcome, see sbx_wait). Do not
 * read, write or close it. */
int sbx_client_fd(const struct sbx_client *c);

/* -- Modules --------------------------------------------------------------- */

struct sbx_load_options {
    const char *name; /* NULL: none; for status and backtraces; <= 256 bytes */
    /* The reference this load takes outlives the connection, until an
     * sbx_unload with `detached`. Default: dropped when the connection
     * closes. */
    bool detach;
};

enum sbx_item_kind {
    SBX_ITEM_FUNC = 1,
    SBX_ITEM_TABLE = 2,
    SBX_ITEM_MEMORY = 3,
    SBX_ITEM_GLOBAL = 4,
};

/* Types of params, results, globals and table elements. */
enum sbx_type {
    SBX_TYPE_I32 = 1,
    SBX_TYPE_I64 = 2,
    SBX_TYPE_F32 = 3,
    SBX_TYPE_F64 = 4,
    SBX_TYPE_V128 = 5,
    SBX_TYPE_FUNCREF = 6,
    SBX_TYPE_EXTERNREF = 7,
};

/* One import or export of a module. */
struct sbx_item {
    const char *module; /* imports: the module name; exports: NULL */
    const char *name;
    enum sbx_item_kind kind;
    /* SBX_ITEM_FUNC: */
    size_t nparams, nresults;
    const enum sbx_type *params, *results;
    /* SBX_ITEM_TABLE (elements), SBX_ITEM_GLOBAL (the value): */
    enum sbx_type type;
    bool mutable_; /* SBX_ITEM_GLOBAL */
    /* SBX_ITEM_TABLE (elements), SBX_ITEM_MEMORY (64 KiB pages): */
    uint64_t min, max;
    bool has_max;
    bool shared; /* SBX_ITEM_MEMORY */
};

/* What the server reported about a loaded module. Free with
 * sbx_module_info_free; everything it points to belongs to it. */
struct sbx_module_info {
    char module_id[SBX_MODULE_ID_SIZE];
    bool already_loaded; /* this load only added a reference */
    size_t nimports, nexports;
    const struct sbx_item *imports, *exports;
};

void sbx_module_info_free(struct sbx_module_info *info);

/* Loads the module bytes[0..len) (`opts` may be NULL), and writes its id
 * to module_id. Modules up to the server's inline limit (64 KiB) travel in
 * the message; bigger ones in a sealed memfd made for the purpose (and
 * closed before returning). If `info` is not NULL, *info receives the
 * module's imports and exports (free it with sbx_module_info_free), or
 * NULL on failure. Errors: -ENOEXEC (not a valid module: the server's
 * message says why), -E2BIG (over the server's size limit), -EINVAL,
 * -ENOMEM, the errno of memfd_create, and the connection errors. */
int sbx_load(struct sbx_client *c, const void *bytes, size_t len,
             const struct sbx_load_options *opts, char module_id[SBX_MODULE_ID_SIZE],
             struct sbx_module_info **info, struct sbx_client_error *err);

/* sbx_load of the file at `path`, read by this process (with its rights).
 * Adds the errno of open/read. */
int sbx_load_file(struct sbx_client *c, const char *path, const struct sbx_load_options *opts,
                  char module_id[SBX_MODULE_ID_SIZE], struct sbx_module_info **info,
                  struct sbx_client_error *err);

/* Asks the server to open the absolute `path` itself, with its own rights
 * (it may refuse: -EACCES; unreadable: -EIO). */
int sbx_load_path(struct sbx_client *c, const char *path, const struct sbx_load_options *opts,
                  char module_id[SBX_MODULE_ID_SIZE], struct sbx_module_info **info,
                  struct sbx_client_error *err);

/* Drops one reference to the module: the connection's, or with `detached`
 * one taken by a detached load. -ENOENT if there is no such reference. */
int sbx_unload(struct sbx_client *c, const char *module_id, bool detached,
               struct sbx_client_error *err);

/* -- Workers --------------------------------------------------------------- */

/* A directory the guest may reach through WASI (a preopen). The server's
 * policy must grant it: at or beneath one of its preopens, and read-only
 * if that one is (a spawn narrows the server's policy, never widens it). */
struct sbx_preopen {
    const char *host_path;  /* absolute, as the server sees it */
    const char *guest_path; /* what the guest calls it, e.g. "/data" */
    bool read_only;
};

/* Initialise with sbx_spawn_options_init (or SBX_SPAWN_OPTIONS_INIT): a
 * zeroed struct would pass this process's fd 0 as all three streams. */
struct sbx_spawn_options {
    const char *export_name; /* NULL: "_start" */
    const struct sbx_value *args;
    size_t nargs; /* at most 1000 */
    /* The guest's argv (argv[0] is its program name) and "KEY=VALUE"
     * environment; at most 1024 entries each, 64 KiB together. */
    const char *const *argv;
    size_t argc;
    const char *const *env;
    size_t nenv;
    /* The worker's stdio: an fd of this process that the worker gets a
     * duplicate of, or -1 for /dev/null. The fds stay the caller's. */
    int stdin_fd, stdout_fd, stderr_fd;
    /* Limits; 0 takes the server's default. */
    uint64_t memory_bytes; /* linear memory, all memories together */
    uint64_t fuel;         /* units charged at calls and loop back-edges */
    uint64_t stack_bytes;  /* native stack of the wasm code */
    uint32_t timeout_ms;   /* wall clock, from spawn to outcome */
    /* Keep the instance after the export returns, to serve sbx_call until
     * sbx_kill. */
    bool keep_alive;
    /* Let the worker outlive this connection. Its outcome is not pushed;
     * sbx_wait asks the server for it. */
    bool detach;
    /* The guest's preopened directories (at most 64); none: the server
     * policy's own. */
    const struct sbx_preopen *preopens;
    size_t npreopens;
    /* Connected or listening sockets of this process for the guest's WASI
     * sock_* calls (guest fds after the preopens; at most 8). The server's
     * policy must allow them (syscalls.allow: SYSCALL_GROUP_SOCKETS). The
     * fds stay the caller's. */
    const int *socket_fds;
    size_t nsockets;
};

#define SBX_SPAWN_OPTIONS_INIT                                                                     \
    {                                                                                              \
        .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1                                           \
    }

void sbx_spawn_options_init(struct sbx_spawn_options *opts);

/* Spawns a worker running the module's export (`opts` may be NULL: run
 * `_start` with no stdio and the server's limits). On success *worker_id is
 * the worker's id and, if `pid` is not NULL, *pid its pid. Errors: -ENOENT
 * (unknown module), -EBUSY (too many live workers), -E2BIG (a limit out of
 * the server's range, too many values), -EINVAL, -EBADF (a stdio fd is not
 * open), and the connection errors. */
int sbx_spawn(struct sbx_client *c, const char *module_id, const struct sbx_spawn_options *opts,
              uint64_t *worker_id, int *pid, struct sbx_client_error *err);

enum sbx_outcome_kind {
    SBX_OUTCOME_EXITED = 1,           /* exit_code; results if the export returned */
    SBX_OUTCOME_TRAPPED = 2,          /* trap */
    SBX_OUTCOME_TIMEOUT = 3,          /* limit: the timeout in ms */
    SBX_OUTCOME_FUEL_EXHAUSTED = 4,   /* limit: the fuel */
    SBX_OUTCOME_MEMORY_LIMIT = 5,     /* limit: the bytes */
    SBX_OUTCOME_KILLED = 6,           /* signal, by_request */
    SBX_OUTCOME_POLICY_VIOLATION = 7, /* syscall_nr, message: the syscall's name */
    SBX_OUTCOME_INTERNAL_ERROR = 8,   /* message */
};

/* Trap kinds, numbered as TrapKind in proto/sbx.proto. */
enum sbx_trap_kind {
    SBX_TRAP_KIND_UNSPECIFIED = 0,
    SBX_TRAP_KIND_UNREACHABLE = 1,
    SBX_TRAP_KIND_INT_DIV_ZERO = 2,
    SBX_TRAP_KIND_INT_OVERFLOW = 3,
    SBX_TRAP_KIND_INVALID_CONVERSION = 4,
    SBX_TRAP_KIND_OOB_MEMORY = 5,
    SBX_TRAP_KIND_OOB_TABLE = 6,
    SBX_TRAP_KIND_INDIRECT_TYPE_MISMATCH = 7,
    SBX_TRAP_KIND_UNINITIALIZED_ELEMENT = 8,
    SBX_TRAP_KIND_UNDEFINED_ELEMENT = 9,
    SBX_TRAP_KIND_STACK_EXHAUSTED = 10,
    SBX_TRAP_KIND_OUT_OF_FUEL = 11, /* sbx_call only */
    SBX_TRAP_KIND_INTERRUPTED = 12, /* sbx_call only: its timeout */
    SBX_TRAP_KIND_HOST = 13,
};

struct sbx_frame {
    uint32_t function_index;        /* imports counted */
    char name[SBX_FRAME_NAME_SIZE]; /* from the name section, or "" */
};

struct sbx_trap {
    enum sbx_trap_kind kind;
    char message[SBX_MESSAGE_SIZE];
    size_t nframes;      /* frames[0..nframes), innermost first */
    size_t total_frames; /* frames the server sent (> nframes if cut) */
    struct sbx_frame frames[SBX_MAX_FRAMES];
};

struct sbx_usage {
    uint64_t wall_us, user_us, sys_us, max_rss_kb; /* 0 when the server sent none */
};

/* How a worker ended. Only the fields of its kind are meaningful; the rest
 * are zero. */
struct sbx_outcome {
    uint64_t worker_id;
    enum sbx_outcome_kind kind;
    int exit_code;                  /* EXITED */
    int signal;                     /* KILLED */
    bool by_request;                /* KILLED: by sbx_kill or a closed connection */
    uint64_t limit;                 /* TIMEOUT (ms), FUEL_EXHAUSTED (units), MEMORY_LIMIT (bytes) */
    int syscall_nr;                 /* POLICY_VIOLATION */
    char message[SBX_MESSAGE_SIZE]; /* INTERNAL_ERROR; POLICY_VIOLATION: the syscall */
    struct sbx_trap trap;           /* TRAPPED */
    struct sbx_usage usage;
    size_t nresults;      /* results[0..nresults): what the export returned */
    size_t total_results; /* results the server sent (> nresults if cut) */
    struct sbx_value results[SBX_MAX_RESULTS];
};

/* Waits for the outcome of `worker_id` (or, with SBX_ANY_WORKER, of any
 * worker this connection spawned without `detach`) and writes it to *out.
 * `timeout_ms`: -1 waits as long as it takes, 0 only checks, N waits at
 * most N milliseconds.
 *
 * Outcomes of this connection's own workers are pushed by the server; the
 * client reads them whenever it reads from the socket (during any call) and
 * keeps them, in order, until sbx_wait collects them, so an outcome that
 * arrived before sbx_wait was called is returned at once. Each outcome is
 * returned once. For a detached worker, or one spawned by another
 * connection, sbx_wait sends a Wait request with the timeout; the server's
 * answer is awaited up to 1 second past it.
 *
 * Errors: -ETIMEDOUT (-EAGAIN with timeout 0) the worker is still running;
 * -ESRCH no such worker, or its outcome was already collected; -ECHILD
 * SBX_ANY_WORKER with no worker of this connection left to wait for; and
 * the connection errors. */
int sbx_wait(struct sbx_client *c, uint64_t worker_id, int timeout_ms, struct sbx_outcome *out,
             struct sbx_client_error *err);

/* Spawns a worker and waits for its outcome in one request
 * (Spawn.reply_with_outcome): the server answers with the Outcome alone,
 * which saves a message and a wake-up over sbx_spawn + sbx_wait. Waits as
 * long as the run takes (bound it with opts->timeout_ms, which the server
 * enforces). Not with keep_alive or detach (-EINVAL). Errors: those of
 * sbx_spawn. */
int sbx_run(struct sbx_client *c, const char *module_id, const struct sbx_spawn_options *opts,
            struct sbx_outcome *out, struct sbx_client_error *err);

/* Kills the worker (SIGKILL). Returns when the server has acknowledged;
 * the outcome (SBX_OUTCOME_KILLED, by_request) follows through sbx_wait.
 * -ESRCH if there is no such worker. */
int sbx_kill(struct sbx_client *c, uint64_t worker_id, struct sbx_client_error *err);

/* Per-call limits of sbx_call; 0 takes the spawn's. */
struct sbx_call_options {
    uint64_t fuel;
    uint32_t timeout_ms;
};

/* Calls `export_name` of a keep-alive worker with args[0..nargs). If the
 * export returned, *trapped is false, results[0..min(*nresults,
 * max_results)) hold its results and *nresults is how many it returned. If
 * it trapped, *trapped is true and `trap` (if not NULL) says how; the
 * instance lives on. `opts`, `trap` may be NULL. Errors: -EBADFD (the
 * worker is not keep-alive), -ESRCH (no such worker, or it has ended), and
 * the usual ones. A fatal condition in the call ends the worker; its
 * outcome comes through sbx_wait. */
int sbx_call(struct sbx_client *c, uint64_t worker_id, const char *export_name,
             const struct sbx_value *args, size_t nargs, const struct sbx_call_options *opts,
             struct sbx_value *results, size_t max_results, size_t *nresults, bool *trapped,
             struct sbx_trap *trap, struct sbx_client_error *err);

/* -- Status ---------------------------------------------------------------- */

struct sbx_counters {
    uint64_t requests, bad_requests, loads, unloads, spawns, refused_busy;
    uint64_t exited, trapped, timeouts, fuel_exhausted, memory_limit, killed;
    uint64_t policy_violations, internal_errors, zygote_restarts;
    uint64_t zygote_rotations;    /* zygotes replaced by a fresh one (fork hygiene) */
    uint64_t warm_spawns;         /* of spawns, those a warm worker ran (sbx serve --warm) */
    uint64_t warm_template_forks; /* warm workers forked by their pair's template */
};

struct sbx_status {
    uint32_t total_modules;
    uint32_t slots_in_use, slots_total;
    uint32_t live_workers, max_workers;
    uint32_t warm_workers; /* made ahead of demand (sbx serve --warm), not live */
    int zygote_pid;
    uint64_t uptime_ms;
    struct sbx_counters counters;
};

/* The server's state and counters. */
int sbx_status(struct sbx_client *c, struct sbx_status *out, struct sbx_client_error *err);

struct sbx_loaded_module {
    char module_id[SBX_MODULE_ID_SIZE];
    char name[SBX_NAME_SIZE];
    uint64_t size_bytes;
    uint32_t references;
    uint32_t live_workers;
};

/* One page of the server's modules, from index `first`: mods[0..*nmods)
 * (at most `max`), and *next the index to ask for next, or 0 after the last
 * page. The server sends up to 256 per page; entries beyond `max` are
 * skipped, and *next accounts for them only if max >= the page's size, so
 * pass max >= 256 to list everything. `next` may be NULL. */
int sbx_list_modules(struct sbx_client *c, uint32_t first, struct sbx_loaded_module *mods,
                     size_t max, size_t *nmods, uint32_t *next, struct sbx_client_error *err);

/* Static names for enum values ("exited", "trapped", ...; "unreachable",
 * "int_div_zero", ...); "unknown" otherwise. */
const char *sbx_outcome_kind_name(enum sbx_outcome_kind kind);
const char *sbx_trap_kind_name(enum sbx_trap_kind kind);

#ifdef __cplusplus
}
#endif

#endif
