/* client/client.c: one connection to `sbx serve`: connecting and the
 * handshake, errors, and the request/response machinery: ids, answers
 * matched to requests, pushed outcomes kept until sbx_wait collects them,
 * and requests whose caller gave up. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client/client_internal.h"
#include "ipc/limits.h"
#include "ipc/msg.h"
#include "ipc/socket.h"

/* -- Errors ---------------------------------------------------------------- */

void sbxc_ok(struct sbx_client_error *err)
{
    if (!err) return;
    err->code = SBX_ERROR_NONE;
    err->message[0] = '\0';
}

int sbxc_fail(struct sbx_client_error *err, int code, int rc, const char *fmt, ...)
{
    if (!err) return rc;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return rc;
}

/* Server Error codes, indexed by their number: the errno each becomes. */
static const struct {
    const char *name;
    int errnum;
} server_codes[] = {
    [SBX_ERROR_BAD_REQUEST] = {"BAD_REQUEST", EINVAL},
    [SBX_ERROR_UNKNOWN_MODULE] = {"UNKNOWN_MODULE", ENOENT},
    [SBX_ERROR_UNKNOWN_WORKER] = {"UNKNOWN_WORKER", ESRCH},
    [SBX_ERROR_LIMIT] = {"LIMIT", E2BIG},
    [SBX_ERROR_BUSY] = {"BUSY", EBUSY},
    [SBX_ERROR_INTERNAL] = {"INTERNAL", EREMOTEIO},
    [SBX_ERROR_UNSUPPORTED_VERSION] = {"UNSUPPORTED_VERSION", EPROTONOSUPPORT},
    [SBX_ERROR_NOT_HANDSHAKEN] = {"NOT_HANDSHAKEN", EPROTO},
    [SBX_ERROR_INVALID_MODULE] = {"INVALID_MODULE", ENOEXEC},
    [SBX_ERROR_PERMISSION_DENIED] = {"PERMISSION_DENIED", EACCES},
    [SBX_ERROR_STILL_RUNNING] = {"STILL_RUNNING", ETIMEDOUT},
    [SBX_ERROR_WRONG_STATE] = {"WRONG_STATE", EBADFD},
    [SBX_ERROR_IO] = {"IO_ERROR", EIO},
    [SBX_ERROR_UNSUPPORTED] = {"UNSUPPORTED", EOPNOTSUPP},
};
#define N_SERVER_CODES (sizeof(server_codes) / sizeof(server_codes[0]))

const char *sbx_error_code_name(int code)
{
    if (code == SBX_ERROR_NONE) return "NONE";
    if (code > 0 && (size_t)code < N_SERVER_CODES) return server_codes[code].name;
    switch (code) {
    case SBX_ERROR_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case SBX_ERROR_SYSTEM: return "SYSTEM";
    case SBX_ERROR_CONNECTION: return "CONNECTION";
    case SBX_ERROR_PROTOCOL: return "PROTOCOL";
    case SBX_ERROR_TIMEOUT: return "TIMEOUT";
    default: return "UNKNOWN";
    }
}

/* The response checks refuse an Error without a known code, so `code` is in
 * the table here. */
int sbxc_server_error(const Sbx__Error *e, const char *what, struct sbx_client_error *err)
{
    int code = (int)e->code;
    if (code <= 0 || (size_t)code >= N_SERVER_CODES)
        return sbxc_fail(err, SBX_ERROR_PROTOCOL, -EPROTO, "%s: error code %d", what, code);
    return sbxc_fail(err, code, -server_codes[code].errnum, "%s: %s: %s", what,
                     server_codes[code].name, e->message ? e->message : "");
}

/* Marks the connection unusable: every later call fails the same way. */
int sbxc_broken(struct sbx_client *c, struct sbx_client_error *err, int code, int rc,
                const char *fmt, ...)
{
    c->broken = rc;
    c->broken_err.code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->broken_err.message, sizeof(c->broken_err.message), fmt, ap);
    va_end(ap);
    if (err) *err = c->broken_err;
    return rc;
}

int sbxc_check_usable(struct sbx_client *c, struct sbx_client_error *err)
{
    if (!c) return sbxc_fail(err, SBX_ERROR_INVALID_ARGUMENT, -EINVAL, "no client");
    if (!c->broken) return 0;
    return sbxc_fail(err, c->broken_err.code, c->broken,
                     "connection unusable after an earlier error: %s", c->broken_err.message);
}

/* -- Deadlines ------------------------------------------------------------- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sbxc_deadline_start(struct sbxc_deadline *d, int timeout_ms)
{
    d->timeout_ms = timeout_ms < 0 ? -1 : timeout_ms;
    d->end_ms = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
}

int sbxc_deadline_left(const struct sbxc_deadline *d)
{
    if (d->timeout_ms <= 0) return d->timeout_ms;
    int64_t left = d->end_ms - now_ms();
    return left > 0 ? (int)left : 0;
}

/* -- Tracked workers and abandoned requests -------------------------------- */

struct tracked *sbxc_find_worker(struct sbx_client *c, uint64_t worker_id)
{
    for (size_t i = 0; i < c->nworkers; i++)
        if (c->workers[i].worker_id == worker_id) return &c->workers[i];
    return NULL;
}

int sbxc_track_worker(struct sbx_client *c, uint64_t worker_id, Sbx__Response *outcome)
{
    if (c->nworkers == c->workers_cap) {
        size_t cap = c->workers_cap ? c->workers_cap * 2 : 16;
        struct tracked *w = realloc(c->workers, cap * sizeof(*w));
        if (!w) return -ENOMEM;
        c->workers = w;
        c->workers_cap = cap;
    }
    c->workers[c->nworkers++] = (struct tracked){worker_id, outcome, outcome ? ++c->seq : 0};
    return 0;
}

/* Removes t (freeing a held outcome) by moving the last entry into its
 * place; order does not matter, seq keeps the arrival order. */
void sbxc_untrack(struct sbx_client *c, struct tracked *t)
{
    sbx_ipc_free(t->outcome ? &t->outcome->base : NULL);
    *t = c->workers[--c->nworkers];
}

static int abandon(struct sbx_client *c, const Sbx__Request *req)
{
    if (c->nabandoned == c->abandoned_cap) {
        size_t cap = c->abandoned_cap ? c->abandoned_cap * 2 : 8;
        struct abandoned *a = realloc(c->abandoned, cap * sizeof(*a));
        if (!a) return -ENOMEM;
        c->abandoned = a;
        c->abandoned_cap = cap;
    }
    struct abandoned a = {.id = req->id, .kind = req->body_case};
    if (req->body_case == SBX__REQUEST__BODY_WAIT) a.worker_id = req->wait->worker_id;
    if (req->body_case == SBX__REQUEST__BODY_SPAWN) a.detach = req->spawn->detach;
    c->abandoned[c->nabandoned++] = a;
    return 0;
}

/* -- Receiving ------------------------------------------------------------- */

/* A pushed outcome: it must be for a worker this client waits for (spawned
 * here, not detached, not ended yet). Takes ownership of r. */
static int take_event(struct sbx_client *c, Sbx__Response *r, const char *what,
                      struct sbx_client_error *err)
{
    uint64_t wid = r->event->outcome->worker_id;
    struct tracked *t = sbxc_find_worker(c, wid);
    if (!t || t->outcome) {
        sbx_ipc_free(&r->base);
        return sbxc_broken(c, err, SBX_ERROR_PROTOCOL, -EPROTO,
                           "%s: server pushed an outcome for worker %llu, which %s", what,
                           (unsigned long long)wid,
                           t ? "had already ended" : "this connection does not wait for");
    }
    t->outcome = r;
    t->seq = ++c->seq;
    return 0;
}

/* The late answer to an abandoned request. Takes ownership of r. */
static int take_late(struct sbx_client *c, size_t i, Sbx__Response *r, const char *what,
                     struct sbx_client_error *err)
{
    struct abandoned a = c->abandoned[i];
    c->abandoned[i] = c->abandoned[--c->nabandoned];
    int rc = 0;
    if (a.kind == SBX__REQUEST__BODY_SPAWN && r->body_case == SBX__RESPONSE__BODY_SPAWNED &&
        !a.detach) {
        if (sbxc_find_worker(c, r->spawned->worker_id))
            rc = sbxc_broken(c, err, SBX_ERROR_PROTOCOL, -EPROTO, "%s: worker id %llu reused", what,
                             (unsigned long long)r->spawned->worker_id);
        else if (sbxc_track_worker(c, r->spawned->worker_id, NULL))
            rc = sbxc_broken(c, err, SBX_ERROR_SYSTEM, -ENOMEM, "%s: out of memory", what);
    } else if (a.kind == SBX__REQUEST__BODY_WAIT && r->body_case == SBX__RESPONSE__BODY_OUTCOME) {
        if (r->outcome->worker_id != a.worker_id || sbxc_find_worker(c, a.worker_id)) {
            rc = sbxc_broken(c, err, SBX_ERROR_PROTOCOL, -EPROTO,
                             "%s: late Wait answer for the wrong worker", what);
        } else if (sbxc_track_worker(c, a.worker_id, r) == 0) {
            return 0; /* kept for sbx_wait */
        } else {
            rc = sbxc_broken(c, err, SBX_ERROR_SYSTEM, -ENOMEM, "%s: out of memory", what);
        }
    }
    sbx_ipc_free(&r->base);
    return rc;
}

/* Which answers fit which request. An Error fits every request. */
static bool answer_fits(Sbx__Request__BodyCase kind, Sbx__Response__BodyCase body)
{
    if (body == SBX__RESPONSE__BODY_ERROR) return true;
    switch (kind) {
    case SBX__REQUEST__BODY_HELLO: return body == SBX__RESPONSE__BODY_WELCOME;
    case SBX__REQUEST__BODY_LOAD_MODULE: return body == SBX__RESPONSE__BODY_MODULE_LOADED;
    case SBX__REQUEST__BODY_UNLOAD_MODULE:
    case SBX__REQUEST__BODY_KILL: return body == SBX__RESPONSE__BODY_ACK;
    case SBX__REQUEST__BODY_SPAWN: /* Spawned, or the Outcome (reply_with_outcome) */
        return body == SBX__RESPONSE__BODY_SPAWNED || body == SBX__RESPONSE__BODY_OUTCOME;
    case SBX__REQUEST__BODY_WAIT: return body == SBX__RESPONSE__BODY_OUTCOME;
    case SBX__REQUEST__BODY_CALL: return body == SBX__RESPONSE__BODY_CALL_RESULT;
    case SBX__REQUEST__BODY_STATUS: return body == SBX__RESPONSE__BODY_STATUS;
    default: return false;
    }
}

/* Reads one message and handles it. If it answers `want_id` (nonzero),
 * *resp gets it; everything else is dealt with here. */
static int read_one(struct sbx_client *c, const struct sbxc_deadline *d, uint64_t want_id,
                    Sbx__Request__BodyCase want_kind, Sbx__Response **resp, const char *what,
                    struct sbx_client_error *err)
{
    ProtobufCMessage *m = NULL;
    size_t nfds = 0;
    /* No answer carries fds: max_fds 0 makes the IPC layer close any that
     * come and refuse the packet. */
    int rc =
        sbx_ipc_recv(c->fd, &sbx__response__descriptor, &m, NULL, &nfds, 0, sbxc_deadline_left(d));
    if (rc == -ETIMEDOUT || rc == -EAGAIN)
        return sbxc_fail(err, SBX_ERROR_TIMEOUT, d->timeout_ms == 0 ? -EAGAIN : -ETIMEDOUT,
                         "%s: nothing from the server in time", what);
    if (rc == -EPIPE || rc == -ECONNRESET)
        return sbxc_broken(c, err, SBX_ERROR_CONNECTION, -EPIPE,
                           "%s: the server closed the connection", what);
    if (rc == -ENOMEM)
        return sbxc_fail(err, SBX_ERROR_SYSTEM, rc, "%s: out of memory receiving", what);
    if (rc == -EPROTO || rc == -ENOBUFS || rc == -EMSGSIZE || rc == -ETOOMANYREFS || rc == -EBADMSG)
        return sbxc_broken(c, err, SBX_ERROR_PROTOCOL, -EPROTO,
                           "%s: malformed message from the server (%s)", what, strerror(-rc));
    if (rc)
        return sbxc_broken(c, err, SBX_ERROR_CONNECTION, rc, "%s: receiving: %s", what,
                           strerror(-rc));

    Sbx__Response *r = (Sbx__Response *)m;
    char why[160];
    if (sbxc_check_response(r, why, sizeof(why))) {
        sbx_ipc_free(m);
        return sbxc_broken(c, err, SBX_ERROR_PROTOCOL, -EPROTO,
                           "%s: invalid message from the server: %s", what, why);
    }
    if (r->id == 0) return take_event(c, r, what, err);
    if (want_id && r->id == want_id) {
        if (!answer_fits(want_kind, r->body_case)) {
            sbx_ipc_free(m);
            return sbxc_broken(c, err, SBX_ERROR_PROTOCOL, -EPROTO,
                               "%s: the server answered with the wrong message type", what);
        }
        *resp = r;
        return 0;
    }
    for (size_t i = 0; i < c->nabandoned; i++)
        if (c->abandoned[i].id == r->id) {
            if (!answer_fits(c->abandoned[i].kind, r->body_case)) {
                sbx_ipc_free(m);
                return sbxc_broken(c, err, SBX_ERROR_PROTOCOL, -EPROTO,
                                   "%s: the server answered with the wrong message type", what);
            }
            return take_late(c, i, r, what, err);
        }
    unsigned long long id = r->id;
    sbx_ipc_free(m);
    return sbxc_broken(c, err, SBX_ERROR_PROTOCOL, -EPROTO,
                       "%s: answer to request %llu, which was never sent or already answered", what,
                       id);
}

int sbxc_pump(struct sbx_client *c, const struct sbxc_deadline *d, const char *what,
              struct sbx_client_error *err)
{
    return read_one(c, d, 0, SBX__REQUEST__BODY__NOT_SET, NULL, what, err);
}

int sbxc_roundtrip(struct sbx_client *c, Sbx__Request *req, const int *fds, size_t nfds,
                   Sbx__Response__BodyCase expect, int timeout_ms, const char *what,
                   Sbx__Response **resp, struct sbx_client_error *err)
{
    (void)expect; /* answer_fits() knows what each request kind expects */
    *resp = NULL;
    int rc = sbxc_check_usable(c, err);
    if (rc) return rc;
    req->has_id = 1;
    req->id = c->next_id++;
    struct sbxc_deadline d;
    sbxc_deadline_start(&d, timeout_ms);
    /* A SEQPACKET send is atomic: if it fails, nothing was sent and the
     * connection is as it was, except when the peer is gone. */
    rc = sbx_ipc_send(c->fd, &req->base, fds, nfds, sbxc_deadline_left(&d));
    switch (rc) {
    case 0: break;
    case -EMSGSIZE:
        return sbxc_fail(err, SBX_ERROR_INVALID_ARGUMENT, -E2BIG,
                         "%s: the request is larger than a message (%u bytes)", what,
                         SBX_IPC_MAX_MESSAGE);
    case -EBADF:
        return sbxc_fail(err, SBX_ERROR_INVALID_ARGUMENT, rc, "%s: an fd is not open", what);
    case -ETIMEDOUT:
    case -EAGAIN:
        return sbxc_fail(err, SBX_ERROR_TIMEOUT, rc, "%s: the server is not reading", what);
    case -ENOMEM:
    case -ENOBUFS: return sbxc_fail(err, SBX_ERROR_SYSTEM, rc, "%s: out of memory sending", what);
    case -EPIPE:
    case -ECONNRESET:
        return sbxc_broken(c, err, SBX_ERROR_CONNECTION, -EPIPE,
                           "%s: the server closed the connection", what);
    default:
        return sbxc_broken(c, err, SBX_ERROR_CONNECTION, rc, "%s: sending: %s", what,
                           strerror(-rc));
    }
    for (;;) {
        rc = read_one(c, &d, req->id, req->body_case, resp, what, err);
        if (rc == 0 && *resp) return 0;
        if (rc == 0) continue; /* a pushed outcome or a late answer */
        /* The request is still the server's to answer: its answer, when it
         * comes, must be recognised (and, for a Wait, kept). */
        if (!c->broken && abandon(c, req))
            return sbxc_broken(c, err, SBX_ERROR_SYSTEM, -ENOMEM, "%s: out of memory", what);
        if (rc == -EAGAIN) rc = -ETIMEDOUT; /* a request always waits for its answer */
        if (rc == -ETIMEDOUT)
            return sbxc_fail(err, SBX_ERROR_TIMEOUT, rc, "%s: no answer from the server in time",
                             what);
        return rc;
    }
}

/* -- Connecting ------------------------------------------------------------ */

static int handshake(struct sbx_client *c, const char *client_name, struct sbx_client_error *err)
{
    Sbx__Request req;
    Sbx__Hello hello;
    sbx__request__init(&req);
    sbx__hello__init(&hello);
    req.body_case = SBX__REQUEST__BODY_HELLO;
    req.hello = &hello;
    hello.has_protocol_version = 1;
    hello.protocol_version = SBX_PROTOCOL_VERSION;
    hello.client_name = (char *)client_name;
    Sbx__Response *r;
    int rc = sbxc_roundtrip(c, &req, NULL, 0, SBX__RESPONSE__BODY_WELCOME,
                            SBXC_HANDSHAKE_TIMEOUT_MS, "connect", &r, err);
    if (rc) return rc;
    if (r->body_case == SBX__RESPONSE__BODY_ERROR) {
        rc = sbxc_server_error(r->error, "connect", err);
        sbx_ipc_free(&r->base);
        return rc;
    }
    const Sbx__Welcome *w = r->welcome;
    if (!w->has_protocol_version || w->protocol_version != SBX_PROTOCOL_VERSION) {
        rc = sbxc_fail(err, SBX_ERROR_UNSUPPORTED_VERSION, -EPROTONOSUPPORT,
                       "connect: the server chose protocol version %u; this library speaks %u",
                       w->has_protocol_version ? w->protocol_version : 0, SBX_PROTOCOL_VERSION);
        sbx_ipc_free(&r->base);
        return rc;
    }
    struct sbx_server_info *i = &c->info;
    i->protocol_version = w->protocol_version;
    sbxc_copy_string(i->server_version, sizeof(i->server_version), w->server_version);
    i->supervisor_pid = w->has_supervisor_pid ? w->supervisor_pid : 0;
    /* Limits the server leaves out are the protocol's; the client never goes
     * beyond its own IPC layer's, whatever the server says. */
    i->max_message_bytes = w->has_max_message_bytes ? w->max_message_bytes : SBX_IPC_MAX_MESSAGE;
    if (i->max_message_bytes > SBX_IPC_MAX_MESSAGE) i->max_message_bytes = SBX_IPC_MAX_MESSAGE;
    i->max_inline_module_bytes =
        w->has_max_inline_module_bytes ? w->max_inline_module_bytes : SBX_IPC_MAX_INLINE_MODULE;
    if (i->max_inline_module_bytes > SBX_IPC_MAX_INLINE_MODULE)
        i->max_inline_module_bytes = SBX_IPC_MAX_INLINE_MODULE;
    i->max_fds_per_message = w->has_max_fds_per_message ? w->max_fds_per_message : SBX_IPC_MAX_FDS;
    if (i->max_fds_per_message > SBX_IPC_MAX_FDS) i->max_fds_per_message = SBX_IPC_MAX_FDS;
    sbx_ipc_free(&r->base);
    return 0;
}

int sbx_connect_fd(int fd, const char *client_name, struct sbx_client **out,
                   struct sbx_client_error *err)
{
    if (out) *out = NULL;
    if (fd < 0 || !out) {
        if (fd >= 0) close(fd);
        return sbxc_fail(err, SBX_ERROR_INVALID_ARGUMENT, -EINVAL, "connect: bad arguments");
    }
    if (!client_name) client_name = "libsbx";
    if (strlen(client_name) > SBX_IPC_MAX_NAME) {
        close(fd);
        return sbxc_fail(err, SBX_ERROR_INVALID_ARGUMENT, -EINVAL,
                         "connect: client name longer than %u bytes", SBX_IPC_MAX_NAME);
    }
    struct sbx_client *c = calloc(1, sizeof(*c));
    if (!c) {
        close(fd);
        return sbxc_fail(err, SBX_ERROR_SYSTEM, -ENOMEM, "connect: out of memory");
    }
    c->fd = fd;
    c->next_id = 1;
    c->request_timeout_ms = -1;
    int rc = handshake(c, client_name, err);
    if (rc) {
        sbx_disconnect(c);
        return rc;
    }
    sbxc_ok(err);
    *out = c;
    return 0;
}

int sbx_connect(const char *socket_path, const char *client_name, struct sbx_client **out,
                struct sbx_client_error *err)
{
    if (out) *out = NULL;
    if (!socket_path || !out)
        return sbxc_fail(err, SBX_ERROR_INVALID_ARGUMENT, -EINVAL, "connect: bad arguments");
    int fd = sbx_ipc_connect(socket_path);
    if (fd < 0)
        return sbxc_fail(err, SBX_ERROR_CONNECTION, fd, "connect: %s: %s", socket_path,
                         strerror(-fd));
    return sbx_connect_fd(fd, client_name, out, err);
}

void sbx_disconnect(struct sbx_client *c)
{
    if (!c) return;
    if (c->fd >= 0) close(c->fd);
    for (size_t i = 0; i < c->nworkers; i++)
        sbx_ipc_free(c->workers[i].outcome ? &c->workers[i].outcome->base : NULL);
    free(c->workers);
    free(c->abandoned);
    free(c);
}

void sbx_server_info(const struct sbx_client *c, struct sbx_server_info *out)
{
    *out = c->info;
}

int sbx_set_request_timeout(struct sbx_client *c, int timeout_ms)
{
    if (!c || timeout_ms == 0 || timeout_ms < -1) return -EINVAL;
    c->request_timeout_ms = timeout_ms;
    return 0;
}

int sbx_client_fd(const struct sbx_client *c)
{
    return c->fd;
}
