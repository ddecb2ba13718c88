/* Implementation limits (jit/limits.h): hostile counts and sizes are
 * rejected cleanly, with "(limit N)" where a limit applies, and never cause
 * an allocation proportional to the declared count rather than the bytes
 * present. Outside sanitizer builds the address space is capped while the
 * hostile module loads, so a large allocation would fail the test. */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "jit/limits.h"
#include "tests/unit/wasm_build.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/* Caps the address space at its current size plus 256 MiB: every module
 * below is a few MiB at most, while honouring a declared count of 2^32-1
 * would take gigabytes. ASan reserves terabytes of shadow up front, so there
 * the cap is skipped. */
static void cap_address_space(void)
{
#ifndef UNDER_ASAN
    FILE *f = fopen("/proc/self/status", "r");
    cr_assert(f);
    char line[256];
    unsigned long kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmSize: %lu kB", &kb) == 1) break;
    fclose(f);
    cr_assert(kb > 0);
    rlim_t cap = (rlim_t)kb * 1024 + (256ul << 20);
    struct rlimit rl = {cap, cap};
    cr_assert_eq(setrlimit(RLIMIT_AS, &rl), 0);
#endif
}

static const uint8_t u32_max[] = {0xff, 0xff, 0xff, 0xff, 0x0f};

/* A module with one section holding `prefix` then the count 2^32-1. */
static void expect_huge_count_rejected(uint8_t section, const uint8_t *prefix, size_t nprefix)
{
    struct wbuf content = {0}, mod = {0};
    wb_bytes(&content, prefix, nprefix);
    wb_bytes(&content, u32_max, sizeof u32_max);
    wb_bytes(&mod, BYTES(WASM_HEADER), 8);
    wb_section(&mod, section, &content);
    struct sbx_error err;
    struct sbx_module *m = t_load(mod.p, mod.len, &err);
    cr_assert_null(m, "section %u with count 2^32-1 loaded", section);
    cr_assert(err.msg[0] != '\0', "section %u: rejected without a message", section);
    cr_assert(err.offset <= mod.len, "section %u: offset 0x%zx past the end", section, err.offset);
    wb_free(&content);
    wb_free(&mod);
}

Test(limits, counts_of_2_32_minus_1_are_rejected_without_huge_allocation)
{
    cap_address_space();
    static const uint8_t none[1];
    static const uint8_t one[] = {0x01}; /* a count of 1, before a nested count */
    expect_huge_count_rejected(SEC_TYPE, none, 0);
    expect_huge_count_rejected(SEC_IMPORT, none, 0);
    expect_huge_count_rejected(SEC_FUNCTION, none, 0);
    expect_huge_count_rejected(SEC_TABLE, none, 0);
    expect_huge_count_rejected(SEC_MEMORY, none, 0);
    expect_huge_count_rejected(SEC_GLOBAL, none, 0);
    expect_huge_count_rejected(SEC_EXPORT, none, 0);
    expect_huge_count_rejected(SEC_ELEMENT, none, 0);
    expect_huge_count_rejected(SEC_CODE, none, 0);
    expect_huge_count_rejected(SEC_DATA, none, 0);
    /* A function type with 2^32-1 parameters. */
    expect_huge_count_rejected(SEC_TYPE, BYTES(0x01, 0x60), 2);
    /* An element segment (flags 0, offset i32.const 0) with 2^32-1 items. */
    expect_huge_count_rejected(SEC_ELEMENT, BYTES(0x01, 0x00, 0x41, 0x00, 0x0b), 5);
    /* An import whose module name is 2^32-1 bytes long. */
    expect_huge_count_rejected(SEC_IMPORT, one, 1);
    /* A data segment (flags 1, passive) of 2^32-1 bytes. */
    expect_huge_count_rejected(SEC_DATA, BYTES(0x01, 0x01), 2);
}

/* A type section with () -> (), then a function section declaring `n`
 * functions of type 0 (all present), then their bodies if asked. Returns the
 * offset of the function count. */
static size_t functions_module(struct wbuf *mod, uint32_t n, bool with_bodies)
{
    struct wbuf sec = {0};
    wb_bytes(mod, BYTES(WASM_HEADER, SEC_TYPE, 0x04, 0x01, 0x60, 0x00, 0x00), 14);
    wb_uleb(&sec, n);
    wb_fill(&sec, 0x00, n);
    wb_section(mod, SEC_FUNCTION, &sec);
    size_t count_at = 14 + 1; /* type section, function section id */
    for (size_t size = sec.len; size >= 0x80; size >>= 7)
        count_at++;
    count_at++;
    if (with_bodies) {
        sec.len = 0;
        wb_uleb(&sec, n);
        for (uint32_t i = 0; i < n; i++)
            wb_bytes(&sec, BYTES(0x02, 0x00, 0x0b), 3); /* size 2: no locals, end */
        wb_section(mod, SEC_CODE, &sec);
    }
    wb_free(&sec);
    return count_at;
}

Test(limits, too_many_functions_names_the_limit)
{
    struct wbuf mod = {0};
    size_t count_at = functions_module(&mod, SBX_MAX_FUNCTIONS + 1, false);
    char want[64];
    snprintf(want, sizeof want, "too many functions (limit %u)", SBX_MAX_FUNCTIONS);
    t_expect_reject(mod.p, mod.len, count_at, want);
    wb_free(&mod);
}

Test(limits, exactly_max_functions_load)
{
    struct wbuf mod = {0};
    functions_module(&mod, SBX_MAX_FUNCTIONS, true);
    struct sbx_module *m = t_expect_load(mod.p, mod.len);
    cr_assert_eq(m->nfuncs, SBX_MAX_FUNCTIONS);
    sbx_module_free(m);
    wb_free(&mod);
}

/* A module with one function () -> () whose body is `body` (locals
 * included, final `end` excluded). */
static void one_function(struct wbuf *mod, const struct wbuf *body)
{
    struct wbuf sec = {0};
    wb_bytes(mod, BYTES(WASM_HEADER, SEC_TYPE, 0x04, 0x01, 0x60, 0x00, 0x00), 14);
    wb_bytes(mod, BYTES(SEC_FUNCTION, 0x02, 0x01, 0x00), 4);
    wb_u8(&sec, 0x01);
    wb_uleb(&sec, body->len + 1);
    wb_bytes(&sec, body->p, body->len);
    wb_u8(&sec, 0x0b);
    wb_section(mod, SEC_CODE, &sec);
    wb_free(&sec);
}

static void expect_body(const struct wbuf *body, const char *error)
{
    struct wbuf mod = {0};
    one_function(&mod, body);
    if (error) {
        t_expect_reject(mod.p, mod.len, SIZE_MAX, error);
    } else {
        struct sbx_module *m = t_expect_load(mod.p, mod.len);
        sbx_module_free(m);
    }
    wb_free(&mod);
}

Test(limits, local_counts_that_overflow_32_bits)
{
    cap_address_space();
    struct wbuf body = {0};
    /* Two runs of 2^31 i32 locals: 2^32 in all, 0 if summed in 32 bits. */
    wb_bytes(&body,
             BYTES(0x02, 0x80, 0x80, 0x80, 0x80, 0x08, 0x7f, 0x80, 0x80, 0x80, 0x80, 0x08, 0x7f),
             13);
    expect_body(&body, "too many locals");
    body.len = 0;
    wb_bytes(&body, BYTES(0x01, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x7f), 7);
    expect_body(&body, "too many locals");
    wb_free(&body);
}

Test(limits, locals_limit_boundary)
{
    struct wbuf body = {0};
    wb_u8(&body, 0x01);
    wb_uleb(&body, SBX_MAX_LOCALS);
    wb_u8(&body, 0x7f);
    expect_body(&body, NULL);
    body.len = 0;
    wb_u8(&body, 0x01);
    wb_uleb(&body, SBX_MAX_LOCALS + 1);
    wb_u8(&body, 0x7f);
    char want[64];
    snprintf(want, sizeof want, "too many locals (limit %u)", SBX_MAX_LOCALS);
    expect_body(&body, want);
    wb_free(&body);
}

/* No locals, then `depth` nested empty blocks. */
static void nested_blocks(struct wbuf *body, uint32_t depth)
{
    body->len = 0;
    wb_u8(body, 0x00);
    for (uint32_t i = 0; i < depth; i++)
        wb_bytes(body, BYTES(0x02, 0x40), 2);
    wb_fill(body, 0x0b, depth);
}

Test(limits, nesting_limit_boundary)
{
    /* The function body is the outermost of SBX_MAX_NESTING levels. */
    struct wbuf body = {0};
    nested_blocks(&body, SBX_MAX_NESTING - 1);
    expect_body(&body, NULL);
    nested_blocks(&body, SBX_MAX_NESTING);
    char want[64];
    snprintf(want, sizeof want, "blocks nested too deeply (limit %u)", SBX_MAX_NESTING);
    expect_body(&body, want);
    /* Far deeper nesting costs no stack: rejected the same way. */
    nested_blocks(&body, 1000000);
    expect_body(&body, want);
    wb_free(&body);
}

Test(limits, br_table_with_2_32_minus_1_targets)
{
    cap_address_space();
    struct wbuf body = {0};
    wb_bytes(&body, BYTES(0x00, 0x41, 0x00, 0x0e), 4); /* i32.const 0; br_table */
    wb_bytes(&body, u32_max, sizeof u32_max);
    char want[64];
    snprintf(want, sizeof want, "br_table has too many targets (limit %u)",
             SBX_MAX_BR_TABLE_TARGETS);
    expect_body(&body, want);
    wb_free(&body);
}

Test(limits, too_many_params)
{
    struct wbuf sec = {0}, mod = {0};
    wb_bytes(&sec, BYTES(0x01, 0x60), 2);
    wb_uleb(&sec, SBX_MAX_PARAMS + 1);
    wb_fill(&sec, SBX_I32, SBX_MAX_PARAMS + 1);
    wb_u8(&sec, 0x00);
    wb_bytes(&mod, BYTES(WASM_HEADER), 8);
    wb_section(&mod, SEC_TYPE, &sec);
    char want[64];
    snprintf(want, sizeof want, "too many parameters (limit %u)", SBX_MAX_PARAMS);
    t_expect_reject(mod.p, mod.len, SIZE_MAX, want);
    wb_free(&sec);
    wb_free(&mod);
}

Test(limits, module_larger_than_limit_is_refused_unread)
{
    /* Address space only: the pages are never touched but the first. */
    size_t len = (size_t)SBX_MAX_MODULE_SIZE + 1;
    uint8_t *p =
        mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    cr_assert(p != MAP_FAILED);
    memcpy(p, BYTES(WASM_HEADER), 8);
    char want[64];
    snprintf(want, sizeof want, "module too large (limit %u bytes)", SBX_MAX_MODULE_SIZE);
    t_expect_reject(p, len, 0, want);
    munmap(p, len);
}
