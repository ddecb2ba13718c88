/* Activations: one per entry from C into wasm on a thread. A trap (a fault
 * in compiled code, a checked trap, a trapping host function) unwinds to the
 * innermost activation with siglongjmp, after recording the trap and the
 * wasm backtrace. Internal to jit/. */
#ifndef SBX_JIT_ACTIVATION_H
#define SBX_JIT_ACTIVATION_H

#include <setjmp.h>
#include <stdint.h>

#include "jit/runtime.h"

struct sbx_activation {
    sigjmp_buf jb;
    struct sbx_trap *trap;
    uintptr_t stack_lo, stack_hi; /* the wasm stack this activation runs on */
    uintptr_t saved_limit;        /* sbx_stack_limit before this activation */
    struct sbx_activation *prev;
};

/* The innermost activation of this thread, or NULL. */
struct sbx_activation *sbx_activation_current(void);

/* Records a trap in the current activation, with a backtrace starting at
 * return address/pc `pc` in the frame `fp`, and unwinds to it. */
_Noreturn void sbx_trap_unwind(int code, const char *message, uintptr_t pc, uintptr_t fp);

/* The wasm stack limit of this thread, which compiled prologues read through
 * the fs segment at offset sbx_stack_limit_tpoff(). */
extern __thread uintptr_t sbx_stack_limit __attribute__((tls_model("initial-exec")));
int32_t sbx_stack_limit_tpoff(void);

/* Installs the SIGSEGV/SIGBUS handler (once per process) and an alternate
 * signal stack for this thread (once per thread). Returns 0 or -errno. */
int sbx_signals_init(void);

/* Fills trap->frames by walking the rbp chain from (pc, fp). */
void sbx_backtrace(struct sbx_trap *trap, uintptr_t pc, uintptr_t fp, uintptr_t lo, uintptr_t hi);

#endif
