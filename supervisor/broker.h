/* The WASI path broker, supervisor side: runs the path-based WASI calls of
 * a confined worker, which has no path system calls of its own (its side is
 * wasi/path_broker.h). Each worker gets a struct sbx_broker holding the host
 * directories of its preopens, in the order the worker's WASI config lists
 * them (a request names a preopen by that index).
 *
 *   struct sbx_broker *b;
 *   sbx_broker_new(preopens, n, &b);
 *   ... for each FromWorker received on the worker's channel, after
 *       sbx_ipc_validate_from_worker, with body PATH:
 *   rc = sbx_broker_serve(b, channel, msg);   // replies, fd attached for open
 *   if (rc == -EBADMSG) kill and report the worker; other rc < 0: drop it
 *   ...
 *   sbx_broker_free(b);
 *
 * Every lookup is the local resolver's (wasi/path_local.h): openat2 with
 * RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS from the preopen's root, and the
 * read-only rule applied again here, whatever the worker's rights say. The
 * broker trusts nothing in a request but the shape the validator checked.
 * Library code: it never prints. Not thread-safe per broker. */
#ifndef SBX_SUPERVISOR_BROKER_H
#define SBX_SUPERVISOR_BROKER_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/sbx.pb-c.h"

/* One preopened directory. */
struct sbx_broker_preopen {
    const char *host_path; /* opened O_RDONLY | O_DIRECTORY when host_fd < 0 */
    int host_fd;           /* else duplicated (the caller keeps its own); a directory */
    /* What the guest calls it. The broker does not need it (requests carry
     * the index); it is here so one list can describe both sides. */
    const char *guest_path;
    bool read_only; /* nothing beneath is modified, no writable fd is handed out */
};

struct sbx_broker;

/* Opens or duplicates each preopen's directory. Returns 0, or -errno (of
 * open, or -ENOTDIR, -ENOMEM, -EINVAL for a preopen with neither path nor
 * fd); nothing is kept on failure. */
int sbx_broker_new(const struct sbx_broker_preopen *preopens, size_t n, struct sbx_broker **out);

/* The root directory fd of preopen i (O_RDONLY | O_DIRECTORY, owned by the
 * broker), or -1 past the end. The worker's WASI config needs a directory
 * fd of each preopen for the fd calls on it (fd_readdir, ...): hand it a
 * duplicate of this one. */
int sbx_broker_root_fd(const struct sbx_broker *b, size_t i);
size_t sbx_broker_count(const struct sbx_broker *b);

/* Closes the roots and frees b. NULL is ignored. */
void sbx_broker_free(struct sbx_broker *b);

/* Runs the PathRequest in `msg` (a FromWorker with body PATH) and sends the
 * PathReply (same id) on `channel`, with the new fd attached for a
 * successful open; the broker's copy of that fd is closed either way. The
 * send does not wait: a worker waits for each reply before its next
 * request, so its channel always has room for one.
 *
 * Returns
 *   0         answered (whatever the WASI errno);
 *   -EBADMSG  no reply sent: the request fails sbx_ipc_validate_from_worker
 *             (checked again here) or is well formed but wrong for this
 *             worker (a preopen index past the end). The WASI library never
 *             sends such a request, so the worker is hostile: the caller
 *             kills it and reports it;
 *   -EINVAL   msg is not a path request (the caller's mistake);
 *   other     the reply could not be sent (-EPIPE: the worker is gone;
 *             -EAGAIN: it is not reading its replies): drop the worker. */
int sbx_broker_serve(struct sbx_broker *b, int channel, const Sbx__FromWorker *msg);

#endif
