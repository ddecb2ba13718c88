/* ipc/send.c: packing a message and sending it as one packet with its fds. */
#include "ipc/msg.h"
#include "ipc/limits.h"
#include "ipc/wait_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int sbx_ipc_send_raw(int fd, const void *buf, size_t len, const int *fds, size_t nfds,
                     int timeout_ms)
{
    if ((len && !buf) || (nfds && !fds)) return -EINVAL;
    if (len > SBX_IPC_MAX_MESSAGE) return -EMSGSIZE;
    if (nfds > SBX_IPC_MAX_FDS) return -ETOOMANYREFS;

    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * SBX_IPC_MAX_FDS)];
    } control;
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    if (nfds) {
        memset(&control, 0, sizeof(control));
        mh.msg_control = control.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    }

    struct ipc_deadline d;
    ipc_deadline_start(&d, timeout_ms);
    for (;;) {
        /* MSG_NOSIGNAL: a closed peer is -EPIPE, not a SIGPIPE. */
        ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0) return (size_t)n == len ? 0 : -EIO; /* SEQPACKET sends whole or not at all */
        if (errno == EINTR) continue;
        if (errno != EAGAIN) return -errno;
        int rc = ipc_wait_fd(fd, POLLOUT, &d);
        if (rc) return rc;
    }
}

int sbx_ipc_send(int fd, const ProtobufCMessage *msg, const int *fds, size_t nfds, int timeout_ms)
{
    if (!msg) return -EINVAL;
    size_t len = protobuf_c_message_get_packed_size(msg);
    if (len == 0) return -EINVAL;
    if (len > SBX_IPC_MAX_MESSAGE) return -EMSGSIZE;
    /* Most messages are small: pack them on the stack. */
    uint8_t small[2048];
    uint8_t *buf = len <= sizeof(small) ? small : malloc(len);
    if (!buf) return -ENOMEM;
    size_t packed = protobuf_c_message_pack(msg, buf);
    int rc = packed == len ? sbx_ipc_send_raw(fd, buf, len, fds, nfds, timeout_ms) : -EIO;
    if (buf != small) free(buf);
    return rc;
}
