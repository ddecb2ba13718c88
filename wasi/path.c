/* The path_* calls: the WASI side of every path-based operation. Here the
 * guest's arguments are checked (memory bounds, UTF-8, rights of the
 * directory fd, flags), the location is formed as (preopen, directory of the
 * fd, guest path) and handed to the path ops (wasi/path_ops.h), which do the
 * resolution somewhere that may use path syscalls (the broker, or the local
 * resolver in-process). Nothing here normalises paths or looks at `..`:
 * security is the resolver's job, beneath the preopen. The only path text
 * rule here is that absolute paths are refused (ENOTCAPABLE), since a
 * preview1 path is always relative to a directory fd. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wasi/internal.h"

/* Checks that the bytes are UTF-8 (the preview1 `string` type). */
static bool utf8_ok(const uint8_t *s, uint32_t n)
{
    for (uint32_t i = 0; i < n;) {
        uint8_t b = s[i];
        uint32_t k;
        uint32_t cp;
        if (b < 0x80) {
            i++;
            continue;
        } else if ((b & 0xe0) == 0xc0) {
            k = 1;
            cp = b & 0x1f;
        } else if ((b & 0xf0) == 0xe0) {
            k = 2;
            cp = b & 0x0f;
        } else if ((b & 0xf8) == 0xf0) {
            k = 3;
            cp = b & 0x07;
        } else {
            return false;
        }
        if (n - i <= k) return false;
        for (uint32_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (s[i + j] & 0x3f);
        }
        if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += k + 1;
    }
    return true;
}

/* Copies a guest string into a new C string: EFAULT, EILSEQ (not UTF-8),
 * EINVAL (a NUL inside), ENAMETOOLONG or ENOMEM. */
static uint16_t guest_string(const struct guest_mem *m, uint32_t ptr, uint32_t len, char **out)
{
    *out = NULL;
    if (!gm_ok(m, ptr, len)) return SBX_WASI_EFAULT;
    if (len >= WASI_PATH_MAX) return SBX_WASI_ENAMETOOLONG;
    const uint8_t *s = len ? gm_at(m, ptr) : (const uint8_t *)"";
    if (memchr(s, 0, len)) return SBX_WASI_EINVAL;
    if (!utf8_ok(s, len)) return SBX_WASI_EILSEQ;
    char *r = malloc(len + 1);
    if (!r) return SBX_WASI_ENOMEM;
    memcpy(r, s, len);
    r[len] = '\0';
    *out = r;
    return 0;
}

/* A location: the directory fd's root and path, plus the guest's path. */
struct loc {
    struct sbx_wasi_at at;
    struct wasi_fd *dir;
    char *path;
};

/* Looks up directory fd `fd` (which must hold `rights`) and reads the
 * guest path. */
static uint16_t loc_get(struct wasi_call *c, uint32_t fd, uint64_t rights, uint32_t ptr,
                        uint32_t len, struct loc *l)
{
    memset(l, 0, sizeof(*l));
    struct wasi_fd *d;
    uint16_t e = wasi_fd_get(c->w, fd, 0, &d);
    if (e) return e;
    if (d->filetype != SBX_WASI_FILETYPE_DIRECTORY || d->preopen < 0) return SBX_WASI_ENOTDIR;
    if ((d->base & rights) != rights) return SBX_WASI_ENOTCAPABLE;
    if ((e = guest_string(&c->mem, ptr, len, &l->path))) return e;
    if (l->path[0] == '/') {
        free(l->path);
        l->path = NULL;
        return SBX_WASI_ENOTCAPABLE;
    }
    l->dir = d;
    l->at = (struct sbx_wasi_at){.preopen = (uint32_t)d->preopen, .dir = d->dir, .path = l->path};
    return 0;
}

static void loc_free(struct loc *l)
{
    free(l->path);
    l->path = NULL;
}

int wasi_path_create_directory(struct wasi_call *c, const union sbx_val *a)
{
    struct loc l;
    uint16_t e = loc_get(c, a[0].i32, SBX_WASI_RIGHT_PATH_CREATE_DIRECTORY, a[1].i32, a[2].i32, &l);
    if (!e) e = c->w->ops->create_directory(c->w->ops_ctx, &l.at);
    loc_free(&l);
    return e;
}

int wasi_path_remove_directory(struct wasi_call *c, const union sbx_val *a)
{
    struct loc l;
    uint16_t e = loc_get(c, a[0].i32, SBX_WASI_RIGHT_PATH_REMOVE_DIRECTORY, a[1].i32, a[2].i32, &l);
    if (!e) e = c->w->ops->remove_directory(c->w->ops_ctx, &l.at);
    loc_free(&l);
    return e;
}

int wasi_path_unlink_file(struct wasi_call *c, const union sbx_val *a)
{
    struct loc l;
    uint16_t e = loc_get(c, a[0].i32, SBX_WASI_RIGHT_PATH_UNLINK_FILE, a[1].i32, a[2].i32, &l);
    if (!e) e = c->w->ops->unlink_file(c->w->ops_ctx, &l.at);
    loc_free(&l);
    return e;
}

int wasi_path_filestat_get(struct wasi_call *c, const union sbx_val *a)
{
    uint32_t flags = a[1].i32, out = a[4].i32;
    if (flags & ~SBX_WASI_LOOKUP_SYMLINK_FOLLOW) return SBX_WASI_EINVAL;
    struct loc l;
    uint16_t e = loc_get(c, a[0].i32, SBX_WASI_RIGHT_PATH_FILESTAT_GET, a[2].i32, a[3].i32, &l);
    if (!e && !gm_ok(&c->mem, out, 64)) e = SBX_WASI_EFAULT;
    struct sbx_wasi_filestat st;
    if (!e) e = c->w->ops->filestat_get(c->w->ops_ctx, &l.at, flags, &st);
    if (!e) e = wasi_put_filestat(&c->mem, out, &st);
    loc_free(&l);
    return e;
}

int wasi_path_filestat_set_times(struct wasi_call *c, const union sbx_val *a)
{
    uint32_t flags = a[1].i32, fst = a[6].i32;
    if (flags & ~SBX_WASI_LOOKUP_SYMLINK_FOLLOW) return SBX_WASI_EINVAL;
    struct timespec ts[2];
    if (fst > 0xffff || sbx_wasi_times_to_timespec(a[4].i64, a[5].i64, (uint16_t)fst, ts))
        return SBX_WASI_EINVAL;
    struct loc l;
    uint16_t e =
        loc_get(c, a[0].i32, SBX_WASI_RIGHT_PATH_FILESTAT_SET_TIMES, a[2].i32, a[3].i32, &l);
    if (!e)
        e = c->w->ops->filestat_set_times(c->w->ops_ctx, &l.at, flags, a[4].i64, a[5].i64,
                                          (uint16_t)fst);
    loc_free(&l);
    return e;
}

int wasi_path_link(struct wasi_call *c, const union sbx_val *a)
{
    uint32_t flags = a[1].i32;
    if (flags & ~SBX_WASI_LOOKUP_SYMLINK_FOLLOW) return SBX_WASI_EINVAL;
    struct loc o, n;
    uint16_t e = loc_get(c, a[0].i32, SBX_WASI_RIGHT_PATH_LINK_SOURCE, a[2].i32, a[3].i32, &o);
    if (e) return e;
    e = loc_get(c, a[4].i32, SBX_WASI_RIGHT_PATH_LINK_TARGET, a[5].i32, a[6].i32, &n);
    if (!e) e = c->w->ops->link(c->w->ops_ctx, &o.at, flags, &n.at);
    loc_free(&n);
    loc_free(&o);
    return e;
}

int wasi_path_rename(struct wasi_call *c, const union sbx_val *a)
{
    struct loc o, n;
    uint16_t e = loc_get(c, a[0].i32, SBX_WASI_RIGHT_PATH_RENAME_SOURCE, a[1].i32, a[2].i32, &o);
    if (e) return e;
    e = loc_get(c, a[3].i32, SBX_WASI_RIGHT_PATH_RENAME_TARGET, a[4].i32, a[5].i32, &n);
    if (!e) e = c->w->ops->rename(c->w->ops_ctx, &o.at, &n.at);
    loc_free(&n);
    loc_free(&o);
    return e;
}

int wasi_path_symlink(struct wasi_call *c, const union sbx_val *a)
{
    char *target;
    uint16_t e = guest_string(&c->mem, a[0].i32, a[1].i32, &target);
    if (e) return e;
    struct loc l;
    e = loc_get(c, a[2].i32, SBX_WASI_RIGHT_PATH_SYMLINK, a[3].i32, a[4].i32, &l);
    if (!e) e = c->w->ops->symlink(c->w->ops_ctx, target, &l.at);
    loc_free(&l);
    free(target);
    return e;
}

int wasi_path_readlink(struct wasi_call *c, const union sbx_val *a)
{
    uint32_t buf = a[3].i32, len = a[4].i32, used_ptr = a[5].i32;
    struct loc l;
    uint16_t e = loc_get(c, a[0].i32, SBX_WASI_RIGHT_PATH_READLINK, a[1].i32, a[2].i32, &l);
    if (e) return e;
    if (!gm_ok(&c->mem, buf, len) || !gm_ok(&c->mem, used_ptr, 4)) {
        loc_free(&l);
        return SBX_WASI_EFAULT;
    }
    size_t used = 0;
    e = c->w->ops->readlink(c->w->ops_ctx, &l.at, len ? (char *)gm_at(&c->mem, buf) : NULL, len,
                            &used);
    if (!e) gm_put_u32(&c->mem, used_ptr, (uint32_t)(used < len ? used : len));
    loc_free(&l);
    return e;
}

/* Joins a directory fd's path and a guest path into the path of a new
 * directory fd (not normalised: the resolver resolves it beneath). */
static char *join(const char *dir, const char *path)
{
    size_t a = strlen(dir), b = strlen(path);
    if (a + b + 2 > WASI_PATH_MAX) return NULL;
    char *r = malloc(a + b + 2);
    if (!r) return NULL;
    if (a) {
        memcpy(r, dir, a);
        r[a++] = '/';
    }
    memcpy(r + a, path, b + 1);
    return r;
}

int wasi_path_open(struct wasi_call *c, const union sbx_val *a)
{
    uint32_t lookup = a[1].i32, oflags = a[4].i32, fdflags = a[7].i32, out = a[8].i32;
    uint64_t base = a[5].i64, inh = a[6].i64;
    if (lookup & ~SBX_WASI_LOOKUP_SYMLINK_FOLLOW) return SBX_WASI_EINVAL;
    if (oflags & ~(SBX_WASI_OFLAG_CREAT | SBX_WASI_OFLAG_DIRECTORY | SBX_WASI_OFLAG_EXCL |
                   SBX_WASI_OFLAG_TRUNC))
        return SBX_WASI_EINVAL;
    if (fdflags & ~(SBX_WASI_FDFLAG_APPEND | SBX_WASI_FDFLAG_DSYNC | SBX_WASI_FDFLAG_NONBLOCK |
                    SBX_WASI_FDFLAG_RSYNC | SBX_WASI_FDFLAG_SYNC))
        return SBX_WASI_EINVAL;
    uint64_t need = SBX_WASI_RIGHT_PATH_OPEN;
    if (oflags & SBX_WASI_OFLAG_CREAT) need |= SBX_WASI_RIGHT_PATH_CREATE_FILE;
    if (oflags & SBX_WASI_OFLAG_TRUNC) need |= SBX_WASI_RIGHT_PATH_FILESTAT_SET_SIZE;
    struct loc l;
    uint16_t e = loc_get(c, a[0].i32, need, a[2].i32, a[3].i32, &l);
    if (e) return e;
    /* An fd opened through a directory gets at most its inheriting rights. */
    if ((base & ~l.dir->inheriting) || (inh & ~l.dir->inheriting)) {
        loc_free(&l);
        return SBX_WASI_ENOTCAPABLE;
    }
    if (!gm_ok(&c->mem, out, 4)) {
        loc_free(&l);
        return SBX_WASI_EFAULT;
    }
    struct sbx_wasi_open_req req = {
        .lookupflags = lookup,
        .oflags = (uint16_t)oflags,
        .fdflags = (uint16_t)fdflags,
        .read = (base & (SBX_WASI_RIGHT_FD_READ | SBX_WASI_RIGHT_FD_READDIR)) != 0,
        .write = !(oflags & SBX_WASI_OFLAG_DIRECTORY) &&
                 (base & (SBX_WASI_RIGHT_FD_WRITE | SBX_WASI_RIGHT_FD_ALLOCATE |
                          SBX_WASI_RIGHT_FD_FILESTAT_SET_SIZE)) != 0,
    };
    /* Truncating or appending writes, whatever rights were asked for. */
    if (oflags & SBX_WASI_OFLAG_TRUNC) req.write = true;
    int host = -1;
    e = c->w->ops->open(c->w->ops_ctx, &l.at, &req, &host);
    if (e) {
        loc_free(&l);
        return e;
    }
    struct wasi_fd *f = wasi_fd_from_host(host, base, &e);
    if (!f) {
        close(host);
        loc_free(&l);
        return e;
    }
    f->inheriting = inh;
    if (f->filetype == SBX_WASI_FILETYPE_DIRECTORY) {
        f->preopen = l.dir->preopen;
        f->dir = join(l.dir->dir, l.path);
        if (!f->dir) {
            wasi_fd_free(f);
            loc_free(&l);
            return SBX_WASI_ENAMETOOLONG;
        }
    }
    loc_free(&l);
    uint32_t fd;
    if ((e = wasi_fd_insert(c->w, f, &fd))) return e;
    gm_put_u32(&c->mem, out, fd);
    return 0;
}
