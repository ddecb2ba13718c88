/* The C functions compiled code calls (jit/libcalls.h): memory.grow and the
 * bulk memory operations, the table operations, and the float-to-integer
 * conversions whose corner cases are easier to get exactly right in C.
 * Bounds are checked in 64 bits, per the spec: a range [start, start + n)
 * must lie inside the memory or table even when n is 0. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jit/libcalls.h"
#include "jit/opcodes.h"
#include "jit/rt_internal.h"
#include "memimg/pool.h"

static struct sbx_instance *instance_of(struct sbx_vmctx *vm)
{
    return vm->instance;
}

/* -- Memory ------------------------------------------------------------------ */

uint32_t sbx_rt_memory_grow(struct sbx_vmctx *vm, uint32_t delta)
{
    struct sbx_memory *mem = vm->memory;
    if (!mem) return UINT32_MAX;
    if (delta == 0) return mem->pages;
    if (!mem->slot) return UINT32_MAX;
    if ((uint64_t)mem->pages + delta > mem->max_pages) {
        /* Refused by a limit (the embedder's cap or the pool's), not by
         * the module's own maximum? */
        struct sbx_instance *inst = instance_of(vm);
        if (inst->memory_limit_pages && (mem->unbounded || mem->declared_max > mem->max_pages))
            inst->memory_limited = true;
        return UINT32_MAX;
    }
    uint32_t old;
    if (sbx_pool_slot_grow(mem->slot, delta, &old)) return UINT32_MAX;
    mem->pages = sbx_pool_slot_pages(mem->slot);
    mem->size = (uint64_t)mem->pages * SBX_WASM_PAGE_SIZE;
    return old;
}

static bool range_ok(uint64_t start, uint64_t n, uint64_t size)
{
    return start + n <= size; /* both below 2^33: no overflow */
}

int sbx_rt_memory_fill(struct sbx_vmctx *vm, uint32_t dst, uint32_t value, uint32_t n)
{
    struct sbx_memory *mem = vm->memory;
    if (!range_ok(dst, n, mem->size)) return SBX_TRAP_OOB_MEMORY;
    memset(mem->base + dst, (int)(value & 0xFF), n);
    return 0;
}

int sbx_rt_memory_copy(struct sbx_vmctx *vm, uint32_t dst, uint32_t src, uint32_t n)
{
    struct sbx_memory *mem = vm->memory;
    if (!range_ok(src, n, mem->size) || !range_ok(dst, n, mem->size)) return SBX_TRAP_OOB_MEMORY;
    memmove(mem->base + dst, mem->base + src, n);
    return 0;
}

int sbx_rt_memory_init(struct sbx_vmctx *vm, uint32_t seg, uint32_t dst, uint32_t src, uint32_t n)
{
    struct sbx_instance *inst = instance_of(vm);
    struct sbx_memory *mem = vm->memory;
    const struct sbx_data_segment *d = &inst->m->datas[seg];
    uint64_t len = inst->datas[seg].dropped ? 0 : d->len;
    if (!range_ok(src, n, len) || !range_ok(dst, n, mem->size)) return SBX_TRAP_OOB_MEMORY;
    if (n) memcpy(mem->base + dst, d->bytes + src, n);
    return 0;
}

void sbx_rt_data_drop(struct sbx_vmctx *vm, uint32_t seg)
{
    instance_of(vm)->datas[seg].dropped = true;
}

/* -- Tables ------------------------------------------------------------------- */

uint32_t sbx_rt_table_grow(struct sbx_vmctx *vm, uint32_t table, void *init, uint32_t delta)
{
    struct sbx_table *t = vm->tables[table];
    uint32_t old = t->size;
    if (delta == 0) return old;
    uint64_t want = (uint64_t)old + delta;
    if (want > t->max || want > SBX_RT_MAX_TABLE_ELEMS) return UINT32_MAX;
    void **elems = realloc(t->elems, (size_t)want * sizeof(void *));
    if (!elems) return UINT32_MAX;
    for (uint64_t i = old; i < want; i++)
        elems[i] = init;
    t->elems = elems;
    t->size = (uint32_t)want;
    return old;
}

int sbx_rt_table_fill(struct sbx_vmctx *vm, uint32_t table, uint32_t dst, void *value, uint32_t n)
{
    struct sbx_table *t = vm->tables[table];
    if (!range_ok(dst, n, t->size)) return SBX_TRAP_OOB_TABLE;
    for (uint32_t i = 0; i < n; i++)
        t->elems[dst + i] = value;
    return 0;
}

int sbx_rt_table_copy(struct sbx_vmctx *vm, uint32_t dst_table, uint32_t src_table, uint32_t dst,
                      uint32_t src, uint32_t n)
{
    struct sbx_table *td = vm->tables[dst_table], *ts = vm->tables[src_table];
    if (!range_ok(src, n, ts->size) || !range_ok(dst, n, td->size)) return SBX_TRAP_OOB_TABLE;
    if (n) memmove(&td->elems[dst], &ts->elems[src], (size_t)n * sizeof(void *));
    return 0;
}

int sbx_rt_table_init(struct sbx_vmctx *vm, uint32_t table, uint32_t seg, uint32_t dst,
                      uint32_t src, uint32_t n)
{
    struct sbx_instance *inst = instance_of(vm);
    struct sbx_table *t = vm->tables[table];
    const struct sbx_elem_state *es = &inst->elems[seg];
    if (!range_ok(src, n, es->count) || !range_ok(dst, n, t->size)) return SBX_TRAP_OOB_TABLE;
    if (n) memcpy(&t->elems[dst], &es->refs[src], (size_t)n * sizeof(void *));
    return 0;
}

void sbx_rt_elem_drop(struct sbx_vmctx *vm, uint32_t seg)
{
    struct sbx_elem_state *es = &instance_of(vm)->elems[seg];
    free(es->refs);
    es->refs = NULL;
    es->count = 0;
}

/* -- Conversions -------------------------------------------------------------- */

/* Every f32 and f64 converts to double exactly, and every bound below is a
 * power of two (exact in double), so the range tests are exact. A value is
 * in range when its truncation is: for the signed 32-bit case that is
 * -2^31 - 1 < x < 2^31, for unsigned -1 < x < 2^32; for the 64-bit signed
 * case -2^63 <= x < 2^63 (no double lies strictly between -2^63 - 1 and
 * -2^63), and unsigned -1 < x < 2^64. */
#define P31 2147483648.0
#define P32 4294967296.0
#define P63 9223372036854775808.0
#define P64 18446744073709551616.0

struct conv {
    bool src64;      /* the operand is an f64 */
    bool dst64;      /* the result is an i64 */
    bool is_signed;  /* signed result */
    bool saturating; /* trunc_sat */
};

static double operand(const struct conv *cv, uint64_t bits)
{
    if (cv->src64) {
        double d;
        memcpy(&d, &bits, sizeof(d));
        return d;
    }
    uint32_t b = (uint32_t)bits;
    float f;
    memcpy(&f, &b, sizeof(f));
    return (double)f;
}

static struct sbx_rt_result trunc_op(const struct conv *cv, uint64_t bits)
{
    struct sbx_rt_result r = {0, 0};
    double x = operand(cv, bits);
    double lo, hi; /* the open or half-open range of valid x */
    bool lo_inclusive = false;
    uint64_t min, max; /* saturation values, as result bits */
    if (cv->dst64) {
        if (cv->is_signed)
            lo = -P63, hi = P63, lo_inclusive = true, min = (uint64_t)INT64_MIN, max = INT64_MAX;
        else
            lo = -1.0, hi = P64, min = 0, max = UINT64_MAX;
    } else {
        if (cv->is_signed)
            lo = -P31 - 1.0, hi = P31, min = (uint32_t)INT32_MIN, max = INT32_MAX;
        else
            lo = -1.0, hi = P32, min = 0, max = UINT32_MAX;
    }
    if (isnan(x)) {
        if (!cv->saturating) r.trap = SBX_TRAP_INVALID_CONVERSION;
        return r;
    }
    bool below = lo_inclusive ? x < lo : x <= lo;
    if (below || x >= hi) {
        if (cv->saturating)
            r.value = below ? min : max;
        else
            r.trap = SBX_TRAP_INT_OVERFLOW;
        return r;
    }
    if (cv->dst64)
        r.value = cv->is_signed ? (uint64_t)(int64_t)x : (uint64_t)x;
    else
        r.value = cv->is_signed ? (uint32_t)(int32_t)x : (uint32_t)x;
    return r;
}

struct sbx_rt_result sbx_rt_convert(uint32_t op, uint64_t bits)
{
    struct conv cv = {0};
    switch (op) {
    case SBX_OP_F32_CONVERT_I64_U: {
        float f = (float)bits; /* rounds to nearest, ties to even */
        uint32_t b;
        memcpy(&b, &f, sizeof(b));
        return (struct sbx_rt_result){b, 0};
    }
    case SBX_OP_F64_CONVERT_I64_U: {
        double d = (double)bits;
        uint64_t b;
        memcpy(&b, &d, sizeof(b));
        return (struct sbx_rt_result){b, 0};
    }
    case SBX_OP_I32_TRUNC_F32_S: cv = (struct conv){false, false, true, false}; break;
    case SBX_OP_I32_TRUNC_F32_U: cv = (struct conv){false, false, false, false}; break;
    case SBX_OP_I32_TRUNC_F64_S: cv = (struct conv){true, false, true, false}; break;
    case SBX_OP_I32_TRUNC_F64_U: cv = (struct conv){true, false, false, false}; break;
    case SBX_OP_I64_TRUNC_F32_S: cv = (struct conv){false, true, true, false}; break;
    case SBX_OP_I64_TRUNC_F32_U: cv = (struct conv){false, true, false, false}; break;
    case SBX_OP_I64_TRUNC_F64_S: cv = (struct conv){true, true, true, false}; break;
    case SBX_OP_I64_TRUNC_F64_U: cv = (struct conv){true, true, false, false}; break;
    case SBX_OP_I32_TRUNC_SAT_F32_S: cv = (struct conv){false, false, true, true}; break;
    case SBX_OP_I32_TRUNC_SAT_F32_U: cv = (struct conv){false, false, false, true}; break;
    case SBX_OP_I32_TRUNC_SAT_F64_S: cv = (struct conv){true, false, true, true}; break;
    case SBX_OP_I32_TRUNC_SAT_F64_U: cv = (struct conv){true, false, false, true}; break;
    case SBX_OP_I64_TRUNC_SAT_F32_S: cv = (struct conv){false, true, true, true}; break;
    case SBX_OP_I64_TRUNC_SAT_F32_U: cv = (struct conv){false, true, false, true}; break;
    case SBX_OP_I64_TRUNC_SAT_F64_S: cv = (struct conv){true, true, true, true}; break;
    case SBX_OP_I64_TRUNC_SAT_F64_U: cv = (struct conv){true, true, false, true}; break;
    default: return (struct sbx_rt_result){0, SBX_TRAP_UNREACHABLE};
    }
    return trunc_op(&cv, bits);
}
