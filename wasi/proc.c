/* proc_exit, proc_raise and sched_yield: the calls about the guest as a
 * process. proc_exit ends the instance with the guest's code (all 32 bits
 * passed through, as an int). proc_raise implements the signal's default
 * action the way a native process would see it: signals whose default is
 * to ignore or to stop return success, the others end the instance with
 * exit code 128 + the Linux signal number (what a shell reports for a
 * process killed by that signal). */
#include <sched.h>
#include <signal.h>

#include "wasi/internal.h"

int wasi_proc_exit(struct wasi_call *c, const union sbx_val *a)
{
    return wasi_exit(c, (int)a[0].i32);
}

/* WASI signal numbers (preview1 `signal`) -> Linux numbers. */
static const int wasi_signals[] = {
    0,       SIGHUP,    SIGINT,  SIGQUIT,  SIGILL,  SIGTRAP, SIGABRT, SIGBUS,
    SIGFPE,  SIGKILL,   SIGUSR1, SIGSEGV,  SIGUSR2, SIGPIPE, SIGALRM, SIGTERM,
    SIGCHLD, SIGCONT,   SIGSTOP, SIGTSTP,  SIGTTIN, SIGTTOU, SIGURG,  SIGXCPU,
    SIGXFSZ, SIGVTALRM, SIGPROF, SIGWINCH, SIGPOLL, SIGPWR,  SIGSYS,
};

int wasi_proc_raise(struct wasi_call *c, const union sbx_val *a)
{
    uint32_t sig = a[0].i32;
    if (sig >= sizeof(wasi_signals) / sizeof(wasi_signals[0])) return SBX_WASI_EINVAL;
    int host = wasi_signals[sig];
    switch (host) {
    case 0: /* "none": nothing is delivered */
    case SIGCHLD:
    case SIGCONT:
    case SIGURG:
    case SIGWINCH: /* default action: ignore */
    case SIGSTOP:
    case SIGTSTP:
    case SIGTTIN:
    case SIGTTOU: /* default action: stop; a sandboxed instance is not stopped */ return 0;
    default: return wasi_exit(c, 128 + host);
    }
}

int wasi_sched_yield(struct wasi_call *c, const union sbx_val *a)
{
    sched_yield();
    return 0;
}
