/* ipc/memfd.h: payloads too big for a message travel as sealed memfds. The
 * sender makes one from bytes; the receiver checks its seals and size before
 * mapping or reading it, so the bytes cannot change or vanish underneath. */
#ifndef SBX_IPC_MEMFD_H
#define SBX_IPC_MEMFD_H

#include <stddef.h>
#include <stdint.h>
#include <fcntl.h> /* F_SEAL_* */

/* The seals a received memfd must carry: no writes, no resizing. Without
 * them the sender could change bytes after they were validated, or truncate
 * the file and make our mapping fault with SIGBUS. */
#define SBX_MEMFD_REQUIRED_SEALS (F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK)

/* A close-on-exec memfd holding a copy of data[0..len), sealed with
 * SBX_MEMFD_REQUIRED_SEALS | F_SEAL_SEAL. Returns the fd or -errno. */
int sbx_memfd_from_bytes(const char *name, const void *data, size_t len);

/* Checks that `fd` is a memfd with the required seals whose size is exactly
 * `expected_size`, at most `max_size`: 0, -EBADF (not a sealable file),
 * -EPERM (seals missing), -EMSGSIZE (size differs or is above max_size). */
int sbx_memfd_check(int fd, uint64_t expected_size, uint64_t max_size);

/* sbx_memfd_check, then maps the whole file read-only. expected_size must be
 * at least 1. Release with sbx_memfd_unmap(*out, expected_size). */
int sbx_memfd_map(int fd, uint64_t expected_size, uint64_t max_size, const void **out);
void sbx_memfd_unmap(const void *addr, size_t len);

/* sbx_memfd_check, then copies the contents into buf[0..expected_size). */
int sbx_memfd_read(int fd, uint64_t expected_size, uint64_t max_size, void *buf);

#endif
