/* Reporting a seccomp violation: the filter's default action is
 * SECCOMP_RET_TRAP, so a forbidden call is not executed and raises SIGSYS
 * with the call's number in si_syscall. The handler hands it to the
 * worker's hook (which sends the report) and exits with a fixed status. A
 * worker that never reports is still seen by the supervisor as exiting
 * with SBX_CONFINE_EXIT_VIOLATION, or killed by SIGSYS. */
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "policy/confine.h"

#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1 /* si_code of a SIGSYS raised by the filter */
#endif

static void (*volatile violation_hook)(int);

static void on_sigsys(int sig, siginfo_t *si, void *uctx)
{
    (void)sig, (void)uctx;
    void (*hook)(int) = violation_hook;
    if (hook) hook(si->si_code == SYS_SECCOMP ? si->si_syscall : -1);
    /* exit_group itself, not _exit(): a sanitizer's _exit interceptor runs
     * a leak check that clones and ptraces, which the filter forbids. */
    syscall(SYS_exit_group, SBX_CONFINE_EXIT_VIOLATION);
    __builtin_unreachable();
}

int sbx_confine_set_violation_hook(void (*hook)(int syscall_nr))
{
    violation_hook = hook;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigsys;
    /* Every other signal blocked while it runs: the hook must finish. */
    sigfillset(&sa.sa_mask);
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    return sigaction(SIGSYS, &sa, NULL) ? -1 : 0;
}

/* x86-64 numbers end below 512 (the highest in 6.x kernels is in the 460s). */
#define NAMES 512
static const char *names[NAMES];
static pthread_once_t names_once = PTHREAD_ONCE_INIT;

/* Kept for the life of the process: a few KiB, made once. */
static void build_names(void)
{
    for (int nr = 0; nr < NAMES; nr++)
        names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr);
}

const char *sbx_syscall_name(int nr)
{
    if (nr < 0 || nr >= NAMES) return NULL;
    pthread_once(&names_once, build_names);
    return names[nr];
}
