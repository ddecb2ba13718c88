/* Declarations of the few POSIX functions that Debian's wasi-libc
 * (0.0~git20220510) lacks but bzip2 and the sqlite3 shell reference.
 * scripts/build-wasi-programs.sh force-includes this header (-include) when
 * compiling the unmodified program sources for wasm32-wasi, and links
 * wasi-shim.c, which defines them. Never used for the native builds. */
#ifndef SBX_WASI_SHIM_H
#define SBX_WASI_SHIM_H
#include <sys/types.h>

int chmod(const char *path, mode_t mode);
int fchmod(int fd, mode_t mode);
int fchown(int fd, uid_t owner, gid_t group);
uid_t getuid(void);
uid_t geteuid(void);

#endif
