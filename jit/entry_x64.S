/* Trampolines between C and compiled wasm code (x86-64 SysV, Intel syntax).
 *
 * sbx_enter_wasm switches to the wasm stack and calls a function with the
 * register conventions of jit/vmctx.h. Its frame on the wasm stack:
 *
 *   top - 8   0          fake return address: ends backtraces
 *   top - 16  0          fake saved rbp; rbp points here during the call
 *   top - 24  native rsp (to return to C)
 *   top - 32  area bytes
 *   top - 40  slots      (C buffer the area is copied from and back to)
 *   top - 48  ret        (where rax and xmm0 are stored)
 *   top - 48 - bytes     outgoing area = rsp at the call (16-byte aligned)
 *
 * A trap never returns here: the runtime siglongjmps to the C caller.
 */
#include "jit/vmctx_offsets.h"

        .intel_syntax noprefix
        .text

/* void sbx_enter_wasm(void *vmctx, void *code, uint64_t *slots,
 *                     size_t area_bytes, void *stack_top, uint64_t ret[2]);
 * area_bytes and stack_top are multiples of 16. */
        .globl  sbx_enter_wasm
        .type   sbx_enter_wasm, @function
sbx_enter_wasm:
        push    rbp
        mov     rbp, rsp
        push    rbx
        push    r12
        push    r13
        push    r14
        push    r15
        sub     rsp, 8                  /* keep rsp 16-byte aligned */
        mov     qword ptr [r8 - 8], 0
        mov     qword ptr [r8 - 16], 0
        mov     [r8 - 24], rsp
        mov     [r8 - 32], rcx
        mov     [r8 - 40], rdx
        mov     [r8 - 48], r9
        lea     rbp, [r8 - 16]
        lea     rsp, [r8 - 48]
        sub     rsp, rcx
        mov     r12, rdi                /* vmctx */
        mov     r13, rsi                /* code */
        mov     rdi, rsp                /* copy the arguments in */
        mov     rsi, rdx
        rep movsb
        mov     r15, r12
        mov     r14, [r15 + SBX_VMCTX_MEMORY]
        test    r14, r14
        jz      1f
        mov     r14, [r14]              /* memory->base */
1:      call    r13
        mov     rcx, [rbp - 16]         /* copy the area (results) back */
        mov     rdi, [rbp - 24]
        mov     rsi, rsp
        rep movsb
        mov     rdx, [rbp - 32]
        mov     [rdx], rax
        movq    [rdx + 8], xmm0
        mov     rsp, [rbp - 8]          /* back to the native stack */
        add     rsp, 8
        pop     r15
        pop     r14
        pop     r13
        pop     r12
        pop     rbx
        pop     rbp
        ret
        .size   sbx_enter_wasm, .-sbx_enter_wasm

/* The code of every host function's funcref. Called from wasm like any
 * function, with r15 = the struct sbx_host_func and the arguments in the
 * caller's outgoing area; the caller's own vmctx is at [caller rbp - 8]. */
        .globl  sbx_host_trampoline
        .type   sbx_host_trampoline, @function
sbx_host_trampoline:
        push    rbp
        mov     rbp, rsp                /* rsp is now 16-byte aligned */
        mov     rdi, r15                /* host function */
        lea     rsi, [rbp + 16]         /* argument/result area */
        mov     rdx, [rbp]              /* caller's frame */
        mov     rcx, [rbp + 8]          /* return address in the caller */
        call    sbx_host_dispatch
        mov     rax, [rbp + 16]         /* a single result, as either kind */
        movq    xmm0, rax
        pop     rbp
        ret
        .size   sbx_host_trampoline, .-sbx_host_trampoline

        .section .note.GNU-stack,"",@progbits
