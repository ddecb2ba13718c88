/* Shim for the wasm32-wasi builds of scripts/build-wasi-programs.sh: the
 * POSIX functions that bzip2 and the sqlite3 shell (both compiled from
 * unmodified Debian sources) reference but Debian's wasi-libc lacks.
 * WASI preview1 has no file modes, owners, users or subprocesses, so:
 *
 *   chmod, fchmod, fchown  succeed without doing anything (bzip2 copies the
 *                          input's mode/owner to its output and treats a
 *                          failing fchmod as fatal; sqlite's unix VFS and
 *                          the shell's writefile() set modes on new files);
 *   getuid, geteuid        return 0;
 *   getpwuid               fails (ENOENT): the shell then uses $HOME;
 *   system                 has no shell: system(NULL) returns 0 and any
 *                          command fails with ENOSYS (.system/.shell).
 */
#include <errno.h>
#include <pwd.h>
#include <stddef.h>
#include <stdlib.h>

#include "wasi-shim.h"

int chmod(const char *path, mode_t mode)
{
    (void)path;
    (void)mode;
    return 0;
}

int fchmod(int fd, mode_t mode)
{
    (void)fd;
    (void)mode;
    return 0;
}

int fchown(int fd, uid_t owner, gid_t group)
{
    (void)fd;
    (void)owner;
    (void)group;
    return 0;
}

uid_t getuid(void)
{
    return 0;
}

uid_t geteuid(void)
{
    return 0;
}

struct passwd *getpwuid(uid_t uid)
{
    (void)uid;
    errno = ENOENT;
    return NULL;
}

int system(const char *command)
{
    if (command == NULL) {
        return 0;
    }
    errno = ENOSYS;
    return -1;
}
