/* Writes a large, valid WebAssembly 2.0 module for the front-end benchmark:
 * many functions of six signatures whose bodies mix every family of
 * instruction the validator handles (numeric, memory, control, calls,
 * bulk memory, SIMD), nested a few levels deep. Deterministic: the same
 * size and seed give the same bytes.
 *
 *   gen_module OUT.wasm [MEGABYTES (default 32)] [SEED]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* -- Output buffer -- */

struct buf {
    uint8_t *p;
    size_t len, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (cap < b->len + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p) {
            fputs("gen_module: out of memory\n", stderr);
            exit(1);
        }
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void u8(struct buf *b, uint8_t v)
{
    put(b, &v, 1);
}

static void uleb(struct buf *b, uint64_t v)
{
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        u8(b, byte | (v ? 0x80 : 0));
    } while (v);
}

static void sleb(struct buf *b, int64_t v)
{
    for (;;) {
        uint8_t byte = v & 0x7f;
        v >>= 7; /* arithmetic shift on every compiler sbx supports */
        if ((v == 0 && !(byte & 0x40)) || (v == -1 && (byte & 0x40))) {
            u8(b, byte);
            return;
        }
        u8(b, byte | 0x80);
    }
}

static void section(struct buf *out, uint8_t id, struct buf *content)
{
    u8(out, id);
    uleb(out, content->len);
    put(out, content->p, content->len);
    content->len = 0;
}

/* -- Randomness (xorshift64*) -- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

static unsigned pick(unsigned n)
{
    return (unsigned)(rnd() % n);
}

/* -- Types and locals -- */

enum { I32 = 0x7f, I64 = 0x7e, F32 = 0x7d, F64 = 0x7c, V128 = 0x7b };

/* Signatures of the defined functions; function i has type i % NSIGS. The
 * imported logger has type NSIGS. */
#define NSIGS 6
static const struct {
    uint8_t nparams, params[2], result; /* result 0: none */
} sigs[NSIGS] = {
    {2, {I32, I32}, I32}, {2, {I64, F64}, F64}, {0, {0}, 0},
    {1, {I32}, I64},      {2, {F32, F32}, F32}, {1, {V128}, V128},
};

/* Declared locals, after the parameters: 4 i32, 2 i64, 2 f32, 2 f64, 1 v128. */
static const struct {
    uint8_t count, type;
} local_runs[] = {{4, I32}, {2, I64}, {2, F32}, {2, F64}, {1, V128}};

static unsigned cur_sig;  /* signature of the function being generated */
static uint32_t cur_func; /* its index among defined functions */

/* A random local of `type`, parameter or declared. */
static uint32_t local_of(uint8_t type)
{
    uint32_t candidates[8], n = 0, index = 0;
    for (unsigned i = 0; i < sigs[cur_sig].nparams; i++, index++)
        if (sigs[cur_sig].params[i] == type) candidates[n++] = index;
    for (unsigned r = 0; r < sizeof local_runs / sizeof local_runs[0]; r++)
        for (unsigned i = 0; i < local_runs[r].count; i++, index++)
            if (local_runs[r].type == type) candidates[n++] = index;
    return candidates[pick(n)];
}

/* A function index (import first) of signature `sig` defined before the
 * current one, or -1 if there is none yet. */
static int64_t callee(unsigned sig)
{
    uint32_t rounds = cur_func / NSIGS; /* complete rounds of all signatures */
    if (rounds == 0) return -1;
    return 1 + (int64_t)pick(rounds) * NSIGS + sig;
}

/* -- Instructions -- */

static void memarg(struct buf *b, unsigned align_log2)
{
    uleb(b, align_log2);
    uleb(b, pick(64) * 4); /* offset */
}

static void address(struct buf *b)
{
    u8(b, 0x41); /* i32.const */
    sleb(b, (int64_t)(pick(4096) * 16));
}

static void expr(struct buf *b, uint8_t type, int depth);

/* Pushes the arguments of `sig` and calls `func`. */
static void call(struct buf *b, unsigned sig, int64_t func, int depth)
{
    for (unsigned i = 0; i < sigs[sig].nparams; i++)
        expr(b, sigs[sig].params[i], depth - 1);
    u8(b, 0x10);
    uleb(b, (uint64_t)func);
}

static void expr_i32(struct buf *b, int depth)
{
    static const uint8_t binops[] = {0x6a, 0x6b, 0x6c, 0x71, 0x72, 0x73,
                                     0x74, 0x76, 0x77, 0x46, 0x49};
    switch (depth <= 0 ? pick(3) : pick(12)) {
    case 0:
        u8(b, 0x41);
        sleb(b, (int32_t)rnd());
        break;
    case 1:
        u8(b, 0x20);
        uleb(b, local_of(I32));
        break;
    case 2:
        u8(b, 0x23);
        uleb(b, 0);
        break; /* global.get 0 */
    case 3:
        expr(b, I32, depth - 1);
        expr(b, I32, depth - 1);
        u8(b, binops[pick(sizeof binops)]);
        break;
    case 4:
        expr(b, I32, depth - 1);
        u8(b, pick(2) ? 0x45 : 0x67);
        break; /* eqz, clz */
    case 5:
        expr(b, I64, depth - 1);
        expr(b, I64, depth - 1);
        u8(b, 0x53);
        break; /* i64.lt_s */
    case 6:
        address(b);
        u8(b, 0x28);
        memarg(b, 2);
        break; /* i32.load */
    case 7:
        expr(b, I64, depth - 1);
        u8(b, 0xa7);
        break; /* i32.wrap_i64 */
    case 8:
        expr(b, F32, depth - 1);
        u8(b, 0xfc);
        uleb(b, 0);
        break; /* i32.trunc_sat_f32_s */
    case 9:    /* select */
        expr(b, I32, depth - 1);
        expr(b, I32, depth - 1);
        expr(b, I32, depth - 1);
        u8(b, 0x1b);
        break;
    case 10: { /* call, or if/else when no callee exists yet */
        int64_t f = callee(0);
        if (f >= 0) {
            call(b, 0, f, depth);
            break;
        }
    }        /* fall through */
    default: /* if (result i32) ... else ... end */
        expr(b, I32, depth - 1);
        u8(b, 0x04);
        u8(b, I32);
        expr(b, I32, depth - 1);
        u8(b, 0x05);
        expr(b, I32, depth - 1);
        u8(b, 0x0b);
        break;
    }
}

static void expr_i64(struct buf *b, int depth)
{
    static const uint8_t binops[] = {0x7c, 0x7d, 0x7e, 0x83, 0x84, 0x85, 0x86, 0x88};
    switch (depth <= 0 ? pick(2) : pick(6)) {
    case 0:
        u8(b, 0x42);
        sleb(b, (int64_t)rnd());
        break;
    case 1:
        u8(b, 0x20);
        uleb(b, local_of(I64));
        break;
    case 2:
        expr(b, I64, depth - 1);
        expr(b, I64, depth - 1);
        u8(b, binops[pick(sizeof binops)]);
        break;
    case 3:
        expr(b, I32, depth - 1);
        u8(b, 0xad);
        break; /* i64.extend_i32_u */
    case 4:
        address(b);
        u8(b, 0x29);
        memarg(b, 3);
        break; /* i64.load */
    default: {
        int64_t f = callee(3);
        if (f >= 0) {
            call(b, 3, f, depth);
        } else {
            u8(b, 0x42);
            sleb(b, -1);
        }
        break;
    }
    }
}

static void expr_float(struct buf *b, uint8_t type, int depth)
{
    const int f32 = type == F32;
    switch (depth <= 0 ? pick(2) : pick(6)) {
    case 0:
        if (f32) {
            uint32_t bits = (uint32_t)rnd();
            u8(b, 0x43);
            put(b, &bits, 4); /* little-endian host */
        } else {
            uint64_t bits = rnd();
            u8(b, 0x44);
            put(b, &bits, 8);
        }
        break;
    case 1:
        u8(b, 0x20);
        uleb(b, local_of(type));
        break;
    case 2: /* add, sub, mul, div, min, max */
        expr(b, type, depth - 1);
        expr(b, type, depth - 1);
        u8(b, (uint8_t)((f32 ? 0x92 : 0xa0) + pick(6)));
        break;
    case 3: /* f32.convert_i32_s / f64.promote_f32 */
        if (f32) {
            expr(b, I32, depth - 1);
            u8(b, 0xb2);
        } else {
            expr(b, F32, depth - 1);
            u8(b, 0xbb);
        }
        break;
    case 4:
        address(b);
        u8(b, f32 ? 0x2a : 0x2b);
        memarg(b, f32 ? 2 : 3);
        break;
    default: {
        unsigned sig = f32 ? 4 : 1;
        int64_t f = callee(sig);
        if (f >= 0) {
            call(b, sig, f, depth);
        } else {
            expr(b, type, depth - 1);
            u8(b, f32 ? 0x91 : 0x9f); /* sqrt */
        }
        break;
    }
    }
}

static void expr_v128(struct buf *b, int depth)
{
    switch (depth <= 0 ? pick(2) : pick(6)) {
    case 0: {
        uint8_t bytes[16];
        for (int i = 0; i < 16; i++)
            bytes[i] = (uint8_t)rnd();
        u8(b, 0xfd);
        uleb(b, 12); /* v128.const */
        put(b, bytes, 16);
        break;
    }
    case 1:
        u8(b, 0x20);
        uleb(b, local_of(V128));
        break;
    case 2: /* i32x4.add, i32x4.mul, f32x4.mul, i8x16.add */
        expr(b, V128, depth - 1);
        expr(b, V128, depth - 1);
        u8(b, 0xfd);
        uleb(b, (const unsigned[]){174, 181, 230, 110}[pick(4)]);
        break;
    case 3:
        expr(b, I32, depth - 1);
        u8(b, 0xfd);
        uleb(b, 17);
        break; /* i32x4.splat */
    case 4:
        address(b);
        u8(b, 0xfd);
        uleb(b, 0);
        memarg(b, 4);
        break; /* v128.load */
    default: {
        int64_t f = callee(5);
        if (f >= 0) {
            call(b, 5, f, depth);
        } else {
            expr(b, V128, depth - 1);
            u8(b, 0xfd);
            uleb(b, 77); /* v128.not */
        }
        break;
    }
    }
}

static void expr(struct buf *b, uint8_t type, int depth)
{
    switch (type) {
    case I32: expr_i32(b, depth); break;
    case I64: expr_i64(b, depth); break;
    case F32:
    case F64: expr_float(b, type, depth); break;
    default: expr_v128(b, depth); break;
    }
}

static const uint8_t value_types[] = {I32, I64, F32, F64, V128};

static void stmts(struct buf *b, unsigned n, int depth);

/* One instruction sequence that leaves the operand stack as it found it. */
static void stmt(struct buf *b, int depth)
{
    uint8_t t = value_types[pick(5)];
    switch (depth <= 0 ? pick(5) : pick(10)) {
    case 0:
        expr(b, t, 3);
        u8(b, 0x21);
        uleb(b, local_of(t));
        break; /* local.set */
    case 1:
        expr(b, I32, 3);
        u8(b, 0x24);
        uleb(b, 0);
        break; /* global.set */
    case 2: {  /* a store of the right width */
        static const uint8_t op[] = {0x36, 0x37, 0x38, 0x39};
        static const uint8_t align[] = {2, 3, 2, 3};
        unsigned k = pick(5);
        address(b);
        if (k == 4) {
            expr(b, V128, 2);
            u8(b, 0xfd);
            uleb(b, 11); /* v128.store */
            memarg(b, 4);
        } else {
            expr(b, value_types[k], 3);
            u8(b, op[k]);
            memarg(b, align[k]);
        }
        break;
    }
    case 3:
        expr(b, I32, 2);
        u8(b, 0x10);
        uleb(b, 0);
        break; /* call $log */
    case 4:
        expr(b, t, 3);
        u8(b, 0x1a);
        break; /* drop */
    case 5:    /* block ... br_if 0 ... end */
        u8(b, 0x02);
        u8(b, 0x40);
        stmts(b, 1 + pick(3), depth - 1);
        expr(b, I32, 2);
        u8(b, 0x0d);
        uleb(b, 0);
        stmts(b, pick(3), depth - 1);
        u8(b, 0x0b);
        break;
    case 6: /* loop ... br_if 0 end */
        u8(b, 0x03);
        u8(b, 0x40);
        stmts(b, 1 + pick(3), depth - 1);
        expr(b, I32, 2);
        u8(b, 0x0d);
        uleb(b, 0);
        u8(b, 0x0b);
        break;
    case 7: /* if ... else ... end */
        expr(b, I32, 2);
        u8(b, 0x04);
        u8(b, 0x40);
        stmts(b, 1 + pick(3), depth - 1);
        u8(b, 0x05);
        stmts(b, 1 + pick(3), depth - 1);
        u8(b, 0x0b);
        break;
    case 8: /* block block block (i32) br_table 0 1 2 2 end end end */
        for (int i = 0; i < 3; i++) {
            u8(b, 0x02);
            u8(b, 0x40);
        }
        expr(b, I32, 2);
        u8(b, 0x0e);
        uleb(b, 3);
        for (unsigned i = 0; i < 4; i++)
            uleb(b, i < 3 ? i : 2);
        for (int i = 0; i < 3; i++)
            u8(b, 0x0b);
        break;
    default: /* call_indirect of a () -> () entry, or memory.fill */
        if (pick(2)) {
            u8(b, 0x41);
            sleb(b, (int64_t)pick(1024));
            u8(b, 0x11);
            uleb(b, 2); /* type 2: () -> () */
            uleb(b, 0); /* table 0 */
        } else {
            address(b);
            expr(b, I32, 1);
            u8(b, 0x41);
            sleb(b, 64);
            u8(b, 0xfc);
            uleb(b, 11); /* memory.fill */
            u8(b, 0x00);
        }
        break;
    }
}

static void stmts(struct buf *b, unsigned n, int depth)
{
    for (unsigned i = 0; i < n; i++)
        stmt(b, depth);
}

/* Appends one function body (size field included) to `code`. */
static void body(struct buf *code, struct buf *scratch)
{
    scratch->len = 0;
    uleb(scratch, sizeof local_runs / sizeof local_runs[0]);
    for (unsigned r = 0; r < sizeof local_runs / sizeof local_runs[0]; r++) {
        uleb(scratch, local_runs[r].count);
        u8(scratch, local_runs[r].type);
    }
    stmts(scratch, 4 + pick(24), 3);
    if (sigs[cur_sig].result) expr(scratch, sigs[cur_sig].result, 3);
    u8(scratch, 0x0b);
    uleb(code, scratch->len);
    put(code, scratch->p, scratch->len);
}

/* -- Module -- */

static void write_module(struct buf *out, size_t target)
{
    struct buf code = {0}, scratch = {0}, sec = {0};
    uint32_t nfuncs = 0;
    while (code.len < target) {
        cur_sig = nfuncs % NSIGS;
        cur_func = nfuncs;
        body(&code, &scratch);
        nfuncs++;
    }

    put(out, "\0asm\1\0\0\0", 8);
    uleb(&sec, NSIGS + 1); /* type section */
    for (unsigned i = 0; i < NSIGS; i++) {
        u8(&sec, 0x60);
        uleb(&sec, sigs[i].nparams);
        put(&sec, sigs[i].params, sigs[i].nparams);
        uleb(&sec, sigs[i].result ? 1 : 0);
        if (sigs[i].result) u8(&sec, sigs[i].result);
    }
    put(&sec, (const uint8_t[]){0x60, 0x01, I32, 0x00}, 4); /* (i32) -> () */
    section(out, 1, &sec);

    uleb(&sec, 1); /* import section: env.log */
    put(&sec, (const uint8_t[]){3, 'e', 'n', 'v', 3, 'l', 'o', 'g', 0x00, NSIGS}, 10);
    section(out, 2, &sec);

    uleb(&sec, nfuncs); /* function section */
    for (uint32_t i = 0; i < nfuncs; i++)
        uleb(&sec, i % NSIGS);
    section(out, 3, &sec);

    put(&sec, (const uint8_t[]){1, 0x70, 0x00}, 3); /* table: funcref, min nfuncs */
    uleb(&sec, nfuncs);
    section(out, 4, &sec);

    put(&sec, (const uint8_t[]){1, 0x01, 0x01, 0x80, 0x02}, 5); /* memory 1..256 */
    section(out, 5, &sec);

    put(&sec, (const uint8_t[]){1, I32, 0x01, 0x41, 0x00, 0x0b}, 6); /* mut i32 = 0 */
    section(out, 6, &sec);

    put(&sec, (const uint8_t[]){2, 3, 'r', 'u', 'n', 0x00}, 6); /* export "run", "memory" */
    uleb(&sec, 1);
    put(&sec, (const uint8_t[]){6, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00}, 9);
    section(out, 7, &sec);

    put(&sec, (const uint8_t[]){1, 0x00, 0x41, 0x00, 0x0b}, 5); /* elem: all functions */
    uleb(&sec, nfuncs);
    for (uint32_t i = 0; i < nfuncs; i++)
        uleb(&sec, 1 + i);
    section(out, 9, &sec);

    uleb(&sec, nfuncs); /* code section */
    put(&sec, code.p, code.len);
    section(out, 10, &sec);

    put(&sec, (const uint8_t[]){1, 0x00, 0x41, 0x10, 0x0b, 5, 'h', 'e', 'l', 'l', 'o'}, 11);
    section(out, 11, &sec);

    free(code.p);
    free(scratch.p);
    free(sec.p);
    fprintf(stderr, "gen_module: %u functions, %zu bytes\n", nfuncs + 1, out->len);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 4) {
        fputs("usage: gen_module OUT.wasm [MEGABYTES] [SEED]\n", stderr);
        return 2;
    }
    double mb = argc > 2 ? atof(argv[2]) : 32;
    rng_state = argc > 3 ? strtoull(argv[3], NULL, 0) : 0x5b5;
    if (mb <= 0 || mb > 900 || rng_state == 0) {
        fputs("gen_module: size must be in (0, 900] MB and the seed nonzero\n", stderr);
        return 2;
    }
    struct buf out = {0};
    write_module(&out, (size_t)(mb * 1024 * 1024));
    FILE *f = fopen(argv[1], "wb");
    if (!f || fwrite(out.p, 1, out.len, f) != out.len || fclose(f) != 0) {
        perror(argv[1]);
        return 1;
    }
    free(out.p);
    return 0;
}
