/* W^X code memory on a memfd (jit/code_memory.h). The order of the steps is
 * the security argument:
 *
 *   1. memfd_create; ftruncate to whole pages
 *   2. mmap MAP_SHARED, PROT_READ|PROT_WRITE  -> the code is written here
 *   3. munmap the writable mapping            -> no writable view remains
 *   4. seal WRITE|GROW|SHRINK|SEAL            -> the bytes are final, for good
 *   5. mmap MAP_PRIVATE, PROT_READ|PROT_EXEC  -> the only executable view
 *
 * The executable mapping appears only after the seal, so nothing that can be
 * executed can still change. It is MAP_PRIVATE because kernels before 6.7
 * count every MAP_SHARED mapping of a read-write fd as writable: such a
 * mapping makes F_SEAL_WRITE fail with EBUSY, and after the seal it is
 * refused with EPERM. A private read-only mapping shows the same page-cache
 * pages and is what the zygote uses too (code_memory_map_fd). */
#include "jit/code_memory.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U /* Linux 6.3: say that the memfd may be executable */
#endif

#define CODE_SEALS (F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL)

static int page_round(size_t n, size_t *out)
{
    long ps = sysconf(_SC_PAGESIZE);
    size_t page = ps > 0 ? (size_t)ps : 4096;
    if (n == 0) return -EINVAL;
    if (n > SIZE_MAX - (page - 1)) return -ENOMEM;
    *out = (n + page - 1) & ~(page - 1);
    return 0;
}

int code_memory_open(struct code_memory *cm, size_t size, const char *name)
{
    *cm = (struct code_memory){.fd = -1};
    size_t map_size;
    int rc = page_round(size, &map_size);
    if (rc) return rc;
    if (!name) name = "sbx-code";

    /* Where the kernel knows MFD_EXEC, ask for an executable memfd outright;
     * older kernels reject the flag with EINVAL and allow exec anyway. */
    int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
    if (fd < 0 && errno == EINVAL) fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) return -errno;
    if (ftruncate(fd, (off_t)map_size) < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    void *rw = mmap(NULL, map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (rw == MAP_FAILED) {
        rc = -errno;
        close(fd);
        return rc;
    }
    memset(rw, 0xcc, map_size); /* int3: the tail past the code traps */
    *cm = (struct code_memory){.fd = fd, .rw = rw, .size = size, .map_size = map_size};
    return 0;
}

int code_memory_finalize(struct code_memory *cm)
{
    if (cm->fd < 0 || cm->rx) return -EINVAL;
    if (cm->rw) {
        if (munmap(cm->rw, cm->map_size) < 0) return -errno;
        cm->rw = NULL;
    }
    if (fcntl(cm->fd, F_ADD_SEALS, CODE_SEALS) < 0) return -errno;
    int err;
    cm->rx = code_memory_map_fd(cm->fd, cm->map_size, &err);
    return cm->rx ? 0 : err;
}

int code_memory_install(struct code_memory *cm, const void *code, size_t n, const char *name)
{
    int rc = code_memory_open(cm, n, name);
    if (rc) return rc;
    memcpy(cm->rw, code, n);
    rc = code_memory_finalize(cm);
    if (rc) code_memory_free(cm);
    return rc;
}

void code_memory_free(struct code_memory *cm)
{
    if (cm->rw) munmap(cm->rw, cm->map_size);
    if (cm->rx) code_memory_unmap(cm->rx, cm->map_size);
    if (cm->fd >= 0) close(cm->fd);
    *cm = (struct code_memory){.fd = -1};
}

const void *code_memory_map_fd(int fd, size_t map_size, int *err)
{
    int seals = fcntl(fd, F_GET_SEALS);
    if (seals < 0) {
        *err = -errno;
        return NULL;
    }
    const int needed = F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK;
    if ((seals & needed) != needed) {
        *err = -EPERM;
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        *err = -errno;
        return NULL;
    }
    if (map_size == 0 || st.st_size < 0 || (uint64_t)st.st_size != map_size) {
        *err = -EINVAL;
        return NULL;
    }
    void *rx = mmap(NULL, map_size, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
    if (rx == MAP_FAILED) {
        *err = -errno;
        return NULL;
    }
    *err = 0;
    return rx;
}

int code_memory_unmap(const void *addr, size_t map_size)
{
    return munmap((void *)(uintptr_t)addr, map_size) < 0 ? -errno : 0;
}
