/* The filter a warm worker forked by a template installs first of all
 * when RLIMIT_NPROC 0 would not stop its clone (sbx_confine_seal: its uid
 * is 0, or sbx cannot tell): it takes back exactly what that template's
 * filter adds to a worker's (seccomp_template_group and
 * seccomp_seal_group), and every other way to a new process or a new fd
 * number, ending them the way the worker's own filter ends a forbidden
 * call (SIGSYS, reported as a policy violation). Written
 * by hand: a few instructions, so that installing it is cheap, and it
 * never changes with a policy. Another architecture's calls are killed
 * here too, as in every filter of sbx, though the worker's beneath it
 * already does. */
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/syscall.h>

#include "policy/confine_internal.h"

/* Layout: 0 load arch; 1 foreign? kill; 2 load nr; 3 .. 3+N-1 one test per
 * sealed call; 3+N allow; 4+N trap; 5+N kill. */
#define N             8
#define SEALED(i, nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), N - (i), 0)

static const struct sock_filter seal[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 3 + N),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    SEALED(0, SYS_clone),
    SEALED(1, SYS_clone3),
    SEALED(2, SYS_fork),
    SEALED(3, SYS_vfork),
    SEALED(4, SYS_dup2),
    SEALED(5, SYS_prctl),
    SEALED(6, SYS_seccomp),
    SEALED(7, SYS_prlimit64),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
};

_Static_assert(sizeof seal / sizeof seal[0] == 6 + N, "the layout above");

static const struct sock_fprog seal_prog = {
    .len = sizeof seal / sizeof seal[0],
    .filter = (struct sock_filter *)seal,
};

const struct sock_fprog *confine_seal_filter(void)
{
    return &seal_prog;
}
