/* LEB128 edge cases through tiny hand-built modules: the longest legal
 * encodings load, one byte more or unused bits set are rejected at the
 * offending byte, and a number cut off by the end of the module is "unexpected
 * end". */
#include <criterion/criterion.h>
#include <string.h>

#include "tests/unit/wasm_build.h"

/* A module whose only function returns `opcode` `leb...` (an i32.const or
 * i64.const), with the immediate at byte offset CONST_AT. */
#define CONST_AT 25

static void const_module(struct wbuf *b, uint8_t opcode, uint8_t type, const uint8_t *leb, size_t n)
{
    /* clang-format off */
    const uint8_t head[] = {
        WASM_HEADER,
        SEC_TYPE, 0x05, 0x01, 0x60, 0x00, 0x01, type, /* () -> type */
        SEC_FUNCTION, 0x02, 0x01, 0x00,
    };
    /* clang-format on */
    wb_bytes(b, head, sizeof head);
    wb_u8(b, SEC_CODE);
    wb_u8(b, (uint8_t)(5 + n)); /* count, body size, locals, opcode, end */
    wb_u8(b, 0x01);
    wb_u8(b, (uint8_t)(3 + n));
    wb_u8(b, 0x00);
    wb_u8(b, opcode);
    cr_assert_eq(b->len, CONST_AT);
    wb_bytes(b, leb, n);
    wb_u8(b, 0x0b);
}

static void expect_const(uint8_t opcode, uint8_t type, const uint8_t *leb, size_t n,
                         const char *error, size_t error_at)
{
    struct wbuf b = {0};
    const_module(&b, opcode, type, leb, n);
    if (error) {
        t_expect_reject(b.p, b.len, error_at, error);
    } else {
        struct sbx_module *m = t_expect_load(b.p, b.len);
        sbx_module_free(m);
    }
    wb_free(&b);
}

Test(leb128, u32_padded_to_five_bytes_loads)
{
    /* Type section count 1 written in 5 bytes, the most a u32 may take. */
    struct sbx_module *m =
        EXPECT_LOAD(WASM_HEADER, SEC_TYPE, 0x08, 0x81, 0x80, 0x80, 0x80, 0x00, 0x60, 0x00, 0x00);
    cr_assert_eq(m->ntypes, 1);
    sbx_module_free(m);
}

Test(leb128, section_size_padded_loads)
{
    struct sbx_module *m =
        EXPECT_LOAD(WASM_HEADER, SEC_TYPE, 0x84, 0x80, 0x80, 0x80, 0x00, 0x01, 0x60, 0x00, 0x00);
    cr_assert_eq(m->ntypes, 1);
    sbx_module_free(m);
}

Test(leb128, u32_six_bytes_too_long)
{
    EXPECT_REJECT(15, "integer representation too long", WASM_HEADER, SEC_TYPE, 0x09, 0x81, 0x80,
                  0x80, 0x80, 0x80, 0x00, 0x60, 0x00, 0x00);
}

Test(leb128, u32_unused_bits_set_too_large)
{
    /* The fifth byte of a u32 carries 4 value bits; 0x10 sets the fifth. */
    EXPECT_REJECT(14, "integer too large", WASM_HEADER, SEC_TYPE, 0x08, 0x81, 0x80, 0x80, 0x80,
                  0x10, 0x60, 0x00, 0x00);
}

Test(leb128, u32_cut_off_by_end_of_module)
{
    EXPECT_REJECT(12, "unexpected end", WASM_HEADER, SEC_TYPE, 0x02, 0x81, 0x80);
}

Test(leb128, u32_max_decodes_then_fails_validation)
{
    /* Memory minimum 2^32-1 pages: a well-formed number, an invalid memory. */
    EXPECT_REJECT(SIZE_MAX, "memory size must be at most 65536 pages", WASM_HEADER, SEC_MEMORY,
                  0x07, 0x01, 0x00, 0xff, 0xff, 0xff, 0xff, 0x0f);
}

Test(leb128, memory_of_exactly_4gib_loads)
{
    struct sbx_module *m = EXPECT_LOAD(WASM_HEADER, SEC_MEMORY, 0x05, 0x01, 0x00, 0x80, 0x80, 0x04);
    cr_assert_eq(m->nmemories, 1);
    cr_assert_eq(m->memories[0].min, 65536);
    cr_assert_not(m->memories[0].has_max);
    sbx_module_free(m);
}

Test(leb128, s32_edges)
{
    const uint8_t minus_one_long[] = {0xff, 0xff, 0xff, 0xff, 0x7f};
    const uint8_t int_max[] = {0xff, 0xff, 0xff, 0xff, 0x07};
    const uint8_t int_min[] = {0x80, 0x80, 0x80, 0x80, 0x78};
    const uint8_t zero_long[] = {0x80, 0x80, 0x80, 0x80, 0x00};
    expect_const(0x41, SBX_I32, minus_one_long, 5, NULL, 0);
    expect_const(0x41, SBX_I32, int_max, 5, NULL, 0);
    expect_const(0x41, SBX_I32, int_min, 5, NULL, 0);
    expect_const(0x41, SBX_I32, zero_long, 5, NULL, 0);
}

Test(leb128, s32_bad_sign_extension_too_large)
{
    /* Bits 4-6 of the fifth byte must repeat bit 3, the sign. */
    const uint8_t bad_neg[] = {0xff, 0xff, 0xff, 0xff, 0x4f};
    const uint8_t bad_pos[] = {0x80, 0x80, 0x80, 0x80, 0x70};
    expect_const(0x41, SBX_I32, bad_neg, 5, "integer too large", CONST_AT + 4);
    expect_const(0x41, SBX_I32, bad_pos, 5, "integer too large", CONST_AT + 4);
}

Test(leb128, s32_six_bytes_too_long)
{
    const uint8_t leb[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    expect_const(0x41, SBX_I32, leb, 6, "integer representation too long", CONST_AT + 5);
}

Test(leb128, s64_edges)
{
    const uint8_t minus_one_long[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
    const uint8_t int_min[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f};
    const uint8_t int_max[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00};
    expect_const(0x42, SBX_I64, minus_one_long, 10, NULL, 0);
    expect_const(0x42, SBX_I64, int_min, 10, NULL, 0);
    expect_const(0x42, SBX_I64, int_max, 10, NULL, 0);
}

Test(leb128, s64_bad_tenth_byte)
{
    /* The tenth byte of an s64 carries only the sign bit. */
    const uint8_t bad[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x41};
    const uint8_t too_long[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    expect_const(0x42, SBX_I64, bad, 10, "integer too large", CONST_AT + 9);
    expect_const(0x42, SBX_I64, too_long, 11, "integer representation too long", CONST_AT + 10);
}
