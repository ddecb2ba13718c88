/* sock_accept, sock_recv, sock_send, sock_shutdown, on sockets the host
 * handed in through the config (preview1 cannot create sockets, and the
 * worker's seccomp filter forbids socket() anyway). accept4, recvmsg,
 * sendmsg and shutdown are fd syscalls. Sends use MSG_NOSIGNAL, so a peer
 * that has gone away is EPIPE, not a SIGPIPE that kills the process. */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wasi/errno_map.h"
#include "wasi/internal.h"

int wasi_sock_accept(struct wasi_call *c, const union sbx_val *a)
{
    struct wasi_fd *f;
    uint16_t e = wasi_fd_get(c->w, a[0].i32, SBX_WASI_RIGHT_SOCK_ACCEPT, &f);
    if (e) return e;
    uint32_t flags = a[1].i32, out = a[2].i32;
    if (flags & ~SBX_WASI_FDFLAG_NONBLOCK) return SBX_WASI_EINVAL;
    if (!gm_ok(&c->mem, out, 4)) return SBX_WASI_EFAULT;
    int host;
    do
        host = accept4(f->host, NULL, NULL,
                       SOCK_CLOEXEC | ((flags & SBX_WASI_FDFLAG_NONBLOCK) ? SOCK_NONBLOCK : 0));
    while (host < 0 && errno == EINTR);
    if (host < 0) return sbx_wasi_errno_from_host(errno);
    /* The connection is a socket of the listener's type and gets its
     * rights, less accept itself: no fstat/getsockopt needed, so the
     * worker's seccomp filter need not allow them for this call. */
    struct wasi_fd *n = calloc(1, sizeof(*n));
    if (!n) {
        close(host);
        return SBX_WASI_ENOMEM;
    }
    n->host = host;
    n->filetype = f->filetype;
    n->base = f->base & ~SBX_WASI_RIGHT_SOCK_ACCEPT;
    n->preopen = -1;
    uint32_t fd;
    if ((e = wasi_fd_insert(c->w, n, &fd))) return e;
    gm_put_u32(&c->mem, out, fd);
    return 0;
}

int wasi_sock_recv(struct wasi_call *c, const union sbx_val *a)
{
    struct wasi_fd *f;
    uint16_t e = wasi_fd_get(c->w, a[0].i32, SBX_WASI_RIGHT_FD_READ, &f);
    if (e) return e;
    uint32_t riflags = a[3].i32, len_ptr = a[4].i32, flags_ptr = a[5].i32;
    if (riflags & ~(SBX_WASI_RIFLAG_RECV_PEEK | SBX_WASI_RIFLAG_RECV_WAITALL))
        return SBX_WASI_EINVAL;
    if (!gm_ok(&c->mem, len_ptr, 4) || !gm_ok(&c->mem, flags_ptr, 2)) return SBX_WASI_EFAULT;
    int fl = 0;
    if (riflags & SBX_WASI_RIFLAG_RECV_PEEK) fl |= MSG_PEEK;
    if (riflags & SBX_WASI_RIFLAG_RECV_WAITALL) fl |= MSG_WAITALL;
    uint32_t done;
    int msg_flags;
    e = wasi_iov_io(c, f->host, false, a[1].i32, a[2].i32, false, 0, fl, &done, &msg_flags);
    if (e) return e;
    gm_put_u32(&c->mem, len_ptr, done);
    gm_put_u16(&c->mem, flags_ptr, (msg_flags & MSG_TRUNC) ? SBX_WASI_ROFLAG_DATA_TRUNCATED : 0);
    return 0;
}

int wasi_sock_send(struct wasi_call *c, const union sbx_val *a)
{
    struct wasi_fd *f;
    uint16_t e = wasi_fd_get(c->w, a[0].i32, SBX_WASI_RIGHT_FD_WRITE, &f);
    if (e) return e;
    uint32_t siflags = a[3].i32, len_ptr = a[4].i32;
    if (siflags) return SBX_WASI_EINVAL; /* preview1 defines no send flags */
    if (!gm_ok(&c->mem, len_ptr, 4)) return SBX_WASI_EFAULT;
    uint32_t done;
    e = wasi_iov_io(c, f->host, true, a[1].i32, a[2].i32, false, 0, 0, &done, NULL);
    if (e) return e;
    gm_put_u32(&c->mem, len_ptr, done);
    return 0;
}

int wasi_sock_shutdown(struct wasi_call *c, const union sbx_val *a)
{
    struct wasi_fd *f;
    uint16_t e = wasi_fd_get(c->w, a[0].i32, SBX_WASI_RIGHT_SOCK_SHUTDOWN, &f);
    if (e) return e;
    uint32_t how = a[1].i32;
    int h;
    switch (how) {
    case SBX_WASI_SDFLAG_RD: h = SHUT_RD; break;
    case SBX_WASI_SDFLAG_WR: h = SHUT_WR; break;
    case SBX_WASI_SDFLAG_RD | SBX_WASI_SDFLAG_WR: h = SHUT_RDWR; break;
    default: return SBX_WASI_EINVAL;
    }
    if (shutdown(f->host, h)) return sbx_wasi_errno_from_host(errno);
    return 0;
}
