/* Calling into wasm from C: marshal arguments into the outgoing-area layout
 * of jit/vmctx.h, run on a wasm stack with a guard page below it, and turn
 * a trap (siglongjmp back here) into a return value. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "jit/activation.h"

/* AddressSanitizer poisons the redzones of C frames that run on the wasm
 * stack (trap entry, host functions, libcalls); a trap leaves them by
 * siglongjmp, so their poison would stay and trip later frames at the same
 * addresses. After a trap the abandoned part of the stack is unpoisoned. */
#if defined(__SANITIZE_ADDRESS__)
#define SBX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SBX_ASAN 1
#endif
#endif
#ifdef SBX_ASAN
#include <sanitizer/asan_interface.h>
#endif
#include "jit/instance.h"
#include "jit/vmctx_offsets.h"

_Static_assert(SBX_VMCTX_FUEL == offsetof(struct sbx_vmctx, fuel), "vmctx layout");
_Static_assert(SBX_VMCTX_EPOCH == offsetof(struct sbx_vmctx, epoch), "vmctx layout");
_Static_assert(SBX_VMCTX_EPOCH_DEADLINE == offsetof(struct sbx_vmctx, epoch_deadline), "vmctx");
_Static_assert(SBX_VMCTX_MEMORY == offsetof(struct sbx_vmctx, memory), "vmctx layout");
_Static_assert(SBX_VMCTX_TABLES == offsetof(struct sbx_vmctx, tables), "vmctx layout");
_Static_assert(SBX_VMCTX_GLOBALS == offsetof(struct sbx_vmctx, globals), "vmctx layout");
_Static_assert(SBX_VMCTX_FUNCS == offsetof(struct sbx_vmctx, funcs), "vmctx layout");
_Static_assert(SBX_VMCTX_TYPE_IDS == offsetof(struct sbx_vmctx, type_ids), "vmctx layout");
_Static_assert(SBX_VMCTX_INSTANCE == offsetof(struct sbx_vmctx, instance), "vmctx layout");
_Static_assert(offsetof(struct sbx_memory, base) == 0, "entry trampoline loads memory->base");

void sbx_enter_wasm(void *vmctx, void *code, uint64_t *slots, size_t area_bytes, void *stack_top,
                    uint64_t ret[2]);
int sbx_host_call_direct(struct sbx_host_func *f, const union sbx_val *args, union sbx_val *results,
                         struct sbx_trap *trap);

/* Host code (libcalls, host functions) runs on the wasm stack too, below
 * the limit compiled prologues enforce; this much is kept for it. */
#define HOST_RESERVE (128 * 1024)
/* Argument and result slots kept on the host stack (sbx_call_funcref). */
#define SMALL_SIGNATURE_SLOTS 16

__thread uintptr_t sbx_stack_limit __attribute__((tls_model("initial-exec")));
static __thread struct sbx_activation *current;

/* This thread's wasm stack for outermost activations, kept between calls. */
static __thread struct {
    uint8_t *map;
    size_t map_size, usable;
} thread_stack;

struct sbx_activation *sbx_activation_current(void)
{
    return current;
}

int32_t sbx_stack_limit_tpoff(void)
{
    uintptr_t tp;
    __asm__("mov %%fs:0, %0" : "=r"(tp));
    return (int32_t)((intptr_t)&sbx_stack_limit - (intptr_t)tp);
}

static int get_thread_stack(size_t usable, uintptr_t *lo, uintptr_t *hi)
{
    long page = sysconf(_SC_PAGESIZE);
    usable = (usable + HOST_RESERVE + (size_t)page - 1) & ~((size_t)page - 1);
    if (thread_stack.map && thread_stack.usable != usable) {
        munmap(thread_stack.map, thread_stack.map_size);
        thread_stack.map = NULL;
    }
    if (!thread_stack.map) {
        /* [guard page][usable]: running past the end faults, never corrupts. */
        size_t size = usable + (size_t)page;
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) return -errno;
        if (mprotect(p, (size_t)page, PROT_NONE)) {
            int e = -errno;
            munmap(p, size);
            return e;
        }
        thread_stack.map = p, thread_stack.map_size = size, thread_stack.usable = usable;
    }
    *lo = (uintptr_t)thread_stack.map + (uintptr_t)page;
    *hi = *lo + usable;
    return 0;
}

int sbx_runtime_prepare_thread(size_t stack_size)
{
    int e = sbx_signals_init();
    uintptr_t lo, hi;
    return e ? e : get_thread_stack(stack_size ? stack_size : SBX_DEFAULT_WASM_STACK, &lo, &hi);
}

void sbx_runtime_touch_thread_stack(void)
{
    if (!thread_stack.map) return;
    volatile uint64_t *top =
        (volatile uint64_t *)((char *)thread_stack.map + thread_stack.map_size - sizeof(uint64_t));
    *top = 0;
}

static void set_trap(struct sbx_trap *trap, int code, const char *msg)
{
    memset(trap, 0, sizeof(*trap));
    trap->code = code;
    strncpy(trap->message, msg, sizeof(trap->message) - 1);
}

int sbx_invoke(struct sbx_funcref *ref, const struct sbx_functype *type, const union sbx_val *args,
               union sbx_val *results, size_t stack_size, struct sbx_trap *trap)
{
    if (sbx_funcref_is_host(ref))
        return sbx_host_call_direct((struct sbx_host_func *)ref->vmctx, args, results, trap);
    for (uint32_t i = 0; i < type->nparams; i++)
        if (type->params[i] == SBX_V128) {
            set_trap(trap, SBX_TRAP_HOST, "calling with v128 arguments is not supported yet");
            return -1;
        }
    if (sbx_signals_init()) {
        set_trap(trap, SBX_TRAP_HOST, "cannot install the trap handler");
        return -1;
    }

    /* Nested activations (a host function calling back into wasm) continue
     * on the same wasm stack, below the host function's frame. */
    uintptr_t lo = 0, hi = 0, top;
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    if (current && here > current->stack_lo && here < current->stack_hi) {
        lo = current->stack_lo, hi = current->stack_hi;
        top = (here - 4096) & ~(uintptr_t)15;
    } else {
        if (get_thread_stack(stack_size ? stack_size : SBX_DEFAULT_WASM_STACK, &lo, &hi)) {
            set_trap(trap, SBX_TRAP_HOST, "cannot allocate a wasm stack");
            return -1;
        }
        top = hi & ~(uintptr_t)15;
    }

    uint32_t nslots = type->nparams > type->nresults ? type->nparams : type->nresults;
    size_t area = ((size_t)nslots * 8 + 15) & ~(size_t)15;
    if (area + 4096 > top - lo) {
        set_trap(trap, SBX_TRAP_STACK_EXHAUSTED, sbx_trap_message(SBX_TRAP_STACK_EXHAUSTED));
        return -1;
    }
    /* Most signatures fit on the stack. A worker that allocates writes the
     * allocator's state and a heap page, which it shares with the process
     * it was forked from: two copy-on-write faults for a call's few words. */
    uint64_t few[SMALL_SIGNATURE_SLOTS + 2] = {0};
    uint64_t *slots = nslots <= SMALL_SIGNATURE_SLOTS ? few : calloc(nslots + 2, sizeof(uint64_t));
    if (!slots) {
        set_trap(trap, SBX_TRAP_HOST, "out of memory");
        return -1;
    }
    sbx_vals_to_slots(args, slots, type->params, type->nparams);
    uint64_t ret[2] = {0, 0};
    memset(trap, 0, sizeof(*trap));

    struct sbx_activation act = {.trap = trap, .stack_lo = lo, .stack_hi = hi, .prev = current};
    act.saved_limit = sbx_stack_limit;
    current = &act;
    sbx_stack_limit = lo + HOST_RESERVE;
    int rc = 0;
    if (sigsetjmp(act.jb, 1) == 0) {
        sbx_enter_wasm(ref->vmctx, ref->code, slots, area, (void *)top, ret);
    } else {
        rc = -1; /* a trap: *trap was filled before the jump */
#ifdef SBX_ASAN
        __asan_unpoison_memory_region((void *)lo, top - lo);
#endif
    }
    current = act.prev;
    sbx_stack_limit = act.saved_limit;

    if (rc == 0) {
        if (type->nresults == 1) {
            uint8_t t = type->results[0];
            memset(&results[0], 0, sizeof(results[0]));
            if (t == SBX_F32)
                results[0].f32 = (uint32_t)ret[1];
            else if (t == SBX_F64)
                results[0].f64 = ret[1];
            else if (t == SBX_I32)
                results[0].i32 = (uint32_t)ret[0];
            else
                results[0].i64 = ret[0];
        } else {
            sbx_slots_to_vals(slots, results, type->results, type->nresults);
        }
    }
    if (slots != few) free(slots);
    return rc;
}

int sbx_call_funcref(struct sbx_funcref *ref, const struct sbx_functype *type,
                     const union sbx_val *args, union sbx_val *results, struct sbx_trap *trap)
{
    size_t stack = SBX_DEFAULT_WASM_STACK;
    if (!sbx_funcref_is_host(ref)) {
        const struct sbx_vmctx *vm = ref->vmctx;
        stack = ((const struct sbx_instance *)vm->instance)->stack_size;
    }
    return sbx_invoke(ref, type, args, results, stack, trap);
}
