/* W^X code memory: machine code lives in a memfd that is written through a
 * read-write mapping, then sealed and mapped read+execute only. No page is
 * ever writable and executable at once, and after sealing no one (this
 * process, the zygote that receives the fd) can change the code.
 *
 * The compiler never sees this: it emits into a struct codebuf, and the
 * finished bytes are installed here. Functions return 0 or -errno, or a
 * pointer with the error in an out-parameter; nothing prints or exits. */
#ifndef SBX_JIT_CODE_MEMORY_H
#define SBX_JIT_CODE_MEMORY_H

#include <stddef.h>
#include <stdint.h>

struct code_memory {
    int fd;            /* the memfd; sealed once finalised; -1 when none */
    uint8_t *rw;       /* the writable mapping, until finalised; else NULL */
    const uint8_t *rx; /* the executable mapping, once finalised; else NULL */
    size_t size;       /* bytes asked for */
    size_t map_size;   /* size rounded up to whole pages: the memfd's size */
};

/* Create a memfd of `size` bytes (rounded up to pages) named `name` (NULL:
 * "sbx-code") and map it read-write at cm->rw, filled with int3. On error
 * cm is left empty (fd -1) and needs no free. */
int code_memory_open(struct code_memory *cm, size_t size, const char *name);

/* Drop the writable mapping, seal the memfd (write, grow, shrink, seal) and
 * map it read+execute at cm->rx. On error the memory stays as it was before
 * the failing step; code_memory_free still releases it. */
int code_memory_finalize(struct code_memory *cm);

/* open + copy `n` bytes of `code` + finalize. */
int code_memory_install(struct code_memory *cm, const void *code, size_t n, const char *name);

/* Unmap whatever is mapped and close the memfd. Idempotent. */
void code_memory_free(struct code_memory *cm);

/* Map a sealed code memfd (another process's code_memory fd) read+execute.
 * Refused with -EPERM unless the write, grow and shrink seals are set, and
 * with -EINVAL unless its size is `map_size`. NULL and *err on failure. */
const void *code_memory_map_fd(int fd, size_t map_size, int *err);

/* Undo code_memory_map_fd: 0 or -errno. */
int code_memory_unmap(const void *addr, size_t map_size);

#endif
