/* A br_table of 50,000 entries over three block depths, each entry moving
 * a value to its target (so every target needs a stub of its own): every
 * entry and the default branch where the table says. Such tables are what
 * interpreters and big switches compile to; the compiler once deduplicated
 * their stubs in quadratic time (fuzz_load found a 27 KB module that took
 * seconds to compile). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "jit/compile.h"
#include "jit/module.h"
#include "jit/runtime.h"
#include "memimg/pool.h"

#define ENTRIES 50000u

struct buf {
    uint8_t *p;
    size_t n;
};

static void put(struct buf *b, const void *bytes, size_t n)
{
    memcpy(b->p + b->n, bytes, n);
    b->n += n;
}

static void put_u32(struct buf *b, uint32_t v) /* unsigned LEB128 */
{
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        put(b, &(uint8_t){byte | (v ? 0x80 : 0)}, 1);
    } while (v);
}

/* (func (export "pick") (param i32) (result i32)
 *   block (result i32) block (result i32) block (result i32)
 *     i32.const 1000 i32.const 7 local.get 0
 *     br_table [0 1 2 0 1 2 ...] 2           ;; the branch carries 7
 *   end i32.const 100 i32.add
 *   end i32.const 200 i32.add
 *   end i32.const 300 i32.add)
 * pick(k) = 607, 507, 307 for k % 3 = 0, 1, 2 (k < ENTRIES); 307 beyond. */
static uint8_t *build(size_t *len)
{
    struct buf body = {malloc(ENTRIES + 64), 0};
    static const uint8_t head[] = {0x00, /* no locals */
                                   0x02, 0x7f, 0x02, 0x7f, 0x02,
                                   0x7f, 0x41, 0xe8, 0x07, /* i32.const 1000 */
                                   0x41, 0x07,             /* i32.const 7 */
                                   0x20, 0x00,             /* local.get 0 */
                                   0x0e};                  /* br_table */
    put(&body, head, sizeof head);
    put_u32(&body, ENTRIES);
    for (uint32_t i = 0; i < ENTRIES; i++)
        put(&body, &(uint8_t){(uint8_t)(i % 3)}, 1);
    static const uint8_t tail[] = {0x02,                         /* default: depth 2 */
                                   0x0b, 0x41, 0xe4, 0x00, 0x6a, /* end; +100 */
                                   0x0b, 0x41, 0xc8, 0x01, 0x6a, /* end; +200 */
                                   0x0b, 0x41, 0xac, 0x02, 0x6a, /* end; +300 */
                                   0x0b};
    put(&body, tail, sizeof tail);

    struct buf m = {malloc(ENTRIES + 128), 0};
    static const uint8_t pre[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x06,
                                  0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f, /* type */
                                  0x03, 0x02, 0x01, 0x00,             /* func */
                                  0x07, 0x08, 0x01, 0x04, 'p',  'i',  'c',  'k',  0x00, 0x00};
    put(&m, pre, sizeof pre);
    struct buf size = {(uint8_t[8]){0}, 0};
    put_u32(&size, (uint32_t)body.n);
    put(&m, &(uint8_t){0x0a}, 1); /* code section */
    put_u32(&m, (uint32_t)(1 + size.n + body.n));
    put(&m, &(uint8_t){0x01}, 1);
    put(&m, size.p, size.n);
    put(&m, body.p, body.n);
    free(body.p);
    *len = m.n;
    return m.p;
}

Test(br_table, fifty_thousand_entries_each_where_it_says)
{
    size_t len;
    uint8_t *bytes = build(&len);
    struct sbx_error err = {0};
    struct sbx_module *m = sbx_module_load(bytes, len, &err);
    cr_assert_not_null(m, "%s", err.msg);
    struct sbx_compiled *c = sbx_compile(m, NULL, &err);
    cr_assert_not_null(c, "%s", err.msg);
    struct sbx_pool_config cfg;
    sbx_pool_config_default(&cfg);
    cfg.slot_count = 1;
    struct sbx_pool *pool;
    cr_assert_eq(sbx_pool_create(&cfg, &pool), 0);
    struct sbx_linker *linker = sbx_linker_new();
    struct sbx_trap trap;
    struct sbx_instance *inst = sbx_instantiate(c, linker, pool, &err, &trap);
    cr_assert_not_null(inst, "%s", err.msg);
    const struct sbx_export *e = sbx_module_export(m, "pick");
    cr_assert_not_null(e);
    static const uint32_t ks[] = {0,       1,           2,          3,           4,
                                  5,       777,         12345,      ENTRIES - 2, ENTRIES - 1,
                                  ENTRIES, ENTRIES + 1, 0x7fffffff, 0xffffffff};
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
        uint32_t k = ks[i];
        int32_t want = k >= ENTRIES ? 307 : (int32_t[]){607, 507, 307}[k % 3];
        union sbx_val arg = {.i32 = (int32_t)k}, res = {0};
        cr_assert_eq(sbx_instance_call(inst, e->index, &arg, &res, &trap), 0, "pick(%u) trapped",
                     k);
        cr_assert_eq(res.i32, want, "pick(%u) = %d, not %d", k, res.i32, want);
    }
    sbx_instance_free(inst);
    sbx_linker_free(linker);
    sbx_compiled_free(c);
    sbx_module_free(m);
    sbx_pool_destroy(pool);
    free(bytes);
}
