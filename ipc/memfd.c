/* ipc/memfd.c: sealed memfds for payloads larger than a message: making one
 * from bytes, and checking, mapping or reading one that arrived. */
#include "ipc/memfd.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int sbx_memfd_from_bytes(const char *name, const void *data, size_t len)
{
    if (len && !data) return -EINVAL;
    int fd = memfd_create(name ? name : "sbx", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) return -errno;
    int rc = 0;
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            rc = n < 0 ? -errno : -EIO;
            goto fail;
        }
        p += n;
        left -= (size_t)n;
    }
    if (fcntl(fd, F_ADD_SEALS, SBX_MEMFD_REQUIRED_SEALS | F_SEAL_SEAL) != 0) {
        rc = -errno;
        goto fail;
    }
    return fd;
fail:
    close(fd);
    return rc;
}

int sbx_memfd_check(int fd, uint64_t expected_size, uint64_t max_size)
{
    int seals = fcntl(fd, F_GET_SEALS);
    if (seals < 0) return errno == EINVAL ? -EBADF : -errno; /* EINVAL: not a sealable file */
    if ((seals & SBX_MEMFD_REQUIRED_SEALS) != SBX_MEMFD_REQUIRED_SEALS) return -EPERM;
    struct stat st;
    if (fstat(fd, &st) != 0) return -errno;
    if (!S_ISREG(st.st_mode)) return -EBADF;
    if (expected_size > max_size || (uint64_t)st.st_size != expected_size) return -EMSGSIZE;
    return 0;
}

int sbx_memfd_map(int fd, uint64_t expected_size, uint64_t max_size, const void **out)
{
    *out = NULL;
    if (expected_size == 0 || expected_size > SIZE_MAX) return -EINVAL;
    int rc = sbx_memfd_check(fd, expected_size, max_size);
    if (rc) return rc;
    /* Safe to read without SIGBUS: F_SEAL_SHRINK means the file cannot
     * become shorter than the mapping. */
    void *p = mmap(NULL, (size_t)expected_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) return -errno;
    *out = p;
    return 0;
}

void sbx_memfd_unmap(const void *addr, size_t len)
{
    if (addr && len) munmap((void *)addr, len);
}

int sbx_memfd_read(int fd, uint64_t expected_size, uint64_t max_size, void *buf)
{
    if (expected_size > SIZE_MAX || (expected_size && !buf)) return -EINVAL;
    int rc = sbx_memfd_check(fd, expected_size, max_size);
    if (rc) return rc;
    char *p = buf;
    size_t done = 0;
    while (done < expected_size) {
        ssize_t n = pread(fd, p + done, (size_t)expected_size - done, (off_t)done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -errno;
        if (n == 0) return -EIO; /* cannot happen with F_SEAL_SHRINK; do not loop */
        done += (size_t)n;
    }
    return 0;
}
