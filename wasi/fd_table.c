/* The guest's fd table: guest fd numbers -> host fds with their WASI file
 * type and rights. New fds take the lowest free number, as POSIX and
 * wasmtime do. A file's type and rights are fixed when it enters the table
 * (rights can only shrink afterwards, through fd_fdstat_set_rights). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "wasi/errno_map.h"
#include "wasi/internal.h"

uint16_t wasi_fd_get(struct sbx_wasi *w, uint32_t fd, uint64_t rights, struct wasi_fd **out)
{
    *out = NULL;
    if (fd >= w->nfds || !w->fds[fd]) return SBX_WASI_EBADF;
    if ((w->fds[fd]->base & rights) != rights) return SBX_WASI_ENOTCAPABLE;
    *out = w->fds[fd];
    return 0;
}

void wasi_fd_free(struct wasi_fd *f)
{
    if (!f) return;
    if (f->host >= 0) close(f->host);
    free(f->dir);
    free(f->prestat);
    free(f);
}

static uint16_t grow(struct sbx_wasi *w, uint32_t need)
{
    if (need <= w->nfds) return 0;
    if (need > WASI_MAX_FDS) return SBX_WASI_EMFILE;
    uint32_t n = w->nfds ? w->nfds : 8;
    while (n < need)
        n *= 2;
    if (n > WASI_MAX_FDS) n = WASI_MAX_FDS;
    struct wasi_fd **fds = realloc(w->fds, n * sizeof(*fds));
    if (!fds) return SBX_WASI_ENOMEM;
    for (uint32_t i = w->nfds; i < n; i++)
        fds[i] = NULL;
    w->fds = fds;
    w->nfds = n;
    return 0;
}

uint16_t wasi_fd_place(struct sbx_wasi *w, uint32_t fd, struct wasi_fd *f)
{
    uint16_t e = fd < WASI_MAX_FDS ? grow(w, fd + 1) : SBX_WASI_EMFILE;
    if (!e && w->fds[fd]) e = SBX_WASI_EBADF;
    if (e) {
        wasi_fd_free(f);
        return e;
    }
    w->fds[fd] = f;
    return 0;
}

uint16_t wasi_fd_insert(struct sbx_wasi *w, struct wasi_fd *f, uint32_t *fd)
{
    uint32_t i = 0;
    while (i < w->nfds && w->fds[i])
        i++;
    *fd = i;
    return wasi_fd_place(w, i, f);
}

uint8_t wasi_filetype_of(int host, uint16_t *err)
{
    struct stat st;
    *err = 0;
    /* SYS_fstat: glibc's fstat is newfstatat(fd, ""), a path syscall. */
    if (syscall(SYS_fstat, host, &st)) {
        *err = sbx_wasi_errno_from_host(errno);
        return SBX_WASI_FILETYPE_UNKNOWN;
    }
    switch (st.st_mode & S_IFMT) {
    case S_IFBLK: return SBX_WASI_FILETYPE_BLOCK_DEVICE;
    case S_IFCHR: return SBX_WASI_FILETYPE_CHARACTER_DEVICE;
    case S_IFDIR: return SBX_WASI_FILETYPE_DIRECTORY;
    case S_IFREG: return SBX_WASI_FILETYPE_REGULAR_FILE;
    case S_IFLNK: return SBX_WASI_FILETYPE_SYMBOLIC_LINK;
    case S_IFSOCK: {
        int type = 0;
        socklen_t len = sizeof(type);
        if (getsockopt(host, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_DGRAM)
            return SBX_WASI_FILETYPE_SOCKET_DGRAM;
        return SBX_WASI_FILETYPE_SOCKET_STREAM;
    }
    default: return SBX_WASI_FILETYPE_UNKNOWN; /* FIFOs */
    }
}

uint64_t wasi_rights_for(uint8_t filetype, int host_flags)
{
    uint64_t r;
    switch (filetype) {
    case SBX_WASI_FILETYPE_REGULAR_FILE:
    case SBX_WASI_FILETYPE_BLOCK_DEVICE: r = WASI_RIGHTS_REGULAR; break;
    case SBX_WASI_FILETYPE_DIRECTORY: r = WASI_RIGHTS_DIR; break;
    case SBX_WASI_FILETYPE_SOCKET_STREAM:
    case SBX_WASI_FILETYPE_SOCKET_DGRAM: r = WASI_RIGHTS_SOCKET; break;
    default: r = WASI_RIGHTS_STREAM; break;
    }
    int acc = host_flags & O_ACCMODE;
    if (filetype != SBX_WASI_FILETYPE_DIRECTORY) {
        if (acc == O_RDONLY)
            r &= ~(SBX_WASI_RIGHT_FD_WRITE | SBX_WASI_RIGHT_FD_ALLOCATE |
                   SBX_WASI_RIGHT_FD_FILESTAT_SET_SIZE);
        if (acc == O_WRONLY) r &= ~SBX_WASI_RIGHT_FD_READ;
    }
    return r;
}

struct wasi_fd *wasi_fd_from_host(int host, uint64_t mask, uint16_t *err)
{
    uint8_t type = wasi_filetype_of(host, err);
    if (*err) return NULL;
    int fl = fcntl(host, F_GETFL);
    if (fl < 0) {
        *err = sbx_wasi_errno_from_host(errno);
        return NULL;
    }
    struct wasi_fd *f = calloc(1, sizeof(*f));
    if (!f) {
        *err = SBX_WASI_ENOMEM;
        return NULL;
    }
    f->host = host;
    f->filetype = type;
    f->base = wasi_rights_for(type, fl) & mask;
    f->inheriting = 0;
    f->preopen = -1;
    return f;
}
