/* ipc/validate.h: checks of untrusted messages against ipc/limits.h, after
 * unpacking and before anything acts on them. Each check is stateless:
 * ordering rules (Hello first) belong to the caller's connection state.
 * A refused message comes with the Error code and message to reply with. */
#ifndef SBX_IPC_VALIDATE_H
#define SBX_IPC_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "proto/sbx.pb-c.h"

struct sbx_ipc_reject {
    Sbx__ErrorCode code; /* BAD_REQUEST or LIMIT */
    uint64_t request_id; /* the message's id when it had one, else 0: echo it */
    char message[160];   /* names the field, e.g. "spawn.argv[3]: longer than 4096 bytes" */
};

/* Each returns 0, or -EBADMSG with *why filled. `nfds` is the number of fds
 * that came with the message: every fd_index must be below it, none used
 * twice, and all of them used. On -EBADMSG the caller closes the fds. */
int sbx_ipc_validate_request(const Sbx__Request *req, size_t nfds, struct sbx_ipc_reject *why);
int sbx_ipc_validate_control_request(const Sbx__ControlRequest *req, size_t nfds,
                                     struct sbx_ipc_reject *why);
int sbx_ipc_validate_control_reply(const Sbx__ControlReply *rep, size_t nfds,
                                   struct sbx_ipc_reject *why);
int sbx_ipc_validate_from_worker(const Sbx__FromWorker *msg, size_t nfds,
                                 struct sbx_ipc_reject *why);

/* Unpacks and validates a client's request from bytes: 0 with *out set, or
 * -errno with *why filled (the codes of sbx_ipc_unpack, or -EBADMSG). */
int sbx_ipc_decode_request(const void *buf, size_t len, size_t nfds, Sbx__Request **out,
                           struct sbx_ipc_reject *why);

/* What a server calls on a readable client socket: receives one Request
 * (at most SBX_IPC_MAX_FDS fds; `fds` has room for that many), validates it, and either hands over
 * the request and its fds or closes the fds and fills *why with the error to send back (after which
 * -EPIPE and transport errors mean: drop the connection). */
int sbx_ipc_recv_request(int fd, Sbx__Request **out, int *fds, size_t *nfds, int timeout_ms,
                         struct sbx_ipc_reject *why);

#endif
