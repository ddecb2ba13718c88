/* client/client_internal.h (internal): the state of one connection, the
 * request/response machinery every public call goes through, and the
 * checks and conversions between the wire messages and include/sbx.h.
 * Nothing here is exported from libsbx.so. */
#ifndef SBX_CLIENT_INTERNAL_H
#define SBX_CLIENT_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "include/sbx.h"
#include "proto/sbx.pb-c.h"

#define HIDDEN __attribute__((visibility("hidden")))

/* How long sbx_connect waits for the Welcome. */
#define SBXC_HANDSHAKE_TIMEOUT_MS 10000
/* How long past its own timeout a Wait request waits for the server. */
#define SBXC_WAIT_GRACE_MS 1000

/* A request whose caller stopped waiting (its timeout ran out). Its answer
 * is still read when it comes: a Spawned registers the worker (its outcome
 * will be pushed), an Outcome is kept for sbx_wait, anything else is
 * dropped. */
struct abandoned {
    uint64_t id;
    Sbx__Request__BodyCase kind;
    uint64_t worker_id; /* Wait */
    bool detach;        /* Spawn */
};

/* A worker whose outcome this client expects (spawned here without
 * detach), or an outcome received and not yet collected. */
struct tracked {
    uint64_t worker_id;
    Sbx__Response *outcome; /* NULL while the worker runs; owns the message */
    uint64_t seq;           /* arrival order of outcome, for SBX_ANY_WORKER */
};

struct sbx_client {
    int fd;
    uint64_t next_id;
    int request_timeout_ms;
    struct sbx_server_info info;
    /* 0, or the -errno the connection failed with; err says how. */
    int broken;
    struct sbx_client_error broken_err;
    struct tracked *workers;
    size_t nworkers, workers_cap;
    uint64_t seq;
    struct abandoned *abandoned;
    size_t nabandoned, abandoned_cap;
};

/* -- Errors (client.c) -- */

/* Fills *err (if not NULL) and returns rc. */
HIDDEN int sbxc_fail(struct sbx_client_error *err, int code, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
HIDDEN void sbxc_ok(struct sbx_client_error *err);
/* Marks the connection unusable (after a connection or protocol error):
 * every later call fails the same way. Fills *err and returns rc. */
HIDDEN int sbxc_broken(struct sbx_client *c, struct sbx_client_error *err, int code, int rc,
                       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Maps a server Error to its errno and fills *err: "<what>: CODE: message". */
HIDDEN int sbxc_server_error(const Sbx__Error *e, const char *what, struct sbx_client_error *err);

/* -- Transport (client.c) -- */

/* A monotonic deadline in the timeout convention (-1, 0, N ms). */
struct sbxc_deadline {
    int timeout_ms;
    int64_t end_ms;
};
HIDDEN void sbxc_deadline_start(struct sbxc_deadline *d, int timeout_ms);
/* Milliseconds left in the same convention: -1, 0 (expired or polling), N. */
HIDDEN int sbxc_deadline_left(const struct sbxc_deadline *d);

/* Sends `req` (its id is assigned here) with fds, then reads until its
 * answer arrives, handling pushed outcomes on the way. On 0, *resp is the
 * answer (free with sbx_ipc_free), already checked to be `expect` or an
 * Error. timeout_ms as in sbxc_deadline. On -ETIMEDOUT the request is
 * abandoned (see struct abandoned). */
HIDDEN int sbxc_roundtrip(struct sbx_client *c, Sbx__Request *req, const int *fds, size_t nfds,
                          Sbx__Response__BodyCase expect, int timeout_ms, const char *what,
                          Sbx__Response **resp, struct sbx_client_error *err);

/* Reads and handles one message (a pushed outcome or a late answer),
 * waiting until the deadline: 0, -ETIMEDOUT/-EAGAIN, or a connection or
 * protocol error (the client is then broken). */
HIDDEN int sbxc_pump(struct sbx_client *c, const struct sbxc_deadline *d, const char *what,
                     struct sbx_client_error *err);

/* Fails with the saved error if the connection is broken. */
HIDDEN int sbxc_check_usable(struct sbx_client *c, struct sbx_client_error *err);

/* Workers whose outcome this client tracks. */
HIDDEN struct tracked *sbxc_find_worker(struct sbx_client *c, uint64_t worker_id);
HIDDEN int sbxc_track_worker(struct sbx_client *c, uint64_t worker_id, Sbx__Response *outcome);
HIDDEN void sbxc_untrack(struct sbx_client *c, struct tracked *t);

/* -- Checks of what the server sent (validate.c) -- */

/* Fills `why` and returns -EPROTO when the message is not acceptable. */
HIDDEN int sbxc_check_tree(const ProtobufCMessage *m, char *why, size_t why_len);
HIDDEN int sbxc_check_response(const Sbx__Response *r, char *why, size_t why_len);
HIDDEN bool sbxc_module_id_ok(const char *id);

/* -- Conversions (convert.c) -- */

/* Values to the wire: fills vals[0..n) and ptrs[0..n) (ptrs[i] = &vals[i]). */
HIDDEN int sbxc_values_to_proto(const struct sbx_value *in, size_t n, Sbx__Value *vals,
                                Sbx__Value **ptrs);
HIDDEN void sbxc_value_from_proto(const Sbx__Value *in, struct sbx_value *out);
HIDDEN void sbxc_outcome_from_proto(const Sbx__Outcome *in, struct sbx_outcome *out);
HIDDEN void sbxc_trap_from_proto(const Sbx__Trap *in, struct sbx_trap *out);
HIDDEN int sbxc_module_info_from_proto(const Sbx__ModuleLoaded *in, struct sbx_module_info **out);
HIDDEN void sbxc_copy_string(char *dst, size_t size, const char *src);

#endif
