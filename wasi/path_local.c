/* The local path resolver (see path_local.h). Every lookup is an openat2()
 * with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS from the root (or from a
 * directory opened that way), so the kernel, not string handling, keeps
 * resolution inside the root: `..` above it, absolute paths, absolute
 * symlinks and symlinks that climb out all fail with EXDEV, which becomes
 * ENOTCAPABLE.
 *
 * Calls that act on a name rather than an object (mkdir, unlink, rmdir,
 * rename, link, symlink) open the parent beneath the root, then use the *at
 * syscall on the last component. The *at syscalls do not follow a symlink
 * in the last component, with two exceptions handled here: a trailing slash
 * makes stat-like lookups follow (so stat, utimes and readlink work on an
 * O_PATH fd of the object, found beneath), and linkat's old path follows
 * under a trailing slash (so that case is answered without linkat). A last
 * component of "." or ".." never reaches an *at syscall: the location is
 * checked beneath, then the call fails as Linux would fail it. */
#include "wasi/path_local.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "wasi/errno_map.h"

#define BENEATH (RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)
/* openat2 fails with EAGAIN when a concurrent rename may have let `..`
 * escape; the kernel asks callers to retry. */
#define AGAIN_RETRIES 32

/* openat2 beneath dirfd; returns an fd or -errno. */
static int open_beneath(int dirfd, const char *path, int flags, mode_t mode)
{
    /* openat2 refuses O_PATH with any flag but O_DIRECTORY/O_NOFOLLOW. */
    if (!(flags & O_PATH)) flags |= O_NOCTTY;
    struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC),
                           .mode = (flags & O_CREAT) ? mode : 0,
                           .resolve = BENEATH};
    for (int tries = 0;; tries++) {
        long r = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
        if (r >= 0) return (int)r;
        if (errno == EINTR || (errno == EAGAIN && tries < AGAIN_RETRIES)) continue;
        return -errno;
    }
}

/* The WASI errno of a failed lookup: escapes are capability errors. */
static uint16_t lookup_errno(int neg)
{
    return -neg == EXDEV ? SBX_WASI_ENOTCAPABLE : sbx_wasi_errno_from_host(-neg);
}

static uint16_t host_errno(void)
{
    return sbx_wasi_errno_from_host(errno);
}

static void close_fd(int fd)
{
    int saved = errno;
    close(fd);
    errno = saved;
}

/* A directory to resolve from: the root, or `dir` opened beneath it. */
struct base {
    int fd;
    bool owned;
};

static uint16_t open_base(const struct sbx_wasi_root *root, const char *dir, const char *path,
                          struct base *b)
{
    b->fd = -1;
    b->owned = false;
    if (!root || root->dirfd < 0) return SBX_WASI_EBADF;
    if (path[0] == '/' || dir[0] == '/') return SBX_WASI_ENOTCAPABLE;
    if (!dir[0]) {
        b->fd = root->dirfd;
        return 0;
    }
    int fd = open_beneath(root->dirfd, dir, O_PATH | O_DIRECTORY, 0);
    if (fd < 0) return lookup_errno(fd);
    b->fd = fd;
    b->owned = true;
    return 0;
}

static void close_base(struct base *b)
{
    if (b->owned && b->fd >= 0) close_fd(b->fd);
    b->fd = -1;
}

/* A name to act on: the parent directory (opened beneath the base) and the
 * last component, which keeps its trailing slashes. */
struct entry {
    struct base base;
    int parent; /* == base.fd when the path has no parent part */
    char *buf;  /* holds the parent part */
    const char *last;
    char name[NAME_MAX + 1]; /* last without trailing slashes */
    bool trailing_slash;
    int dots; /* 1: last is ".", 2: last is "..", else 0 */
};

static void close_entry(struct entry *e)
{
    if (e->parent >= 0 && e->parent != e->base.fd) close_fd(e->parent);
    e->parent = -1;
    close_base(&e->base);
    free(e->buf);
    e->buf = NULL;
}

static uint16_t open_entry(const struct sbx_wasi_root *root, const char *dir, const char *path,
                           struct entry *e)
{
    memset(e, 0, sizeof(*e));
    e->parent = -1;
    uint16_t r = open_base(root, dir, path, &e->base);
    if (r) return r;
    size_t end = strlen(path);
    while (end > 0 && path[end - 1] == '/')
        end--;
    if (end == 0) { /* "" (an absolute path was refused by open_base) */
        close_entry(e);
        return SBX_WASI_ENOENT;
    }
    size_t start = end;
    while (start > 0 && path[start - 1] != '/')
        start--;
    if (end - start > NAME_MAX) {
        close_entry(e);
        return SBX_WASI_ENAMETOOLONG;
    }
    memcpy(e->name, path + start, end - start);
    e->name[end - start] = '\0';
    e->last = path + start;
    e->trailing_slash = path[end] != '\0';
    e->dots = !strcmp(e->name, ".") ? 1 : !strcmp(e->name, "..") ? 2 : 0;
    if (start == 0) {
        e->parent = e->base.fd;
        return 0;
    }
    e->buf = strndup(path, start);
    if (!e->buf) {
        close_entry(e);
        return SBX_WASI_ENOMEM;
    }
    int fd = open_beneath(e->base.fd, e->buf, O_PATH | O_DIRECTORY, 0);
    if (fd < 0) {
        close_entry(e);
        return lookup_errno(fd);
    }
    e->parent = fd;
    return 0;
}

/* For a last component of "." or "..": checks that the whole path stays
 * beneath the root, then fails with `err` (what Linux answers for the
 * call), or with the lookup's own error. */
static uint16_t dots_result(const struct entry *e, const char *path, uint16_t err)
{
    int fd = open_beneath(e->base.fd, path, O_PATH | O_DIRECTORY, 0);
    if (fd < 0) return lookup_errno(fd);
    close_fd(fd);
    return err;
}

static uint8_t filetype_from_mode(mode_t m)
{
    switch (m & S_IFMT) {
    case S_IFBLK: return SBX_WASI_FILETYPE_BLOCK_DEVICE;
    case S_IFCHR: return SBX_WASI_FILETYPE_CHARACTER_DEVICE;
    case S_IFDIR: return SBX_WASI_FILETYPE_DIRECTORY;
    case S_IFREG: return SBX_WASI_FILETYPE_REGULAR_FILE;
    case S_IFSOCK: return SBX_WASI_FILETYPE_SOCKET_STREAM;
    case S_IFLNK: return SBX_WASI_FILETYPE_SYMBOLIC_LINK;
    default: return SBX_WASI_FILETYPE_UNKNOWN; /* FIFOs: WASI has no type for them */
    }
}

static uint64_t ts_ns(const struct timespec *t)
{
    if (t->tv_sec < 0) return 0;
    return (uint64_t)t->tv_sec * 1000000000u + (uint64_t)t->tv_nsec;
}

void sbx_wasi_filestat_from_stat(const struct stat *st, struct sbx_wasi_filestat *out)
{
    memset(out, 0, sizeof(*out));
    out->dev = st->st_dev;
    out->ino = st->st_ino;
    out->filetype = filetype_from_mode(st->st_mode);
    out->nlink = st->st_nlink;
    out->size = (uint64_t)st->st_size;
    out->atim = ts_ns(&st->st_atim);
    out->mtim = ts_ns(&st->st_mtim);
    out->ctim = ts_ns(&st->st_ctim);
}

uint16_t sbx_wasi_local_open(const struct sbx_wasi_root *root, const char *dir, const char *path,
                             const struct sbx_wasi_open_req *req, int *out)
{
    *out = -1;
    if (root && root->read_only &&
        (req->write || (req->oflags & (SBX_WASI_OFLAG_CREAT | SBX_WASI_OFLAG_TRUNC))))
        return SBX_WASI_EROFS;
    struct base b;
    uint16_t r = open_base(root, dir, path, &b);
    if (r) return r;
    int flags = req->write ? (req->read ? O_RDWR : O_WRONLY) : O_RDONLY;
    if (req->oflags & SBX_WASI_OFLAG_CREAT) flags |= O_CREAT;
    if (req->oflags & SBX_WASI_OFLAG_EXCL) flags |= O_EXCL;
    if (req->oflags & SBX_WASI_OFLAG_TRUNC) flags |= O_TRUNC;
    if (req->oflags & SBX_WASI_OFLAG_DIRECTORY) flags |= O_DIRECTORY;
    if (!(req->lookupflags & SBX_WASI_LOOKUP_SYMLINK_FOLLOW)) flags |= O_NOFOLLOW;
    if (req->fdflags & SBX_WASI_FDFLAG_APPEND) flags |= O_APPEND;
    if (req->fdflags & SBX_WASI_FDFLAG_NONBLOCK) flags |= O_NONBLOCK;
    if (req->fdflags & SBX_WASI_FDFLAG_DSYNC) flags |= O_DSYNC;
    if (req->fdflags & (SBX_WASI_FDFLAG_SYNC | SBX_WASI_FDFLAG_RSYNC)) flags |= O_SYNC;
    int fd = open_beneath(b.fd, path, flags, 0666);
    close_base(&b);
    if (fd < 0) return lookup_errno(fd);
    *out = fd;
    return 0;
}

/* Opens the object a stat-like call acts on: beneath, following a symlink
 * in the last component only if asked (or if a trailing slash says so). */
static int open_object(const struct sbx_wasi_root *root, const char *dir, const char *path,
                       uint32_t lookupflags, uint16_t *err)
{
    struct base b;
    *err = open_base(root, dir, path, &b);
    if (*err) return -1;
    int flags = O_PATH;
    if (!(lookupflags & SBX_WASI_LOOKUP_SYMLINK_FOLLOW)) flags |= O_NOFOLLOW;
    int fd = open_beneath(b.fd, path, flags, 0);
    close_base(&b);
    if (fd < 0) {
        *err = lookup_errno(fd);
        return -1;
    }
    return fd;
}

uint16_t sbx_wasi_local_filestat_get(const struct sbx_wasi_root *root, const char *dir,
                                     const char *path, uint32_t lookupflags,
                                     struct sbx_wasi_filestat *out)
{
    uint16_t err;
    int fd = open_object(root, dir, path, lookupflags, &err);
    if (fd < 0) return err;
    struct stat st;
    /* SYS_fstat, not glibc's fstat (which is newfstatat on a path). */
    long r = syscall(SYS_fstat, fd, &st);
    err = r ? host_errno() : 0;
    close_fd(fd);
    if (!err) sbx_wasi_filestat_from_stat(&st, out);
    return err;
}

int sbx_wasi_times_to_timespec(uint64_t atim, uint64_t mtim, uint16_t fst, struct timespec *ts)
{
    if (fst & ~(SBX_WASI_FSTFLAG_ATIM | SBX_WASI_FSTFLAG_ATIM_NOW | SBX_WASI_FSTFLAG_MTIM |
                SBX_WASI_FSTFLAG_MTIM_NOW))
        return -1;
    if ((fst & SBX_WASI_FSTFLAG_ATIM) && (fst & SBX_WASI_FSTFLAG_ATIM_NOW)) return -1;
    if ((fst & SBX_WASI_FSTFLAG_MTIM) && (fst & SBX_WASI_FSTFLAG_MTIM_NOW)) return -1;
    const uint64_t ns = 1000000000u;
    ts[0] = (struct timespec){.tv_sec = 0, .tv_nsec = UTIME_OMIT};
    ts[1] = ts[0];
    if (fst & SBX_WASI_FSTFLAG_ATIM)
        ts[0] = (struct timespec){.tv_sec = (time_t)(atim / ns), .tv_nsec = (long)(atim % ns)};
    else if (fst & SBX_WASI_FSTFLAG_ATIM_NOW)
        ts[0].tv_nsec = UTIME_NOW;
    if (fst & SBX_WASI_FSTFLAG_MTIM)
        ts[1] = (struct timespec){.tv_sec = (time_t)(mtim / ns), .tv_nsec = (long)(mtim % ns)};
    else if (fst & SBX_WASI_FSTFLAG_MTIM_NOW)
        ts[1].tv_nsec = UTIME_NOW;
    return 0;
}

uint16_t sbx_wasi_local_filestat_set_times(const struct sbx_wasi_root *root, const char *dir,
                                           const char *path, uint32_t lookupflags, uint64_t atim,
                                           uint64_t mtim, uint16_t fstflags)
{
    struct timespec ts[2];
    if (sbx_wasi_times_to_timespec(atim, mtim, fstflags, ts)) return SBX_WASI_EINVAL;
    if (root && root->read_only) return SBX_WASI_EROFS;
    uint16_t err;
    int fd = open_object(root, dir, path, lookupflags, &err);
    if (fd < 0) return err;
    /* The fd is the object itself (a symlink when not following): change
     * its times without another lookup. */
    long r = syscall(SYS_utimensat, fd, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
    err = r ? host_errno() : 0;
    close_fd(fd);
    return err;
}

static int do_mkdir(int parent, const char *last)
{
    return mkdirat(parent, last, 0777);
}

static int do_rmdir(int parent, const char *last)
{
    return unlinkat(parent, last, AT_REMOVEDIR);
}

/* unlinkat does not follow the last component, trailing slash or not. */
static int do_unlink(int parent, const char *last)
{
    return unlinkat(parent, last, 0);
}

/* The shape of every call that changes one directory entry: refused on a
 * read-only root, the parent resolved beneath the root, "." and ".." as
 * names answered as Linux would (dot_err for ".", dotdot_err for ".."),
 * then op on (parent, last component). */
static uint16_t entry_op(const struct sbx_wasi_root *root, const char *dir, const char *path,
                         uint16_t dot_err, uint16_t dotdot_err, int (*op)(int, const char *))
{
    if (root && root->read_only) return SBX_WASI_EROFS;
    struct entry e;
    uint16_t r = open_entry(root, dir, path, &e);
    if (r) return r;
    if (e.dots)
        r = dots_result(&e, path, e.dots == 1 ? dot_err : dotdot_err);
    else if (op(e.parent, e.last))
        r = host_errno();
    close_entry(&e);
    return r;
}

uint16_t sbx_wasi_local_create_directory(const struct sbx_wasi_root *root, const char *dir,
                                         const char *path)
{
    return entry_op(root, dir, path, SBX_WASI_EEXIST, SBX_WASI_EEXIST, do_mkdir);
}

uint16_t sbx_wasi_local_remove_directory(const struct sbx_wasi_root *root, const char *dir,
                                         const char *path)
{
    return entry_op(root, dir, path, SBX_WASI_EINVAL, SBX_WASI_ENOTEMPTY, do_rmdir);
}

uint16_t sbx_wasi_local_unlink_file(const struct sbx_wasi_root *root, const char *dir,
                                    const char *path)
{
    return entry_op(root, dir, path, SBX_WASI_EISDIR, SBX_WASI_EISDIR, do_unlink);
}

uint16_t sbx_wasi_local_link(const struct sbx_wasi_root *old_root, const char *old_dir,
                             const char *old_path, uint32_t old_lookupflags,
                             const struct sbx_wasi_root *new_root, const char *new_dir,
                             const char *new_path)
{
    /* A hard link made from a read-only root into a writable one would make
     * the file writable: both roots must be writable. */
    if ((old_root && old_root->read_only) || (new_root && new_root->read_only))
        return SBX_WASI_EROFS;
    /* Following a symlink in the old path would need linkat(AT_EMPTY_PATH),
     * which needs CAP_DAC_READ_SEARCH; wasmtime refuses it too. */
    if (old_lookupflags & SBX_WASI_LOOKUP_SYMLINK_FOLLOW) return SBX_WASI_EINVAL;
    struct entry o, n;
    uint16_t r = open_entry(old_root, old_dir, old_path, &o);
    if (r) return r;
    r = open_entry(new_root, new_dir, new_path, &n);
    if (r) {
        close_entry(&o);
        return r;
    }
    struct stat st;
    if (o.dots) {
        r = dots_result(&o, old_path, SBX_WASI_EPERM);
    } else if (n.dots) {
        r = dots_result(&n, new_path, SBX_WASI_EEXIST);
    } else if (o.trailing_slash) {
        /* linkat would follow a symlink here; answer as it would, unfollowed. */
        if (fstatat(o.parent, o.name, &st, AT_SYMLINK_NOFOLLOW))
            r = host_errno();
        else
            r = S_ISDIR(st.st_mode) ? SBX_WASI_EPERM : SBX_WASI_ENOTDIR;
    } else if (linkat(o.parent, o.last, n.parent, n.last, 0)) {
        r = host_errno();
    }
    close_entry(&n);
    close_entry(&o);
    return r;
}

uint16_t sbx_wasi_local_rename(const struct sbx_wasi_root *old_root, const char *old_dir,
                               const char *old_path, const struct sbx_wasi_root *new_root,
                               const char *new_dir, const char *new_path)
{
    if ((old_root && old_root->read_only) || (new_root && new_root->read_only))
        return SBX_WASI_EROFS;
    struct entry o, n;
    uint16_t r = open_entry(old_root, old_dir, old_path, &o);
    if (r) return r;
    r = open_entry(new_root, new_dir, new_path, &n);
    if (r) {
        close_entry(&o);
        return r;
    }
    /* renameat looks up both last components without following them, and
     * handles trailing slashes itself (ENOTDIR for a non-directory). */
    if (o.dots)
        r = dots_result(&o, old_path, SBX_WASI_EBUSY);
    else if (n.dots)
        r = dots_result(&n, new_path, SBX_WASI_EBUSY);
    else if (renameat(o.parent, o.last, n.parent, n.last))
        r = host_errno();
    close_entry(&n);
    close_entry(&o);
    return r;
}

uint16_t sbx_wasi_local_symlink(const char *target, const struct sbx_wasi_root *root,
                                const char *dir, const char *path)
{
    if (root && root->read_only) return SBX_WASI_EROFS;
    /* An absolute target could never be followed beneath the root. */
    if (target[0] == '/') return SBX_WASI_ENOTCAPABLE;
    if (!target[0]) return SBX_WASI_ENOENT;
    struct entry e;
    uint16_t r = open_entry(root, dir, path, &e);
    if (r) return r;
    if (e.dots)
        r = dots_result(&e, path, SBX_WASI_EEXIST);
    else if (symlinkat(target, e.parent, e.last))
        r = host_errno();
    close_entry(&e);
    return r;
}

uint16_t sbx_wasi_local_readlink(const struct sbx_wasi_root *root, const char *dir,
                                 const char *path, char *buf, size_t len, size_t *used)
{
    *used = 0;
    uint16_t err;
    int fd = open_object(root, dir, path, 0, &err);
    if (fd < 0) return err;
    char tmp[PATH_MAX];
    ssize_t n = readlinkat(fd, "", tmp, sizeof(tmp));
    /* On an fd, readlinkat says ENOENT for "not a symlink"; readlink(2)
     * on a path says EINVAL, which is what the guest expects. */
    err = n < 0 ? (errno == ENOENT ? SBX_WASI_EINVAL : host_errno()) : 0;
    close_fd(fd);
    if (err) return err;
    size_t k = (size_t)n < len ? (size_t)n : len;
    if (k) memcpy(buf, tmp, k);
    *used = k;
    return 0;
}

/* -- The vtable over a table of roots -- */

static const struct sbx_wasi_root *root_of(void *ctx, uint32_t preopen)
{
    const struct sbx_wasi_roots *r = ctx;
    return r && preopen < r->count ? &r->roots[preopen] : NULL;
}

static uint16_t l_open(void *ctx, const struct sbx_wasi_at *at, const struct sbx_wasi_open_req *req,
                       int *fd)
{
    *fd = -1;
    const struct sbx_wasi_root *root = root_of(ctx, at->preopen);
    if (!root) return SBX_WASI_ENOTCAPABLE;
    return sbx_wasi_local_open(root, at->dir, at->path, req, fd);
}

static uint16_t l_filestat_get(void *ctx, const struct sbx_wasi_at *at, uint32_t lookupflags,
                               struct sbx_wasi_filestat *out)
{
    const struct sbx_wasi_root *root = root_of(ctx, at->preopen);
    if (!root) return SBX_WASI_ENOTCAPABLE;
    return sbx_wasi_local_filestat_get(root, at->dir, at->path, lookupflags, out);
}

static uint16_t l_filestat_set_times(void *ctx, const struct sbx_wasi_at *at, uint32_t lookupflags,
                                     uint64_t atim, uint64_t mtim, uint16_t fstflags)
{
    const struct sbx_wasi_root *root = root_of(ctx, at->preopen);
    if (!root) return SBX_WASI_ENOTCAPABLE;
    return sbx_wasi_local_filestat_set_times(root, at->dir, at->path, lookupflags, atim, mtim,
                                             fstflags);
}

static uint16_t l_create_directory(void *ctx, const struct sbx_wasi_at *at)
{
    const struct sbx_wasi_root *root = root_of(ctx, at->preopen);
    if (!root) return SBX_WASI_ENOTCAPABLE;
    return sbx_wasi_local_create_directory(root, at->dir, at->path);
}

static uint16_t l_remove_directory(void *ctx, const struct sbx_wasi_at *at)
{
    const struct sbx_wasi_root *root = root_of(ctx, at->preopen);
    if (!root) return SBX_WASI_ENOTCAPABLE;
    return sbx_wasi_local_remove_directory(root, at->dir, at->path);
}

static uint16_t l_unlink_file(void *ctx, const struct sbx_wasi_at *at)
{
    const struct sbx_wasi_root *root = root_of(ctx, at->preopen);
    if (!root) return SBX_WASI_ENOTCAPABLE;
    return sbx_wasi_local_unlink_file(root, at->dir, at->path);
}

static uint16_t l_link(void *ctx, const struct sbx_wasi_at *o, uint32_t lookupflags,
                       const struct sbx_wasi_at *n)
{
    const struct sbx_wasi_root *ro = root_of(ctx, o->preopen), *rn = root_of(ctx, n->preopen);
    if (!ro || !rn) return SBX_WASI_ENOTCAPABLE;
    return sbx_wasi_local_link(ro, o->dir, o->path, lookupflags, rn, n->dir, n->path);
}

static uint16_t l_rename(void *ctx, const struct sbx_wasi_at *o, const struct sbx_wasi_at *n)
{
    const struct sbx_wasi_root *ro = root_of(ctx, o->preopen), *rn = root_of(ctx, n->preopen);
    if (!ro || !rn) return SBX_WASI_ENOTCAPABLE;
    return sbx_wasi_local_rename(ro, o->dir, o->path, rn, n->dir, n->path);
}

static uint16_t l_symlink(void *ctx, const char *target, const struct sbx_wasi_at *at)
{
    const struct sbx_wasi_root *root = root_of(ctx, at->preopen);
    if (!root) return SBX_WASI_ENOTCAPABLE;
    return sbx_wasi_local_symlink(target, root, at->dir, at->path);
}

static uint16_t l_readlink(void *ctx, const struct sbx_wasi_at *at, char *buf, size_t len,
                           size_t *used)
{
    *used = 0;
    const struct sbx_wasi_root *root = root_of(ctx, at->preopen);
    if (!root) return SBX_WASI_ENOTCAPABLE;
    return sbx_wasi_local_readlink(root, at->dir, at->path, buf, len, used);
}

const struct sbx_wasi_path_ops sbx_wasi_path_local_ops = {
    .open = l_open,
    .filestat_get = l_filestat_get,
    .filestat_set_times = l_filestat_set_times,
    .create_directory = l_create_directory,
    .remove_directory = l_remove_directory,
    .unlink_file = l_unlink_file,
    .link = l_link,
    .rename = l_rename,
    .symlink = l_symlink,
    .readlink = l_readlink,
};
