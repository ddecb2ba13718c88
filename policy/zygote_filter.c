/* The zygote's own, reduced profile. The zygote must compile code (map it
 * executable), fork, create namespaces and reap, so it cannot live under
 * the workers' allowlist; but once started it never needs the network, a
 * program to execute, another process to trace, or a kernel extension. A
 * denylist closes those, answered with EPERM rather than a kill: the
 * workers inherit this filter, and under the kernel's precedence their own
 * filter's SIGSYS (reported, naming the call) still wins over EPERM. */
#include <errno.h>
#include <seccomp.h>
#include <string.h>
#include <sys/prctl.h>

#include "policy/confine.h"

static const char *const denied[] = {
    /* no program is ever executed */
    "execve", "execveat",
    /* no network: the supervisor hands every socket in */
    "socket", "connect", "bind", "listen", "accept", "accept4",
    /* no other process is inspected or driven */
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
    /* no kernel extension, key or filesystem change */
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "bpf",
    "perf_event_open", "add_key", "request_key", "keyctl", "mount", "umount2", "pivot_root",
    "chroot", "swapon", "swapoff", "reboot", "open_by_handle_at", "userfaultfd", "io_uring_setup",
    "io_uring_enter", "io_uring_register"};

int sbx_confine_zygote(struct sbx_confine_error *err)
{
    memset(err, 0, sizeof *err);
    err->step = "zygote";
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx) return err->call = "seccomp_init", err->errnum = ENOMEM, -1;
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    for (size_t i = 0; !rc && i < sizeof denied / sizeof denied[0]; i++) {
        int nr = seccomp_syscall_resolve_name(denied[i]);
        if (nr != __NR_SCMP_ERROR) rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
    }
    /* no_new_privs first: it is what lets a process without CAP_SYS_ADMIN
     * load a filter, and the zygote never executes anything anyway. */
    if (!rc && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) rc = -errno;
    if (!rc) rc = seccomp_load(ctx);
    seccomp_release(ctx);
    if (rc) err->call = "seccomp_load", err->errnum = -rc;
    return rc ? -1 : 0;
}
