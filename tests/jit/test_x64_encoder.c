/* The x86-64 encoder byte for byte against GNU as (x64_golden.def), the code
 * buffer's labels and errors, and code memory: code that runs, W^X mappings
 * and a sealed memfd. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jit/code_memory.h"
#include "jit/codebuf.h"
#include "jit/x64.h"

/* Register names as the assembler spells them, so rows read like the text. */
#define rax   X64_RAX
#define rcx   X64_RCX
#define rdx   X64_RDX
#define rbx   X64_RBX
#define rsp   X64_RSP
#define rbp   X64_RBP
#define rsi   X64_RSI
#define rdi   X64_RDI
#define r8    X64_R8
#define r9    X64_R9
#define r10   X64_R10
#define r11   X64_R11
#define r12   X64_R12
#define r13   X64_R13
#define r14   X64_R14
#define r15   X64_R15
#define xmm0  X64_XMM0
#define xmm1  X64_XMM1
#define xmm2  X64_XMM2
#define xmm3  X64_XMM3
#define xmm4  X64_XMM4
#define xmm5  X64_XMM5
#define xmm6  X64_XMM6
#define xmm7  X64_XMM7
#define xmm8  X64_XMM8
#define xmm9  X64_XMM9
#define xmm10 X64_XMM10
#define xmm11 X64_XMM11
#define xmm12 X64_XMM12
#define xmm13 X64_XMM13
#define xmm14 X64_XMM14
#define xmm15 X64_XMM15

/* A label bound at the current position: the target of `j .` in the table. */
static cb_label here(struct codebuf *b)
{
    cb_label l = cb_new_label(b);
    cb_bind(b, l);
    return l;
}

/* -- Golden bytes ---------------------------------------------------------- */

#define ROW(name, text, bytes, ...)                                                                \
    static void emit_##name(struct codebuf *b)                                                     \
    {                                                                                              \
        __VA_ARGS__;                                                                               \
    }
#include "tests/jit/x64_golden.def"
#undef ROW

struct golden {
    const char *name, *text;
    const char *bytes;
    size_t n;
    void (*emit)(struct codebuf *b);
};

static const struct golden golden[] = {
#define ROW(name, text, bytes, ...) {#name, text, bytes, sizeof(bytes) - 1, emit_##name},
#include "tests/jit/x64_golden.def"
#undef ROW
};

static void hex(char *out, size_t cap, const uint8_t *p, size_t n)
{
    size_t at = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && at + 4 < cap; i++)
        at += (size_t)snprintf(out + at, cap - at, "%02x ", p[i]);
}

Test(x64_encoder, golden_bytes_match_gnu_as)
{
    size_t failed = 0;
    for (size_t i = 0; i < sizeof golden / sizeof golden[0]; i++) {
        const struct golden *g = &golden[i];
        struct codebuf b;
        cb_init(&b);
        g->emit(&b);
        int rc = cb_finish(&b);
        if (rc || b.len != g->n || memcmp(b.data, g->bytes, g->n) != 0) {
            char have[128], want[128];
            hex(have, sizeof have, b.data ? b.data : (const uint8_t *)"", b.len);
            hex(want, sizeof want, (const uint8_t *)g->bytes, g->n);
            cr_expect_fail("%s (%s): emitted [%s] rc %d, as gives [%s]", g->name, g->text, have, rc,
                           want);
            failed++;
        }
        cb_free(&b);
    }
    cr_assert_eq(failed, 0, "%zu of %zu encodings differ", failed,
                 sizeof golden / sizeof golden[0]);
}

/* -- Code buffer: labels, fixups, errors ----------------------------------- */

static int32_t rel32_at(const struct codebuf *b, size_t pos)
{
    uint32_t v = (uint32_t)b->data[pos] | (uint32_t)b->data[pos + 1] << 8 |
                 (uint32_t)b->data[pos + 2] << 16 | (uint32_t)b->data[pos + 3] << 24;
    return (int32_t)v;
}

Test(codebuf, forward_and_backward_labels)
{
    struct codebuf b;
    cb_init(&b);
    cb_label top = here(&b), end = cb_new_label(&b);
    x64_jcc(&b, X64_CC_E, end);  /* 0: 0f 84 rel32, field at 2 */
    x64_jcc8(&b, X64_CC_L, end); /* 6: 7c rel8, field at 7 */
    x64_jmp8(&b, top);           /* 8: eb fe-10 */
    x64_call(&b, end);           /* 10: e8 rel32, field at 11 */
    x64_nop(&b, 5);              /* 15 */
    cb_bind(&b, end);            /* 20 */
    x64_jmp(&b, top);            /* 20: e9 rel32 = 0 - 25 */
    cr_assert_eq(cb_finish(&b), 0);
    cr_assert_eq(b.len, 25);
    cr_expect_eq(rel32_at(&b, 2), 20 - 6);
    cr_expect_eq((int8_t)b.data[7], 20 - 8);
    cr_expect_eq((int8_t)b.data[9], 0 - 10);
    cr_expect_eq(rel32_at(&b, 11), 20 - 15);
    cr_expect_eq(rel32_at(&b, 21), 0 - 25);
    cr_expect_eq(cb_label_pos(&b, end), 20);
    cb_free(&b);
}

Test(codebuf, rel8_reaches_127_forward_and_128_back)
{
    struct codebuf b;
    cb_init(&b);
    cb_label back = here(&b), fwd = cb_new_label(&b);
    x64_nop(&b, 126);
    x64_jmp8(&b, back); /* at 126, ends at 128: rel -128 */
    x64_jmp8(&b, fwd);  /* at 128, ends at 130 */
    x64_nop(&b, 127);
    cb_bind(&b, fwd); /* 257: rel 127 */
    cr_assert_eq(cb_finish(&b), 0);
    cr_expect_eq((int8_t)b.data[127], -128);
    cr_expect_eq((int8_t)b.data[129], 127);
    cb_free(&b);
}

Test(codebuf, rel8_forward_out_of_range_is_erange_at_bind)
{
    struct codebuf b;
    cb_init(&b);
    cb_label fwd = cb_new_label(&b);
    x64_jcc8(&b, X64_CC_NE, fwd);
    x64_nop(&b, 128);
    cr_expect_eq(cb_error(&b), 0);
    cb_bind(&b, fwd);
    cr_expect_eq(cb_error(&b), -ERANGE);
    cr_expect_eq(cb_finish(&b), -ERANGE);
    cb_free(&b);
}

Test(codebuf, rel8_backward_out_of_range_is_erange_at_emit)
{
    struct codebuf b;
    cb_init(&b);
    cb_label back = here(&b);
    x64_nop(&b, 127);
    x64_jmp8(&b, back); /* ends at 129: rel -129 */
    cr_expect_eq(cb_finish(&b), -ERANGE);
    cb_free(&b);
}

Test(codebuf, referenced_label_never_bound_fails_finish)
{
    struct codebuf b;
    cb_init(&b);
    cb_label unused = cb_new_label(&b), l = cb_new_label(&b);
    (void)unused; /* unreferenced and unbound: fine */
    x64_jmp(&b, l);
    cr_expect_eq(cb_error(&b), 0);
    cr_expect_eq(cb_finish(&b), -EINVAL);
    cb_free(&b);
}

Test(codebuf, misuse_is_einval_and_later_emission_is_a_noop)
{
    struct codebuf b;
    cb_init(&b);
    cb_label l = here(&b);
    cb_bind(&b, l); /* twice */
    cr_expect_eq(cb_error(&b), -EINVAL);
    size_t len = b.len;
    x64_ret(&b);
    cr_expect_eq(b.len, len);
    cb_free(&b);
}

/* `stmt` (emitting into `b`) is refused with -EINVAL and emits nothing. */
#define EXPECT_EINVAL(...)                                                                         \
    do {                                                                                           \
        struct codebuf buf_, *b = &buf_;                                                           \
        cb_init(b);                                                                                \
        __VA_ARGS__;                                                                               \
        cr_expect_eq(cb_finish(b), -EINVAL, "%s", #__VA_ARGS__);                                   \
        cr_expect_eq(b->len, 0, "%s", #__VA_ARGS__);                                               \
        cb_free(b);                                                                                \
    } while (0)

Test(codebuf, operands_the_instruction_cannot_take_are_einval)
{
    EXPECT_EINVAL(x64_alu_rr(b, X64_ADD, 16, rax, rcx));
    EXPECT_EINVAL(x64_alu_rr(b, (enum x64_alu)2, 32, rax, rcx)); /* adc: not offered */
    EXPECT_EINVAL(x64_alu_ri(b, X64_ADD, 32, (enum x64_reg)16, 1));
    EXPECT_EINVAL(x64_mov_rm(b, 32, rax, x64_mem_idx(rax, rsp, 1, 0))); /* rsp as index */
    EXPECT_EINVAL(x64_mov_rm(b, 32, rax, x64_mem_idx(rax, rcx, 3, 0))); /* scale 3 */
    EXPECT_EINVAL(x64_mov_rm(b, 32, rax, x64_mem_idx(X64_RIP, rcx, 1, 0)));
    EXPECT_EINVAL(x64_mov_rm(b, 8, rax, x64_mem(rax, 0))); /* loads are 32/64 */
    EXPECT_EINVAL(x64_movzx_rr(b, 64, 32, rax, rcx));      /* that is mov r32 */
    EXPECT_EINVAL(x64_movsx_rr(b, 32, 32, rax, rcx));
    EXPECT_EINVAL(x64_shift_ri(b, (enum x64_shift)6, 32, rax, 1));
    EXPECT_EINVAL(x64_unary_r(b, (enum x64_unary)5, 32, rax));
    EXPECT_EINVAL(x64_setcc(b, (enum x64_cc)16, rax));
    EXPECT_EINVAL(x64_sse_mr(b, X64_ADDSS, x64_mem(rax, 0), xmm0)); /* no store form */
    EXPECT_EINVAL(x64_sse_rr(b, X64_ADDSS, (enum x64_xmm)16, xmm0));
    EXPECT_EINVAL(x64_movd_xr(b, 16, xmm0, rax));
    EXPECT_EINVAL(x64_roundsd(b, xmm0, xmm1, 16));
    EXPECT_EINVAL(x64_align_nop(b, 3));
    EXPECT_EINVAL(x64_jmp(b, 7)); /* no such label */
    EXPECT_EINVAL(cb_patch32(b, 0, 1));
}

Test(codebuf, grows_past_many_pages_and_patches)
{
    struct codebuf b;
    cb_init(&b);
    for (int i = 0; i < 100000; i++)
        x64_alu_ri(&b, X64_ADD, 64, r15, 1000); /* 7 bytes each */
    cb_patch32(&b, 3, 0xdeadbeef);
    cr_assert_eq(cb_finish(&b), 0);
    cr_expect_eq(b.len, 700000);
    cr_expect_eq(rel32_at(&b, 3), (int32_t)0xdeadbeef);
    cr_expect_eq(b.data[699996], 0xe8); /* 1000 = 0x3e8 */
    cb_free(&b);
}

/* -- CPU features ----------------------------------------------------------- */

Test(x64_encoder, cpu_features_agree_with_the_compiler_builtin)
{
    __builtin_cpu_init();
    unsigned f = x64_cpu_features();
    cr_expect_eq(!!(f & X64_CPU_POPCNT), !!__builtin_cpu_supports("popcnt"));
    cr_expect_eq(!!(f & X64_CPU_SSE41), !!__builtin_cpu_supports("sse4.1"));
    cr_expect_eq(!!(f & X64_CPU_AVX), !!__builtin_cpu_supports("avx"));
    cr_expect_eq(!!(f & X64_CPU_BMI1), !!__builtin_cpu_supports("bmi"));
}

Test(x64_encoder, register_table_follows_sysv)
{
    static const enum x64_reg args[] = {rdi, rsi, rdx, rcx, r8, r9};
    for (int i = 0; i < 6; i++)
        cr_expect_eq(x64_reg_table[args[i]].arg, i, "%s", x64_reg_table[args[i]].name64);
    unsigned saved = 0;
    for (int r = 0; r < X64_NGPR; r++) {
        cr_expect_not_null(x64_reg_table[r].name8);
        saved |= x64_reg_table[r].callee_saved ? 1u << r : 0;
    }
    cr_expect_eq(saved,
                 1u << rbx | 1u << rsp | 1u << rbp | 1u << r12 | 1u << r13 | 1u << r14 | 1u << r15);
}
