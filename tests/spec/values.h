/* Values in wast2json command lists: the JSON form of arguments and expected
 * results, their conversion to runtime values, and matching a result against
 * an expectation (NaN patterns included). Pure data handling, no runtime, so
 * its unit test links without the compiler. */
#ifndef SBX_TESTS_SPEC_VALUES_H
#define SBX_TESTS_SPEC_VALUES_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jit/vmctx.h"

/* What an expected float must be. */
enum spec_nan {
    SPEC_NAN_NONE,       /* exactly these bits */
    SPEC_NAN_CANONICAL,  /* "nan:canonical": quiet bit alone in the payload, either sign */
    SPEC_NAN_ARITHMETIC, /* "nan:arithmetic": quiet bit set, any payload, either sign */
};

/* What an expected or passed reference is. */
enum spec_ref {
    SPEC_REF_HOST, /* externref N: the host reference spec_externref(N) */
    SPEC_REF_NULL, /* "null" */
    SPEC_REF_ANY,  /* no value (or a funcref number): any non-null reference */
};

/* One parsed value. v128 values are recognised (type SBX_V128) but carry no
 * lanes: nothing executes them yet. */
struct spec_value {
    uint8_t type;  /* enum sbx_valtype */
    uint8_t nan;   /* enum spec_nan, f32/f64 only */
    uint8_t ref;   /* enum spec_ref, funcref/externref only */
    uint64_t bits; /* i32/f32 in the low 32 bits; i64/f64; externref: N */
};

/* Parses a decimal number (optionally negative, taken modulo 2^64) that must
 * fit `max`; returns 0, or -1 for anything else (empty, junk, overflow). */
int spec_parse_u64(const char *s, uint64_t max, uint64_t *out);

/* Parses {"type": T, "value": V}. Returns 0, or -1 with a reason in `why`. */
int spec_value_parse(struct json_object *obj, struct spec_value *out, char *why, size_t why_size);

/* The host reference that stands for externref N: never NULL, distinct for
 * distinct N (N + 1, so the index 0 is not the null reference). */
void *spec_externref(uint64_t n);

/* Converts an argument to a runtime value. Returns -1 for what cannot be an
 * argument (a NaN pattern, a non-null funcref, a v128). */
int spec_value_to_val(const struct spec_value *v, union sbx_val *out);

/* True if `got`, a value of type v->type, satisfies the expectation. */
bool spec_value_matches(const struct spec_value *expected, const union sbx_val *got);

bool spec_f32_is_canonical_nan(uint32_t bits);
bool spec_f32_is_arithmetic_nan(uint32_t bits);
bool spec_f64_is_canonical_nan(uint64_t bits);
bool spec_f64_is_arithmetic_nan(uint64_t bits);

/* Writes "i32:42" or similar for messages: a runtime value of `type`, and an
 * expectation. */
void spec_val_format(uint8_t type, const union sbx_val *v, char *buf, size_t size);
void spec_value_format(const struct spec_value *v, char *buf, size_t size);

#endif
