/* The one bounded reader for untrusted module bytes: every read checks the
 * end pointer, and LEB128 decoding enforces the exact bounds of the binary
 * format. Offsets in errors are relative to `base`, the module's first byte.
 *
 * Reads are bounded by the end of the module, not of the current section:
 * like the reference interpreter, a section's size is checked after its
 * contents are read, which decides which error message a spec test sees. */
#ifndef SBX_JIT_READER_H
#define SBX_JIT_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "jit/error.h"

struct sbx_reader {
    const uint8_t *base; /* first byte of the module */
    const uint8_t *p;
    const uint8_t *end;
    struct sbx_error *err;
};

#define SBX_ERR_EOF "unexpected end of section or function"

static inline size_t rd_offset(const struct sbx_reader *r)
{
    return (size_t)(r->p - r->base);
}

static inline size_t rd_remaining(const struct sbx_reader *r)
{
    return (size_t)(r->end - r->p);
}

static inline int rd_u8(struct sbx_reader *r, uint8_t *out)
{
    if (r->p >= r->end) {
        *out = 0; /* defined even on failure, for the compiler's flow analysis */
        return sbx_fail(r->err, rd_offset(r), SBX_ERR_EOF);
    }
    *out = *r->p++;
    return 0;
}

static inline int rd_bytes(struct sbx_reader *r, size_t n, const uint8_t **out)
{
    *out = r->p;
    if (n > rd_remaining(r)) return sbx_fail(r->err, rd_offset(r), SBX_ERR_EOF);
    r->p += n;
    return 0;
}

/* Unsigned LEB128 of at most `bits` bits (32 or 64). */
static inline int rd_uleb(struct sbx_reader *r, unsigned bits, uint64_t *out)
{
    uint64_t v = 0;
    unsigned shift = 0;
    *out = 0;
    for (;;) {
        if (shift >= bits) return sbx_fail(r->err, rd_offset(r), "integer representation too long");
        uint8_t b = 0;
        if (rd_u8(r, &b)) return -1;
        unsigned left = bits - shift; /* value bits this byte may still carry */
        if (left < 7 && (b & 0x7f) >> left)
            return sbx_fail(r->err, rd_offset(r) - 1, "integer too large");
        v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80)) break;
    }
    *out = v;
    return 0;
}

/* Signed LEB128 of at most `bits` bits (7, 32, 33 or 64). */
static inline int rd_sleb(struct sbx_reader *r, unsigned bits, int64_t *out)
{
    uint64_t v = 0;
    unsigned shift = 0;
    uint8_t b = 0;
    *out = 0;
    for (;;) {
        if (shift >= bits) return sbx_fail(r->err, rd_offset(r), "integer representation too long");
        if (rd_u8(r, &b)) return -1;
        unsigned left = bits - shift;
        if (left < 7) {
            /* The unused high bits must all equal the sign bit. */
            uint8_t mask = (uint8_t)((0x7f << (left - 1)) & 0x7f);
            if ((b & mask) != 0 && (b & mask) != mask)
                return sbx_fail(r->err, rd_offset(r) - 1, "integer too large");
        }
        v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80)) break;
    }
    if (shift < 64 && (b & 0x40)) v |= ~(uint64_t)0 << shift;
    *out = (int64_t)v;
    return 0;
}

static inline int rd_u32(struct sbx_reader *r, uint32_t *out)
{
    /* Fast path: one byte. */
    if (r->p < r->end && !(*r->p & 0x80)) {
        *out = *r->p++;
        return 0;
    }
    uint64_t v = 0;
    if (rd_uleb(r, 32, &v)) {
        *out = 0;
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

static inline int rd_fixed32(struct sbx_reader *r, uint32_t *out)
{
    const uint8_t *b;
    if (rd_bytes(r, 4, &b)) return -1;
    memcpy(out, b, 4); /* x86-64 is little-endian, like the format */
    return 0;
}

static inline int rd_fixed64(struct sbx_reader *r, uint64_t *out)
{
    const uint8_t *b;
    if (rd_bytes(r, 8, &b)) return -1;
    memcpy(out, b, 8);
    return 0;
}

/* A u32 length that must not exceed what is left of the module. Like the
 * reference interpreter, "left" is measured before the length's own bytes: a
 * length that overshoots by less than that is "unexpected end" when the
 * bytes are read, one that overshoots by more is "length out of bounds". */
static inline int rd_len(struct sbx_reader *r, uint32_t *out)
{
    size_t at = rd_offset(r), left = rd_remaining(r);
    if (rd_u32(r, out)) return -1;
    if (*out > left) return sbx_fail(r->err, at, "length out of bounds");
    return 0;
}

/* A name: a length-prefixed, valid UTF-8 byte string. */
int rd_name(struct sbx_reader *r, const char **ptr, uint32_t *len);

/* True if [s, s+n) is well-formed UTF-8 (no overlongs, no surrogates,
 * nothing above U+10FFFF). */
bool sbx_utf8_valid(const uint8_t *s, size_t n);

#endif
