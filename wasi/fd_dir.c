/* fd_readdir with getdents64 on the directory's host fd (no path syscall,
 * no opendir). A cookie is the kernel's d_off: the directory position just
 * after an entry, which lseek accepts back. Each call seeks to the guest's
 * cookie (0 = the start) and writes entries from there, so cookies stay
 * valid across calls, across other fds reading the same directory, and
 * across entries added or removed elsewhere in the directory (d_off is the
 * filesystem's stable position: a hash on ext4, an index that survives
 * changes on tmpfs since Linux 6.6).
 *
 * Each entry is a 24-byte dirent (d_next, d_ino, d_namlen, d_type) and its
 * name without a NUL. The last entry is cut off when the buffer ends, and
 * bufused == buf_len tells the guest to ask again (with a larger buffer if
 * not even one entry fit), as preview1 specifies. "." and ".." are listed,
 * as the kernel lists them. d_type comes from the kernel's DT_* value;
 * filesystems that report DT_UNKNOWN give WASI's unknown type (finding out
 * would take a path-based stat). */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "wasi/errno_map.h"
#include "wasi/internal.h"

#define DIRENT_BUF 32768

/* The kernel's record, as getdents64 returns it. */
struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

static uint8_t filetype_of_dtype(unsigned char t)
{
    switch (t) {
    case DT_BLK: return SBX_WASI_FILETYPE_BLOCK_DEVICE;
    case DT_CHR: return SBX_WASI_FILETYPE_CHARACTER_DEVICE;
    case DT_DIR: return SBX_WASI_FILETYPE_DIRECTORY;
    case DT_REG: return SBX_WASI_FILETYPE_REGULAR_FILE;
    case DT_SOCK: return SBX_WASI_FILETYPE_SOCKET_STREAM;
    case DT_LNK: return SBX_WASI_FILETYPE_SYMBOLIC_LINK;
    default: return SBX_WASI_FILETYPE_UNKNOWN;
    }
}

int wasi_fd_readdir(struct wasi_call *c, const union sbx_val *a)
{
    struct wasi_fd *f;
    uint16_t e = wasi_fd_get(c->w, a[0].i32, SBX_WASI_RIGHT_FD_READDIR, &f);
    if (e) return e;
    if (f->filetype != SBX_WASI_FILETYPE_DIRECTORY) return SBX_WASI_ENOTDIR;
    uint32_t buf = a[1].i32, len = a[2].i32, used_ptr = a[4].i32;
    uint64_t cookie = a[3].i64;
    const struct guest_mem *m = &c->mem;
    if (!gm_ok(m, buf, len) || !gm_ok(m, used_ptr, 4)) return SBX_WASI_EFAULT;
    if (cookie > (uint64_t)INT64_MAX) return SBX_WASI_EINVAL;
    if (!c->w->dirent_buf && !(c->w->dirent_buf = malloc(DIRENT_BUF))) return SBX_WASI_ENOMEM;
    if (lseek(f->host, (off_t)cookie, SEEK_SET) < 0) return sbx_wasi_errno_from_host(errno);

    uint32_t used = 0;
    while (used < len) {
        long n = syscall(SYS_getdents64, f->host, c->w->dirent_buf, DIRENT_BUF);
        if (n < 0) {
            if (errno == EINTR) continue;
            return sbx_wasi_errno_from_host(errno);
        }
        if (n == 0) break; /* end of directory */
        for (long off = 0; off < n && used < len;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(c->w->dirent_buf + off);
            off += d->d_reclen;
            uint32_t namlen = (uint32_t)strlen(d->d_name);
            uint8_t hdr[24] = {0};
            uint64_t next = (uint64_t)d->d_off;
            memcpy(hdr, &next, 8);
            memcpy(hdr + 8, &d->d_ino, 8);
            memcpy(hdr + 16, &namlen, 4);
            hdr[20] = filetype_of_dtype(d->d_type);
            uint32_t k = len - used < 24 ? len - used : 24;
            memcpy(gm_at(m, buf + used), hdr, k);
            used += k;
            k = len - used < namlen ? len - used : namlen;
            if (k) memcpy(gm_at(m, buf + used), d->d_name, k);
            used += k;
        }
    }
    gm_put_u32(m, used_ptr, used);
    return 0;
}
