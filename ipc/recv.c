/* ipc/recv.c: receiving one packet with its fds. Every way a packet can be
 * wrong (too big, too many fds, odd control data, bytes that do not unpack)
 * ends the same way: the packet is consumed, every fd it brought is closed
 * and the caller gets -errno. */
#include "ipc/msg.h"
#include "ipc/limits.h"
#include "ipc/recv_internal.h"
#include "ipc/wait_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Room for one more fd than any packet may carry, so "too many" shows up as
 * a count rather than only as MSG_CTRUNC. */
#define CONTROL_FDS (SBX_IPC_MAX_FDS + 1)
#define CONTROL_LEN CMSG_SPACE(sizeof(int) * CONTROL_FDS)
/* The kernel fills the whole buffer, padding included, so it may install a
 * few more fds than CONTROL_FDS: every one of them must be seen to be
 * closed. This bounds how many fit. */
#define GOT_MAX (CONTROL_LEN / sizeof(int))

/* Moves the fds of every SCM_RIGHTS message into got[] and reports other
 * control data. */
static int collect_fds(struct msghdr *mh, int *got, size_t *ngot)
{
    int rc = 0;
    *ngot = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
            rc = -EBADMSG;
            continue;
        }
        size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < n && *ngot < GOT_MAX; i++)
            memcpy(&got[(*ngot)++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
    }
    return rc;
}

/* Receives one packet into buf (SBX_IPC_MAX_MESSAGE bytes) and unpacks it
 * with `unpack`: sbx_ipc_recv's contract, whoever owns the storage. */
int ipc_recv_into(int fd, uint8_t *buf, int *fds, size_t *nfds, size_t max_fds, int timeout_ms,
                  int (*unpack)(const void *buf, size_t len, void *ctx), void *ctx)
{
    if (nfds) *nfds = 0;
    if (!nfds || (max_fds && !fds)) return -EINVAL;
    if (max_fds > SBX_IPC_MAX_FDS) max_fds = SBX_IPC_MAX_FDS;

    union {
        struct cmsghdr align;
        char buf[CONTROL_LEN];
    } control;
    /* One byte more than the cap would be enough to see truncation, but
     * MSG_TRUNC makes recvmsg return the packet's real length anyway. */
    struct iovec iov = {.iov_base = buf, .iov_len = SBX_IPC_MAX_MESSAGE};
    struct msghdr mh;
    ssize_t len;
    struct ipc_deadline d;
    ipc_deadline_start(&d, timeout_ms);
    /* Who waits without a deadline is usually early: waiting first, the
     * receive finds its packet rather than failing with EAGAIN. That is a
     * system call less, and no errno written: in a process that has forked
     * (a template, a warm worker) errno's page is one more copy-on-write
     * fault. */
    if (d.timeout_ms < 0) {
        int rc = ipc_wait_fd(fd, POLLIN, &d);
        if (rc) return rc;
    }
    for (;;) {
        memset(&mh, 0, sizeof(mh));
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = control.buf;
        mh.msg_controllen = sizeof(control.buf);
        len = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT | MSG_TRUNC);
        if (len >= 0) break;
        int rc = errno;
        if (rc == EINTR) continue;
        if (rc == EAGAIN) rc = -ipc_wait_fd(fd, POLLIN, &d);
        if (rc) return -rc;
    }

    int got[GOT_MAX];
    size_t ngot = 0;
    int rc = collect_fds(&mh, got, &ngot);
    if (!rc && (mh.msg_flags & MSG_CTRUNC)) rc = -ETOOMANYREFS;
    if (!rc && ngot > max_fds) rc = -ETOOMANYREFS;
    if (!rc && (size_t)len > SBX_IPC_MAX_MESSAGE) rc = -EMSGSIZE;
    if (!rc && len == 0) rc = -EPIPE; /* end of stream; senders never send empty packets */
    if (!rc) rc = unpack(buf, (size_t)len, ctx);
    if (rc) {
        sbx_ipc_close_fds(got, ngot);
        return rc;
    }
    if (ngot) memcpy(fds, got, ngot * sizeof(int));
    *nfds = ngot;
    return 0;
}

struct plain_unpack {
    const ProtobufCMessageDescriptor *desc;
    ProtobufCMessage **out;
};

static int plain_unpack(const void *buf, size_t len, void *ctx)
{
    struct plain_unpack *u = ctx;
    return sbx_ipc_unpack(u->desc, buf, len, u->out);
}

int sbx_ipc_recv(int fd, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out, int *fds,
                 size_t *nfds, size_t max_fds, int timeout_ms)
{
    if (out) *out = NULL;
    if (nfds) *nfds = 0;
    if (!desc || !out) return -EINVAL;
    uint8_t *buf = malloc(SBX_IPC_MAX_MESSAGE);
    if (!buf) return -ENOMEM;
    struct plain_unpack u = {desc, out};
    int rc = ipc_recv_into(fd, buf, fds, nfds, max_fds, timeout_ms, plain_unpack, &u);
    free(buf);
    return rc;
}
