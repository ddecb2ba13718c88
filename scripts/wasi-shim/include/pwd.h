/* Minimal <pwd.h> for wasm32-wasi (wasi-libc has none): the sqlite3 shell
 * includes it to look up the home directory with getpwuid(getuid()). WASI
 * has no user database; wasi-shim.c's getpwuid always fails, and the shell
 * then falls back to $HOME. */
#ifndef SBX_WASI_SHIM_PWD_H
#define SBX_WASI_SHIM_PWD_H
#include <sys/types.h>

struct passwd {
    char *pw_name;
    char *pw_passwd;
    uid_t pw_uid;
    gid_t pw_gid;
    char *pw_gecos;
    char *pw_dir;
    char *pw_shell;
};

struct passwd *getpwuid(uid_t uid);

#endif
