/* Turning hardware faults in compiled code into wasm traps: a SIGSEGV/SIGBUS
 * handler, running on a per-thread alternate stack, that recognises a fault
 * at a recorded trap site of compiled code and unwinds to the activation.
 * Any other fault is not ours: the previous disposition handles it. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "jit/activation.h"
#include "jit/compiled.h"
#include "jit/instance.h"

/* Large enough for the handler plus the backtrace walk and snprintf. */
#define ALT_STACK_SIZE (64 * 1024)

static struct sigaction prev_segv, prev_bus;
static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static int install_error;
static __thread void *alt_stack;

static bool fault_is_ours(uintptr_t pc, uintptr_t fp, int *code)
{
    struct sbx_activation *act = sbx_activation_current();
    if (!act || fp < act->stack_lo + 8 || fp + 16 > act->stack_hi) return false;
    const struct sbx_vmctx *vm = *(struct sbx_vmctx *const *)(fp - 8);
    if (!vm || !vm->instance) return false;
    const struct sbx_compiled *c = sbx_instance_compiled(vm->instance);
    uintptr_t base = (uintptr_t)c->code;
    if (pc < base || pc >= base + c->code_size) return false;
    *code = sbx_compiled_trap_at(c, (uint32_t)(pc - base));
    return *code != SBX_TRAP_NONE;
}

static void on_fault(int sig, siginfo_t *si, void *uctx)
{
    ucontext_t *uc = uctx;
    uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    uintptr_t fp = (uintptr_t)uc->uc_mcontext.gregs[REG_RBP];
    int code;
    if (fault_is_ours(pc, fp, &code)) sbx_trap_unwind(code, NULL, pc, fp);

    /* Not a wasm trap: hand it to whoever had the signal before us. */
    struct sigaction *prev = sig == SIGSEGV ? &prev_segv : &prev_bus;
    if (prev->sa_flags & SA_SIGINFO) {
        prev->sa_sigaction(sig, si, uctx);
    } else if (prev->sa_handler != SIG_IGN && prev->sa_handler != SIG_DFL) {
        prev->sa_handler(sig);
    } else {
        /* Restore the default and return: the fault repeats and kills us. */
        signal(sig, SIG_DFL);
    }
}

static void install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, &prev_segv) || sigaction(SIGBUS, &sa, &prev_bus))
        install_error = -errno;
}

int sbx_signals_init(void)
{
    pthread_once(&install_once, install);
    if (install_error) return install_error;
    if (alt_stack) return 0;
    /* A thread that already has an alternate stack keeps it. */
    stack_t old;
    if (sigaltstack(NULL, &old) == 0 && !(old.ss_flags & SS_DISABLE) &&
        old.ss_size >= ALT_STACK_SIZE)
        return 0;
    void *p =
        mmap(NULL, ALT_STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return -errno;
    stack_t ss = {.ss_sp = p, .ss_size = ALT_STACK_SIZE, .ss_flags = 0};
    if (sigaltstack(&ss, NULL)) {
        int e = -errno;
        munmap(p, ALT_STACK_SIZE);
        return e;
    }
    alt_stack = p;
    return 0;
}
