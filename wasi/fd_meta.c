/* The fd calls that do not move data: fdstat (type, flags, rights),
 * filestat (fstat, ftruncate, futimens), advise, allocate, sync, close,
 * renumber and the preopen queries. Only fd syscalls: fstat is SYS_fstat
 * (glibc's fstat is the path-based newfstatat) and futimens is
 * utimensat(fd, NULL, ...), which a seccomp filter can allow by checking
 * that the path argument is NULL. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "wasi/errno_map.h"
#include "wasi/internal.h"

static uint16_t host_err(void)
{
    return sbx_wasi_errno_from_host(errno);
}

uint16_t wasi_put_filestat(const struct guest_mem *m, uint32_t p,
                           const struct sbx_wasi_filestat *st)
{
    if (!gm_ok(m, p, 64)) return SBX_WASI_EFAULT;
    memset(gm_at(m, p), 0, 64);
    gm_put_u64(m, p + 0, st->dev);
    gm_put_u64(m, p + 8, st->ino);
    gm_put_u8(m, p + 16, st->filetype);
    gm_put_u64(m, p + 24, st->nlink);
    gm_put_u64(m, p + 32, st->size);
    gm_put_u64(m, p + 40, st->atim);
    gm_put_u64(m, p + 48, st->mtim);
    gm_put_u64(m, p + 56, st->ctim);
    return 0;
}

static uint16_t fdflags_of(int host, uint16_t *out)
{
    int fl = fcntl(host, F_GETFL);
    if (fl < 0) return host_err();
    uint16_t r = 0;
    if (fl & O_APPEND) r |= SBX_WASI_FDFLAG_APPEND;
    if (fl & O_NONBLOCK) r |= SBX_WASI_FDFLAG_NONBLOCK;
    if ((fl & O_SYNC) == O_SYNC)
        r |= SBX_WASI_FDFLAG_SYNC;
    else if (fl & O_DSYNC)
        r |= SBX_WASI_FDFLAG_DSYNC;
    *out = r;
    return 0;
}

int wasi_fd_fdstat_get(struct wasi_call *c, const union sbx_val *a)
{
    struct wasi_fd *f;
    uint16_t e = wasi_fd_get(c->w, a[0].i32, 0, &f);
    if (e) return e;
    uint32_t p = a[1].i32;
    if (!gm_ok(&c->mem, p, 24)) return SBX_WASI_EFAULT;
    uint16_t flags = 0;
    if ((e = fdflags_of(f->host, &flags))) return e;
    memset(gm_at(&c->mem, p), 0, 24);
    gm_put_u8(&c->mem, p, f->filetype);
    gm_put_u16(&c->mem, p + 2, flags);
    gm_put_u64(&c->mem, p + 8, f->base);
    gm_put_u64(&c->mem, p + 16, f->inheriting);
    return 0;
}

int wasi_fd_fdstat_set_flags(struct wasi_call *c, const union sbx_val *a)
{
    struct wasi_fd *f;
    uint16_t e = wasi_fd_get(c->w, a[0].i32, SBX_WASI_RIGHT_FD_FDSTAT_SET_FLAGS, &f);
    if (e) return e;
    uint32_t want = a[1].i32;
    const uint32_t sync = SBX_WASI_FDFLAG_DSYNC | SBX_WASI_FDFLAG_SYNC | SBX_WASI_FDFLAG_RSYNC;
    if (want & ~(sync | SBX_WASI_FDFLAG_APPEND | SBX_WASI_FDFLAG_NONBLOCK)) return SBX_WASI_EINVAL;
    /* Linux's F_SETFL cannot change the sync flags of an open file. */
    uint16_t cur;
    if ((e = fdflags_of(f->host, &cur))) return e;
    uint32_t cur_sync = cur & sync, want_sync = want & sync;
    if (want_sync & SBX_WASI_FDFLAG_RSYNC) want_sync = SBX_WASI_FDFLAG_SYNC; /* O_RSYNC == O_SYNC */
    if (want_sync != cur_sync) return SBX_WASI_ENOTSUP;
    int fl = fcntl(f->host, F_GETFL);
    if (fl < 0) return host_err();
    fl &= ~(O_APPEND | O_NONBLOCK);
    if (want & SBX_WASI_FDFLAG_APPEND) fl |= O_APPEND;
    if (want & SBX_WASI_FDFLAG_NONBLOCK) fl |= O_NONBLOCK;
    if (fcntl(f->host, F_SETFL, fl)) return host_err();
    return 0;
}

int wasi_fd_fdstat_set_rights(struct wasi_call *c, const union sbx_val *a)
{
    struct wasi_fd *f;
    uint16_t e = wasi_fd_get(c->w, a[0].i32, 0, &f);
    if (e) return e;
    uint64_t base = a[1].i64, inh = a[2].i64;
    /* Rights only ever shrink. */
    if ((base & ~f->base) || (inh & ~f->inheriting)) return SBX_WASI_ENOTCAPABLE;
    f->base = base;
    f->inheriting = inh;
    return 0;
}

int wasi_fd_filestat_get(struct wasi_call *c, const union sbx_val *a)
{
    struct wasi_fd *f;
    uint16_t e = wasi_fd_get(c->w, a[0].i32, SBX_WASI_RIGHT_FD_FILESTAT_GET, &f);
    if (e) return e;
    if (!gm_ok(&c->mem, a[1].i32, 64)) return SBX_WASI_EFAULT;
    struct stat st;
    if (syscall(SYS_fstat, f->host, &st)) return host_err();
    struct sbx_wasi_filestat ws;
    sbx_wasi_filestat_from_stat(&st, &ws);
    ws.filetype = f->filetype; /* tells stream sockets from datagram ones */
    return wasi_put_filestat(&c->mem, a[1].i32, &ws);
}

int wasi_fd_filestat_set_size(struct wasi_call *c, const union sbx_val *a)
{
    struct wasi_fd *f;
    uint16_t e = wasi_fd_get(c->w, a[0].i32, SBX_WASI_RIGHT_FD_FILESTAT_SET_SIZE, &f);
    if (e) return e;
    if (a[1].i64 > (uint64_t)INT64_MAX) return SBX_WASI_EINVAL;
    if (ftruncate(f->host, (off_t)a[1].i64)) return host_err();
    return 0;
}

int wasi_fd_filestat_set_times(struct wasi_call *c, const union sbx_val *a)
{
    struct wasi_fd *f;
    uint16_t e = wasi_fd_get(c->w, a[0].i32, SBX_WASI_RIGHT_FD_FILESTAT_SET_TIMES, &f);
    if (e) return e;
    struct timespec ts[2];
    if (a[3].i32 > 0xffff || sbx_wasi_times_to_timespec(a[1].i64, a[2].i64, (uint16_t)a[3].i32, ts))
        return SBX_WASI_EINVAL;
    if (syscall(SYS_utimensat, f->host, NULL, ts, 0)) return host_err();
    return 0;
}

int wasi_fd_advise(struct wasi_call *c, const union sbx_val *a)
{
    struct wasi_fd *f;
    uint16_t e = wasi_fd_get(c->w, a[0].i32, SBX_WASI_RIGHT_FD_ADVISE, &f);
    if (e) return e;
    static const int advice[] = {POSIX_FADV_NORMAL,   POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
                                 POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED,   POSIX_FADV_NOREUSE};
    uint32_t adv = a[3].i32;
    if (adv >= sizeof(advice) / sizeof(advice[0])) return SBX_WASI_EINVAL;
    if (a[1].i64 > (uint64_t)INT64_MAX || a[2].i64 > (uint64_t)INT64_MAX) return SBX_WASI_EINVAL;
    int r = posix_fadvise(f->host, (off_t)a[1].i64, (off_t)a[2].i64, advice[adv]);
    return r ? sbx_wasi_errno_from_host(r) : 0;
}

int wasi_fd_allocate(struct wasi_call *c, const union sbx_val *a)
{
    struct wasi_fd *f;
    uint16_t e = wasi_fd_get(c->w, a[0].i32, SBX_WASI_RIGHT_FD_ALLOCATE, &f);
    if (e) return e;
    uint64_t off = a[1].i64, len = a[2].i64;
    if (off > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX) return SBX_WASI_EINVAL;
    if (off + len > (uint64_t)INT64_MAX) return SBX_WASI_EFBIG;
    /* Mode 0: allocate and extend the size if needed, as the spec says. */
    if (fallocate(f->host, 0, (off_t)off, (off_t)len)) return host_err();
    return 0;
}

int wasi_fd_datasync(struct wasi_call *c, const union sbx_val *a)
{
    struct wasi_fd *f;
    uint16_t e = wasi_fd_get(c->w, a[0].i32, SBX_WASI_RIGHT_FD_DATASYNC, &f);
    if (e) return e;
    return fdatasync(f->host) ? host_err() : 0;
}

int wasi_fd_sync(struct wasi_call *c, const union sbx_val *a)
{
    struct wasi_fd *f;
    uint16_t e = wasi_fd_get(c->w, a[0].i32, SBX_WASI_RIGHT_FD_SYNC, &f);
    if (e) return e;
    return fsync(f->host) ? host_err() : 0;
}

int wasi_fd_close(struct wasi_call *c, const union sbx_val *a)
{
    struct wasi_fd *f;
    uint16_t e = wasi_fd_get(c->w, a[0].i32, 0, &f);
    if (e) return e;
    c->w->fds[a[0].i32] = NULL;
    /* close(2) always releases the fd, even when it reports an error;
     * like wasmtime, the guest is not told about a failed flush here. */
    wasi_fd_free(f);
    return 0;
}

int wasi_fd_renumber(struct wasi_call *c, const union sbx_val *a)
{
    struct wasi_fd *from, *to;
    uint16_t e = wasi_fd_get(c->w, a[0].i32, 0, &from);
    if (e) return e;
    if ((e = wasi_fd_get(c->w, a[1].i32, 0, &to))) return e;
    if (from == to) return 0;
    wasi_fd_free(to);
    c->w->fds[a[1].i32] = from;
    c->w->fds[a[0].i32] = NULL;
    return 0;
}

int wasi_fd_prestat_get(struct wasi_call *c, const union sbx_val *a)
{
    struct wasi_fd *f;
    uint16_t e = wasi_fd_get(c->w, a[0].i32, 0, &f);
    if (e) return e;
    /* EBADF for fds that are not preopens: wasi-libc stops its scan there. */
    if (!f->prestat) return SBX_WASI_EBADF;
    uint32_t p = a[1].i32;
    if (!gm_ok(&c->mem, p, 8)) return SBX_WASI_EFAULT;
    memset(gm_at(&c->mem, p), 0, 8);
    gm_put_u8(&c->mem, p, 0); /* preopentype: dir */
    gm_put_u32(&c->mem, p + 4, (uint32_t)strlen(f->prestat));
    return 0;
}

int wasi_fd_prestat_dir_name(struct wasi_call *c, const union sbx_val *a)
{
    struct wasi_fd *f;
    uint16_t e = wasi_fd_get(c->w, a[0].i32, 0, &f);
    if (e) return e;
    if (!f->prestat) return SBX_WASI_EBADF;
    uint32_t p = a[1].i32, len = a[2].i32;
    size_t n = strlen(f->prestat);
    if (len < n) return SBX_WASI_ENAMETOOLONG;
    if (!gm_ok(&c->mem, p, n)) return SBX_WASI_EFAULT;
    if (n) memcpy(gm_at(&c->mem, p), f->prestat, n);
    return 0;
}
