/* C functions that compiled code calls (System V ABI) for operations too
 * large or rare to inline. Those that can trap return 0 or a trap code; the
 * caller jumps to its trap stub with that code. Internal to jit/. */
#ifndef SBX_JIT_LIBCALLS_H
#define SBX_JIT_LIBCALLS_H

#include <stdint.h>

#include "jit/vmctx.h"

/* Raises a trap from a stub of compiled code: fp is the function's frame,
 * pc a place inside it. */
_Noreturn void sbx_trap_from_wasm(int code, uintptr_t fp, uintptr_t pc);
/* The same, for traps whose message names an index (the reference
 * interpreter's "uninitialized element 2"). */
_Noreturn void sbx_trap_from_wasm_index(int code, uintptr_t fp, uintptr_t pc, uint32_t index);

/* memory.grow: the old size in pages, or -1. */
uint32_t sbx_rt_memory_grow(struct sbx_vmctx *vm, uint32_t delta);
int sbx_rt_memory_fill(struct sbx_vmctx *vm, uint32_t dst, uint32_t value, uint32_t n);
int sbx_rt_memory_copy(struct sbx_vmctx *vm, uint32_t dst, uint32_t src, uint32_t n);
int sbx_rt_memory_init(struct sbx_vmctx *vm, uint32_t seg, uint32_t dst, uint32_t src, uint32_t n);
void sbx_rt_data_drop(struct sbx_vmctx *vm, uint32_t seg);

/* table.grow: the old size, or -1. */
uint32_t sbx_rt_table_grow(struct sbx_vmctx *vm, uint32_t table, void *init, uint32_t delta);
int sbx_rt_table_fill(struct sbx_vmctx *vm, uint32_t table, uint32_t dst, void *value, uint32_t n);
int sbx_rt_table_copy(struct sbx_vmctx *vm, uint32_t dst_table, uint32_t src_table, uint32_t dst,
                      uint32_t src, uint32_t n);
int sbx_rt_table_init(struct sbx_vmctx *vm, uint32_t table, uint32_t seg, uint32_t dst,
                      uint32_t src, uint32_t n);
void sbx_rt_elem_drop(struct sbx_vmctx *vm, uint32_t seg);

/* Float-to-integer truncations (trapping and saturating) and unsigned
 * 64-bit to float conversions, by opcode: the value in rax, a trap code (or
 * 0) in rdx. */
struct sbx_rt_result {
    uint64_t value;
    uint64_t trap;
};
struct sbx_rt_result sbx_rt_convert(uint32_t op, uint64_t bits);

#endif
