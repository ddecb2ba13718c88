/* x86-64 registers, condition codes and memory operands: the vocabulary of the
 * encoder (jit/x64.h). Enum values are the hardware register numbers, so bit 3
 * of a register is its REX extension bit and bits 0-2 go into ModRM/SIB. */
#ifndef SBX_JIT_X64_REGS_H
#define SBX_JIT_X64_REGS_H

#include <stdbool.h>
#include <stdint.h>

/* General-purpose registers, numbered as the hardware numbers them. */
enum x64_reg {
    X64_RAX = 0,
    X64_RCX = 1,
    X64_RDX = 2,
    X64_RBX = 3,
    X64_RSP = 4,
    X64_RBP = 5,
    X64_RSI = 6,
    X64_RDI = 7,
    X64_R8 = 8,
    X64_R9 = 9,
    X64_R10 = 10,
    X64_R11 = 11,
    X64_R12 = 12,
    X64_R13 = 13,
    X64_R14 = 14,
    X64_R15 = 15,
    X64_NGPR = 16,
    X64_RIP = 16,     /* only as a memory base: [rip + disp32] */
    X64_NOREG = 0xff, /* no base / no index in a memory operand */
};

/* SSE registers. */
enum x64_xmm {
    X64_XMM0 = 0,
    X64_XMM1,
    X64_XMM2,
    X64_XMM3,
    X64_XMM4,
    X64_XMM5,
    X64_XMM6,
    X64_XMM7,
    X64_XMM8,
    X64_XMM9,
    X64_XMM10,
    X64_XMM11,
    X64_XMM12,
    X64_XMM13,
    X64_XMM14,
    X64_XMM15,
    X64_NXMM,
};

/* Condition codes: the low nibble of jcc/setcc/cmovcc. cc ^ 1 is the negation. */
enum x64_cc {
    X64_CC_O = 0x0,  /* overflow */
    X64_CC_NO = 0x1, /* no overflow */
    X64_CC_B = 0x2,  /* below (unsigned <), carry */
    X64_CC_AE = 0x3, /* above or equal (unsigned >=), no carry */
    X64_CC_E = 0x4,  /* equal, zero */
    X64_CC_NE = 0x5, /* not equal, not zero */
    X64_CC_BE = 0x6, /* below or equal (unsigned <=) */
    X64_CC_A = 0x7,  /* above (unsigned >) */
    X64_CC_S = 0x8,  /* sign */
    X64_CC_NS = 0x9, /* no sign */
    X64_CC_P = 0xa,  /* parity (unordered after ucomis*) */
    X64_CC_NP = 0xb, /* no parity (ordered) */
    X64_CC_L = 0xc,  /* less (signed <) */
    X64_CC_GE = 0xd, /* greater or equal (signed >=) */
    X64_CC_LE = 0xe, /* less or equal (signed <=) */
    X64_CC_G = 0xf,  /* greater (signed >) */
};

static inline enum x64_cc x64_cc_invert(enum x64_cc cc)
{
    return (enum x64_cc)(cc ^ 1);
}

/* What the System V ABI says about each general-purpose register. */
struct x64_reg_info {
    const char *name64, *name32, *name8;
    bool callee_saved; /* preserved across calls (SysV) */
    int8_t arg;        /* integer argument position, or -1 */
};

extern const struct x64_reg_info x64_reg_table[X64_NGPR];

/* A memory operand [base + index*scale + disp]. base may be X64_RIP (then no
 * index) or X64_NOREG (absolute disp32, optionally with an index). index may
 * not be rsp. Build them with x64_mem / x64_mem_idx. */
struct x64_mem {
    uint8_t base;  /* enum x64_reg, X64_RIP or X64_NOREG */
    uint8_t index; /* enum x64_reg or X64_NOREG */
    uint8_t scale; /* 1, 2, 4 or 8 */
    int32_t disp;
};

/* [base + disp] */
static inline struct x64_mem x64_mem(enum x64_reg base, int32_t disp)
{
    return (struct x64_mem){.base = (uint8_t)base, .index = X64_NOREG, .scale = 1, .disp = disp};
}

/* [base + index*scale + disp] */
static inline struct x64_mem x64_mem_idx(enum x64_reg base, enum x64_reg index, unsigned scale,
                                         int32_t disp)
{
    return (struct x64_mem){
        .base = (uint8_t)base, .index = (uint8_t)index, .scale = (uint8_t)scale, .disp = disp};
}

#endif
