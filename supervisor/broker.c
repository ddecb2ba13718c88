/* supervisor/broker.c: the broker's roots (see broker.h). A root is opened
 * once, when the worker is set up, and every request resolves beneath that
 * fd: renaming or replacing the host path later does not move the sandbox. */
#include "supervisor/broker_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static int open_root(const struct sbx_broker_preopen *p)
{
    int fd;
    if (p->host_fd >= 0)
        fd = fcntl(p->host_fd, F_DUPFD_CLOEXEC, 0);
    else if (p->host_path)
        fd = open(p->host_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    else
        return -EINVAL;
    if (fd < 0) return -errno;
    struct stat st;
    int rc = fstat(fd, &st) ? -errno : S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
    if (rc) {
        close(fd);
        return rc;
    }
    return fd;
}

int sbx_broker_new(const struct sbx_broker_preopen *preopens, size_t n, struct sbx_broker **out)
{
    *out = NULL;
    if (n && !preopens) return -EINVAL;
    struct sbx_broker *b = calloc(1, sizeof(*b));
    if (!b) return -ENOMEM;
    b->roots = calloc(n ? n : 1, sizeof(*b->roots));
    if (!b->roots) {
        free(b);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        int fd = open_root(&preopens[i]);
        if (fd < 0) {
            sbx_broker_free(b);
            return fd;
        }
        b->roots[i] = (struct sbx_wasi_root){.dirfd = fd, .read_only = preopens[i].read_only};
        b->count = i + 1;
    }
    *out = b;
    return 0;
}

int sbx_broker_root_fd(const struct sbx_broker *b, size_t i)
{
    return b && i < b->count ? b->roots[i].dirfd : -1;
}

size_t sbx_broker_count(const struct sbx_broker *b)
{
    return b ? b->count : 0;
}

void sbx_broker_free(struct sbx_broker *b)
{
    if (!b) return;
    for (size_t i = 0; i < b->count; i++)
        close(b->roots[i].dirfd);
    free(b->roots);
    free(b);
}
