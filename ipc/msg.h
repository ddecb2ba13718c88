/* ipc/msg.h: one protobuf message per SOCK_SEQPACKET packet, with fds by
 * SCM_RIGHTS, a hard size cap, timeouts and no fd leak on any path.
 *
 * Every function returns 0 (or a count) on success and -errno on failure;
 * none prints, none keeps state between calls. `timeout_ms` is -1 to wait as
 * long as it takes, 0 to try once (-EAGAIN if the socket is not ready), or a
 * number of milliseconds (-ETIMEDOUT when it runs out). EINTR is retried with
 * the remaining time. */
#ifndef SBX_IPC_MSG_H
#define SBX_IPC_MSG_H

#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

/* Packs `msg` and sends it with `nfds` fds (which stay the caller's). Errors:
 * -EMSGSIZE if it packs to more than SBX_IPC_MAX_MESSAGE, -EINVAL if it packs
 * to nothing (an empty packet reads as end of stream), -ETOOMANYREFS if nfds
 * > SBX_IPC_MAX_FDS, -EPIPE if the peer is gone, or sendmsg's error. */
int sbx_ipc_send(int fd, const ProtobufCMessage *msg, const int *fds, size_t nfds, int timeout_ms);

/* Sends `len` bytes as one packet, as they are (tests, forwarding). */
int sbx_ipc_send_raw(int fd, const void *buf, size_t len, const int *fds, size_t nfds,
                     int timeout_ms);

/* Receives one packet and unpacks it as `desc` with a bounded allocator.
 * On success *out is the message (free it with sbx_ipc_free) and fds[0..*nfds)
 * are the fds that came with it, close-on-exec, now the caller's. At most
 * `max_fds` are accepted (the size of `fds`; at most SBX_IPC_MAX_FDS).
 *
 * On failure *out is NULL, *nfds is 0, every fd received has been closed and
 * the packet is consumed:
 *   -EPIPE        the peer closed the connection (or sent an empty packet)
 *   -EMSGSIZE     the packet was larger than SBX_IPC_MAX_MESSAGE
 *   -ETOOMANYREFS more fds than max_fds, or control data that did not fit
 *   -EBADMSG      control data other than SCM_RIGHTS
 *   -EPROTO       the bytes are not a `desc` message
 *   -ENOBUFS      unpacking would allocate more than SBX_IPC_UNPACK_BUDGET
 *   -ENOMEM, -EAGAIN, -ETIMEDOUT, or recvmsg's error.
 * Whether the fds match what the message says is the validator's business
 * (validate.h); a caller that refuses the message closes them with
 * sbx_ipc_close_fds. */
int sbx_ipc_recv(int fd, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out, int *fds,
                 size_t *nfds, size_t max_fds, int timeout_ms);

/* Unpacks `len` bytes as `desc` with the per-message allocation budget:
 * 0, -EPROTO or -ENOBUFS as above. */
int sbx_ipc_unpack(const ProtobufCMessageDescriptor *desc, const void *buf, size_t len,
                   ProtobufCMessage **out);

/* Storage for receiving without malloc (sbx_ipc_recv_arena): `packet`
 * holds SBX_IPC_MAX_MESSAGE bytes, `mem` `size` bytes for the unpacked
 * message (what does not fit is malloc'd and freed as usual). One message
 * at a time lives in an arena: the next receive reuses it. `used` is the
 * arena's own bookkeeping. */
struct sbx_ipc_arena {
    uint8_t *packet;
    uint8_t *mem;
    size_t size;
    size_t used;
};

/* sbx_ipc_recv into the caller's arena instead of malloc'd memory, for a
 * process that forks after each message (the zygote: every page it writes
 * after a fork is a copy-on-write fault). Same results and errors, plus
 * -EINVAL for an arena without storage. Free the message with
 * sbx_ipc_arena_free, before the next receive into the same arena. */
int sbx_ipc_recv_arena(int fd, const ProtobufCMessageDescriptor *desc, struct sbx_ipc_arena *a,
                       ProtobufCMessage **out, int *fds, size_t *nfds, size_t max_fds,
                       int timeout_ms);
void sbx_ipc_arena_free(struct sbx_ipc_arena *a, ProtobufCMessage *msg);

/* Frees a message from sbx_ipc_recv or sbx_ipc_unpack; NULL is ignored. */
void sbx_ipc_free(ProtobufCMessage *msg);

/* Closes fds[0..n) (those >= 0) and sets each to -1. */
void sbx_ipc_close_fds(int *fds, size_t n);

#endif
