/* The register table (names and System V roles of the general registers) and
 * CPU feature detection for the encoder's optional instructions. */
#include <cpuid.h>

#include "jit/x64.h"

const struct x64_reg_info x64_reg_table[X64_NGPR] = {
    [X64_RAX] = {"rax", "eax", "al", false, -1},    /* return value, rdx:rax for mul/div */
    [X64_RCX] = {"rcx", "ecx", "cl", false, 3},     /* 4th argument; shift count */
    [X64_RDX] = {"rdx", "edx", "dl", false, 2},     /* 3rd argument; high half of mul/div */
    [X64_RBX] = {"rbx", "ebx", "bl", true, -1},     /* callee-saved */
    [X64_RSP] = {"rsp", "esp", "spl", true, -1},    /* stack pointer: a base needs a SIB */
    [X64_RBP] = {"rbp", "ebp", "bpl", true, -1},    /* frame pointer: a base needs a disp */
    [X64_RSI] = {"rsi", "esi", "sil", false, 1},    /* 2nd argument */
    [X64_RDI] = {"rdi", "edi", "dil", false, 0},    /* 1st argument */
    [X64_R8] = {"r8", "r8d", "r8b", false, 4},      /* 5th argument */
    [X64_R9] = {"r9", "r9d", "r9b", false, 5},      /* 6th argument */
    [X64_R10] = {"r10", "r10d", "r10b", false, -1}, /* scratch */
    [X64_R11] = {"r11", "r11d", "r11b", false, -1}, /* scratch */
    [X64_R12] = {"r12", "r12d", "r12b", true, -1},  /* callee-saved; a base needs a SIB */
    [X64_R13] = {"r13", "r13d", "r13b", true, -1},  /* callee-saved; a base needs a disp */
    [X64_R14] = {"r14", "r14d", "r14b", true, -1},  /* callee-saved */
    [X64_R15] = {"r15", "r15d", "r15b", true, -1},  /* callee-saved */
};

/* XCR0 through xgetbv: which register states the OS saves on a switch. */
static uint64_t xcr0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (uint64_t)hi << 32 | lo;
}

unsigned x64_cpu_features(void)
{
    unsigned a, b, c, d, f = 0;
    unsigned max = __get_cpuid_max(0, NULL);
    if (max >= 1 && __get_cpuid(1, &a, &b, &c, &d)) {
        if (c & (1u << 19)) f |= X64_CPU_SSE41;  /* CPUID.1:ECX.SSE4_1[19] */
        if (c & (1u << 23)) f |= X64_CPU_POPCNT; /* CPUID.1:ECX.POPCNT[23] */
        /* AVX[28] is usable only if the OS enabled xsave (OSXSAVE[27]) and saves
         * both the xmm (XCR0 bit 1) and the upper ymm (bit 2) state. */
        if ((c & (1u << 28)) && (c & (1u << 27)) && (xcr0() & 6) == 6) f |= X64_CPU_AVX;
    }
    if (max >= 7 && __get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        if (b & (1u << 3)) f |= X64_CPU_BMI1; /* CPUID.(7,0):EBX.BMI1[3] */
    }
    if ((unsigned)__get_cpuid_max(0x80000000u, NULL) >= 0x80000001u &&
        __get_cpuid(0x80000001u, &a, &b, &c, &d)) {
        if (c & (1u << 5)) f |= X64_CPU_LZCNT; /* CPUID.80000001H:ECX.LZCNT[5] */
    }
    return f;
}
