/* Module building and load-check helpers for the unit tests. */
#include "tests/unit/wasm_build.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void wb_u8(struct wbuf *b, uint8_t v)
{
    wb_bytes(b, &v, 1);
}

static void reserve(struct wbuf *b, size_t n)
{
    if (b->len + n <= b->cap) return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + n)
        cap *= 2;
    b->p = realloc(b->p, cap);
    cr_assert(b->p, "out of memory building a test module");
    b->cap = cap;
}

void wb_bytes(struct wbuf *b, const void *p, size_t n)
{
    if (n == 0) return; /* memcpy's pointers must be valid even for 0 bytes */
    reserve(b, n);
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

void wb_fill(struct wbuf *b, uint8_t v, size_t n)
{
    reserve(b, n);
    memset(b->p + b->len, v, n);
    b->len += n;
}

void wb_uleb(struct wbuf *b, uint64_t v)
{
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        wb_u8(b, byte | (v ? 0x80 : 0));
    } while (v);
}

void wb_section(struct wbuf *b, uint8_t id, const struct wbuf *content)
{
    wb_u8(b, id);
    wb_uleb(b, content->len);
    wb_bytes(b, content->p, content->len);
}

void wb_free(struct wbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

struct sbx_module *t_load(const uint8_t *bytes, size_t len, struct sbx_error *err)
{
    memset(err, 0, sizeof *err);
    err->func_index = -1;
    return sbx_module_load(bytes, len, err);
}

struct sbx_module *t_expect_load(const uint8_t *bytes, size_t len)
{
    struct sbx_error err;
    struct sbx_module *m = t_load(bytes, len, &err);
    if (!m) {
        char msg[SBX_ERROR_MSG_MAX + 64];
        sbx_error_format(&err, msg, sizeof msg);
        cr_assert_fail("expected the module to load, got: %s", msg);
    }
    return m;
}

void t_expect_reject(const uint8_t *bytes, size_t len, size_t offset, const char *prefix)
{
    struct sbx_error err;
    struct sbx_module *m = t_load(bytes, len, &err);
    if (m) {
        sbx_module_free(m);
        cr_assert_fail("expected rejection with \"%s\", but the module loaded", prefix);
    }
    cr_assert(strncmp(err.msg, prefix, strlen(prefix)) == 0,
              "expected an error starting with \"%s\", got \"%s\"", prefix, err.msg);
    if (offset != SIZE_MAX)
        cr_assert_eq(err.offset, offset, "\"%s\": expected offset 0x%zx, got 0x%zx", err.msg,
                     offset, err.offset);
}

uint8_t *t_read_test_wasm(const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.wasm", SBX_TEST_WASM_DIR, name);
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s (built from tests/unit/wat/%s.wat)", path, name);
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            buf = realloc(buf, cap);
            cr_assert(buf);
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    cr_assert(!ferror(f), "cannot read %s", path);
    fclose(f);
    *len = n;
    return buf;
}
