/* fd_read, fd_write, fd_pread, fd_pwrite, fd_seek, fd_tell: data transfer
 * on an open fd, with fd syscalls only (readv/writev/preadv/pwritev/lseek).
 *
 * The guest's iovecs point into linear memory, which the host maps, so the
 * kernel copies straight to and from it; every buffer is checked first, so
 * a bad one is EFAULT before any byte moves. A call is split into syscalls
 * of at most IO_CHUNK bytes and IO_WINDOW iovecs, which keeps each syscall
 * and the host stack bounded whatever the guest asks for:
 *   - writes loop until everything is written, or a syscall fails or makes
 *     no progress; bytes written before a failure are reported as success
 *     (the next call sees the error), so short writes are never lost;
 *   - reads stop at the first short read (a pipe or tty returns what it
 *     has; the guest asks again), and at end of file. */
#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "wasi/errno_map.h"
#include "wasi/internal.h"

#define IO_CHUNK  (16u << 20)
#define IO_WINDOW 64

uint16_t wasi_iov_io(struct wasi_call *c, int host, bool write, uint32_t iovs, uint32_t iovs_len,
                     bool positional, uint64_t offset, int sock_flags, uint32_t *done,
                     int *msg_flags_out)
{
    const struct guest_mem *m = &c->mem;
    *done = 0;
    if (msg_flags_out) *msg_flags_out = 0;
    if (!gm_ok(m, iovs, (uint64_t)iovs_len * 8)) return SBX_WASI_EFAULT;
    for (uint32_t i = 0; i < iovs_len; i++)
        if (!gm_ok(m, gm_load_u32(m, iovs + 8 * i), gm_load_u32(m, iovs + 8 * i + 4)))
            return SBX_WASI_EFAULT;
    if (positional && offset > (uint64_t)INT64_MAX) return SBX_WASI_EINVAL;

    uint64_t total = 0;
    uint32_t idx = 0, skip = 0; /* next guest iovec, and bytes of it already done */
    for (;;) {
        struct iovec v[IO_WINDOW];
        uint32_t vidx[IO_WINDOW];
        int n = 0;
        uint64_t want = 0;
        uint32_t i = idx, sk = skip;
        /* A read into memory may have rewritten the iovecs themselves:
         * reload and recheck each one. */
        while (i < iovs_len && n < IO_WINDOW && want < IO_CHUNK && total + want < UINT32_MAX) {
            uint32_t buf = gm_load_u32(m, iovs + 8 * i), len = gm_load_u32(m, iovs + 8 * i + 4);
            if (!gm_ok(m, buf, len)) break;
            uint64_t l = sk < len ? len - sk : 0;
            if (l > IO_CHUNK - want) l = IO_CHUNK - want;
            if (l > UINT32_MAX - total - want) l = UINT32_MAX - total - want;
            if (l) {
                v[n].iov_base = gm_at(m, buf) + sk;
                v[n].iov_len = l;
                vidx[n] = i;
                n++;
                want += l;
            }
            if (sk + l < len) {
                sk += (uint32_t)l;
                break;
            }
            i++;
            sk = 0;
        }
        if (!want) break;
        ssize_t r;
        if (sock_flags >= 0) {
            struct msghdr msg = {.msg_iov = v, .msg_iovlen = (size_t)n};
            r = write ? sendmsg(host, &msg, sock_flags | MSG_NOSIGNAL)
                      : recvmsg(host, &msg, sock_flags);
            if (r >= 0 && msg_flags_out) *msg_flags_out = msg.msg_flags;
        } else if (positional) {
            off_t at = (off_t)(offset + total);
            r = write ? pwritev(host, v, n, at) : preadv(host, v, n, at);
        } else {
            r = write ? writev(host, v, n) : readv(host, v, n);
        }
        if (r < 0) {
            if (errno == EINTR) continue;
            if (total) break;
            return sbx_wasi_errno_from_host(errno);
        }
        total += (uint64_t)r;
        /* Socket calls are one message each: never merge datagrams. */
        if (sock_flags >= 0 || r == 0 || (!write && (uint64_t)r < want)) break;
        /* Advance past what the syscall moved. */
        uint64_t rem = (uint64_t)r;
        int k = 0;
        while (k < n && rem >= v[k].iov_len)
            rem -= v[k++].iov_len;
        if (k < n) {
            skip = (vidx[k] == idx ? skip : 0) + (uint32_t)rem;
            idx = vidx[k];
        } else {
            idx = i;
            skip = sk;
        }
    }
    *done = (uint32_t)total;
    return 0;
}

static int rw(struct wasi_call *c, const union sbx_val *a, bool write, bool positional)
{
    struct wasi_fd *f;
    uint64_t need = write ? SBX_WASI_RIGHT_FD_WRITE : SBX_WASI_RIGHT_FD_READ;
    if (positional) need |= SBX_WASI_RIGHT_FD_SEEK;
    uint16_t e = wasi_fd_get(c->w, a[0].i32, need, &f);
    if (e) return e;
    uint32_t out = positional ? a[4].i32 : a[3].i32;
    if (!gm_ok(&c->mem, out, 4)) return SBX_WASI_EFAULT;
    uint32_t done;
    e = wasi_iov_io(c, f->host, write, a[1].i32, a[2].i32, positional, positional ? a[3].i64 : 0,
                    -1, &done, NULL);
    if (e) return e;
    gm_put_u32(&c->mem, out, done);
    return 0;
}

int wasi_fd_read(struct wasi_call *c, const union sbx_val *a)
{
    return rw(c, a, false, false);
}

int wasi_fd_write(struct wasi_call *c, const union sbx_val *a)
{
    return rw(c, a, true, false);
}

int wasi_fd_pread(struct wasi_call *c, const union sbx_val *a)
{
    return rw(c, a, false, true);
}

int wasi_fd_pwrite(struct wasi_call *c, const union sbx_val *a)
{
    return rw(c, a, true, true);
}

int wasi_fd_seek(struct wasi_call *c, const union sbx_val *a)
{
    int64_t off = (int64_t)a[1].i64;
    uint32_t whence = a[2].i32, out = a[3].i32;
    /* A seek that only reports the position needs no more than fd_tell. */
    uint64_t need = (off == 0 && whence == SBX_WASI_WHENCE_CUR) ? SBX_WASI_RIGHT_FD_TELL
                                                                : SBX_WASI_RIGHT_FD_SEEK;
    struct wasi_fd *f;
    uint16_t e = wasi_fd_get(c->w, a[0].i32, need, &f);
    if (e) return e;
    int how;
    switch (whence) {
    case SBX_WASI_WHENCE_SET: how = SEEK_SET; break;
    case SBX_WASI_WHENCE_CUR: how = SEEK_CUR; break;
    case SBX_WASI_WHENCE_END: how = SEEK_END; break;
    default: return SBX_WASI_EINVAL;
    }
    if (!gm_ok(&c->mem, out, 8)) return SBX_WASI_EFAULT;
    off_t r = lseek(f->host, off, how);
    if (r < 0) return sbx_wasi_errno_from_host(errno);
    gm_put_u64(&c->mem, out, (uint64_t)r);
    return 0;
}

int wasi_fd_tell(struct wasi_call *c, const union sbx_val *a)
{
    struct wasi_fd *f;
    uint16_t e = wasi_fd_get(c->w, a[0].i32, SBX_WASI_RIGHT_FD_TELL, &f);
    if (e) return e;
    if (!gm_ok(&c->mem, a[1].i32, 8)) return SBX_WASI_EFAULT;
    off_t r = lseek(f->host, 0, SEEK_CUR);
    if (r < 0) return sbx_wasi_errno_from_host(errno);
    gm_put_u64(&c->mem, a[1].i32, (uint64_t)r);
    return 0;
}
