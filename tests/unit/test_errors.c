/* The error model as a caller sees it: which message, at which byte offset,
 * in which function; how sbx_error_format renders it; and the split between
 * decoding (malformed) and validation (invalid). */
#include <criterion/criterion.h>
#include <string.h>

#include "tests/unit/wasm_build.h"

Test(errors, empty_input_is_unexpected_end)
{
    static const uint8_t nothing[1];
    t_expect_reject(nothing, 0, 0, "unexpected end");
}

Test(errors, truncated_header)
{
    EXPECT_REJECT(SIZE_MAX, "unexpected end", 0x00, 0x61, 0x73, 0x6d);
    EXPECT_REJECT(SIZE_MAX, "unexpected end", 0x00, 0x61, 0x73, 0x6d, 0x01);
}

Test(errors, bad_magic_at_offset_0)
{
    EXPECT_REJECT(0, "magic header not detected", 0x00, 0x61, 0x73, 0x78, 0x01, 0x00, 0x00, 0x00);
}

Test(errors, bad_version_at_offset_4)
{
    EXPECT_REJECT(4, "unknown binary version", 0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00);
}

Test(errors, unknown_section_id_at_its_offset)
{
    EXPECT_REJECT(8, "malformed section id", WASM_HEADER, 0x0d, 0x00);
    /* ... also after a valid section. */
    EXPECT_REJECT(11, "malformed section id", WASM_HEADER, SEC_TYPE, 0x01, 0x00, 0x7f, 0x00);
}

Test(errors, sections_out_of_order)
{
    EXPECT_REJECT(SIZE_MAX, "unexpected content after last section", WASM_HEADER, SEC_FUNCTION,
                  0x01, 0x00, SEC_TYPE, 0x01, 0x00);
}

Test(errors, section_size_mismatch)
{
    /* A type section declared 4 bytes long whose single type takes 3. */
    EXPECT_REJECT(SIZE_MAX, "section size mismatch", WASM_HEADER, SEC_TYPE, 0x05, 0x01, 0x60, 0x00,
                  0x00, 0x00);
}

/* One imported function, then a defined function (index 1) declared to
 * return i32 whose body produces an i64: a type error in function 1. */
/* clang-format off */
static const uint8_t type_error_module[] = {
    WASM_HEADER,
    SEC_TYPE, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f,             /* 8: () -> i32 */
    SEC_IMPORT, 0x07, 0x01, 0x01, 'm', 0x01, 'f', 0x00, 0x00, /* 15: func m.f */
    SEC_FUNCTION, 0x02, 0x01, 0x00,                           /* 24 */
    SEC_CODE, 0x06, 0x01, 0x04, 0x00, 0x42, 0x00, 0x0b,       /* 28: body at 31 */
};
/* clang-format on */
#define TYPE_ERROR_BODY_START 31
#define TYPE_ERROR_BODY_END   36

Test(errors, code_error_names_function_index_counting_imports)
{
    struct sbx_error err;
    struct sbx_module *m = t_load(type_error_module, sizeof type_error_module, &err);
    cr_assert_null(m);
    cr_assert(strncmp(err.msg, "type mismatch", 13) == 0, "got \"%s\"", err.msg);
    cr_assert_eq(err.func_index, 1, "func_index %lld", (long long)err.func_index);
    cr_assert(err.offset >= TYPE_ERROR_BODY_START && err.offset < TYPE_ERROR_BODY_END,
              "offset 0x%zx is outside the function body", err.offset);
}

Test(errors, format_with_and_without_function)
{
    struct sbx_error err = {.offset = 0x1a, .func_index = -1};
    strcpy(err.msg, "unexpected end");
    char buf[SBX_ERROR_MSG_MAX + 64];
    sbx_error_format(&err, buf, sizeof buf);
    cr_assert_str_eq(buf, "error at offset 0x1a: unexpected end");

    err.func_index = 7;
    sbx_error_format(&err, buf, sizeof buf);
    cr_assert_str_eq(buf, "error at offset 0x1a in function 7: unexpected end");
}

Test(errors, format_truncates_safely)
{
    struct sbx_error err = {.offset = 0x1234, .func_index = 3};
    memset(err.msg, 'x', sizeof err.msg - 1);
    err.msg[sizeof err.msg - 1] = '\0';
    char buf[16];
    memset(buf, 0x55, sizeof buf);
    sbx_error_format(&err, buf, sizeof buf);
    cr_assert_eq(strnlen(buf, sizeof buf), sizeof buf - 1);
}

Test(errors, decode_accepts_what_validate_rejects)
{
    struct sbx_error err = {.func_index = -1};
    struct sbx_module *m = sbx_module_decode(type_error_module, sizeof type_error_module, &err);
    cr_assert_not_null(m, "decode failed: %s", err.msg);
    cr_assert_eq(sbx_module_validate(m, &err), -1);
    cr_assert(strncmp(err.msg, "type mismatch", 13) == 0, "got \"%s\"", err.msg);
    sbx_module_free(m);
}

Test(errors, decode_rejects_malformed)
{
    static const uint8_t bad[] = {WASM_HEADER, 0x0d, 0x00};
    struct sbx_error err = {.func_index = -1};
    cr_assert_null(sbx_module_decode(bad, sizeof bad, &err));
    cr_assert_str_eq(err.msg, "malformed section id");
}
