/* The spec runner's value handling (values.c): parsing wast2json values and
 * matching results, NaN patterns included. Links without the runtime. */
#include <criterion/criterion.h>
#include <string.h>

#include "jit/module.h"
#include "tests/spec/values.h"

/* Parses a JSON text holding one value; the test fails if it does not parse. */
static struct spec_value parse(const char *json)
{
    struct json_object *obj = json_tokener_parse(json);
    cr_assert_not_null(obj, "bad JSON in the test: %s", json);
    struct spec_value v;
    char why[128];
    int rc = spec_value_parse(obj, &v, why, sizeof why);
    json_object_put(obj);
    cr_assert_eq(rc, 0, "%s: %s", json, why);
    return v;
}

static int parse_rc(const char *json)
{
    struct json_object *obj = json_tokener_parse(json);
    cr_assert_not_null(obj);
    struct spec_value v;
    char why[128] = "";
    int rc = spec_value_parse(obj, &v, why, sizeof why);
    json_object_put(obj);
    if (rc) cr_assert_neq(why[0], '\0', "a rejection must say why");
    return rc;
}

static bool matches_f32(const struct spec_value *e, uint32_t bits)
{
    union sbx_val v = {.f32 = bits};
    return spec_value_matches(e, &v);
}

static bool matches_f64(const struct spec_value *e, uint64_t bits)
{
    union sbx_val v = {.f64 = bits};
    return spec_value_matches(e, &v);
}

Test(values, decimal_numbers)
{
    uint64_t v;
    cr_assert_eq(spec_parse_u64("0", UINT32_MAX, &v), 0);
    cr_assert_eq(v, 0);
    cr_assert_eq(spec_parse_u64("4294967295", UINT32_MAX, &v), 0);
    cr_assert_eq(v, UINT32_MAX);
    cr_assert_eq(spec_parse_u64("4294967296", UINT32_MAX, &v), -1);
    cr_assert_eq(spec_parse_u64("18446744073709551615", UINT64_MAX, &v), 0);
    cr_assert_eq(v, UINT64_MAX);
    cr_assert_eq(spec_parse_u64("18446744073709551616", UINT64_MAX, &v), -1);
    cr_assert_eq(spec_parse_u64("-1", UINT32_MAX, &v), 0);
    cr_assert_eq(v, UINT32_MAX);
    cr_assert_eq(spec_parse_u64("-2147483648", UINT32_MAX, &v), 0);
    cr_assert_eq(v, 0x80000000u);
    cr_assert_eq(spec_parse_u64("-2147483649", UINT32_MAX, &v), -1);
    cr_assert_eq(spec_parse_u64("", UINT32_MAX, &v), -1);
    cr_assert_eq(spec_parse_u64("-", UINT32_MAX, &v), -1);
    cr_assert_eq(spec_parse_u64("12a", UINT32_MAX, &v), -1);
    cr_assert_eq(spec_parse_u64(" 1", UINT32_MAX, &v), -1);
}

Test(values, integers)
{
    struct spec_value v = parse("{\"type\": \"i32\", \"value\": \"4294967295\"}");
    cr_assert_eq(v.type, SBX_I32);
    cr_assert_eq(v.bits, 0xffffffffu);
    union sbx_val got = {.i32 = 0xffffffffu};
    cr_assert(spec_value_matches(&v, &got));
    got.i32 = 0x7fffffff;
    cr_assert_not(spec_value_matches(&v, &got));

    v = parse("{\"type\": \"i64\", \"value\": \"9223372036854775808\"}");
    cr_assert_eq(v.type, SBX_I64);
    got.i64 = UINT64_C(0x8000000000000000);
    cr_assert(spec_value_matches(&v, &got));

    cr_assert_eq(parse_rc("{\"type\": \"i32\", \"value\": \"4294967296\"}"), -1);
    cr_assert_eq(parse_rc("{\"type\": \"i32\"}"), -1);
    cr_assert_eq(parse_rc("{\"type\": \"i32\", \"value\": 5}"), -1);
    cr_assert_eq(parse_rc("{\"type\": \"i31\", \"value\": \"5\"}"), -1);
    cr_assert_eq(parse_rc("{\"value\": \"5\"}"), -1);
    cr_assert_eq(parse_rc("{\"type\": \"i32\", \"value\": \"nan:canonical\"}"), -1);
}

Test(values, f32_exact_bits)
{
    /* -0.0 is not +0.0, and one NaN's bits are not another's. */
    struct spec_value zero = parse("{\"type\": \"f32\", \"value\": \"0\"}");
    cr_assert(matches_f32(&zero, 0));
    cr_assert_not(matches_f32(&zero, 0x80000000u));
    struct spec_value nan =
        parse("{\"type\": \"f32\", \"value\": \"2143289345\"}"); /* 0x7fc00001 */
    cr_assert(matches_f32(&nan, 0x7fc00001u));
    cr_assert_not(matches_f32(&nan, 0x7fc00000u));
    struct spec_value inf = parse("{\"type\": \"f32\", \"value\": \"4286578688\"}"); /* -inf */
    cr_assert(matches_f32(&inf, 0xff800000u));
    cr_assert_not(matches_f32(&inf, 0x7f800000u));
}

Test(values, f32_nan_patterns)
{
    struct spec_value can = parse("{\"type\": \"f32\", \"value\": \"nan:canonical\"}");
    struct spec_value ari = parse("{\"type\": \"f32\", \"value\": \"nan:arithmetic\"}");
    cr_assert_eq(can.nan, SPEC_NAN_CANONICAL);
    cr_assert_eq(ari.nan, SPEC_NAN_ARITHMETIC);

    /* Canonical: quiet bit alone, either sign. */
    cr_assert(matches_f32(&can, 0x7fc00000u));
    cr_assert(matches_f32(&can, 0xffc00000u));
    cr_assert_not(matches_f32(&can, 0x7fc00001u)); /* payload below the quiet bit */
    cr_assert_not(matches_f32(&can, 0x7fa00000u)); /* signalling */
    cr_assert_not(matches_f32(&can, 0x7f800000u)); /* infinity */
    cr_assert_not(matches_f32(&can, 0x3f800000u)); /* 1.0 */

    /* Arithmetic: quiet bit set, any payload, either sign. */
    cr_assert(matches_f32(&ari, 0x7fc00000u));
    cr_assert(matches_f32(&ari, 0xffc00000u));
    cr_assert(matches_f32(&ari, 0x7fc00001u));
    cr_assert(matches_f32(&ari, 0xffffffffu));
    cr_assert_not(matches_f32(&ari, 0x7f800001u)); /* signalling NaN */
    cr_assert_not(matches_f32(&ari, 0x7f800000u)); /* infinity */
    cr_assert_not(matches_f32(&ari, 0x00400000u)); /* a denormal with the "quiet" bit */
    cr_assert_not(matches_f32(&ari, 0x3fc00000u)); /* 1.5: exponent not all ones */

    /* A pattern is not an argument. */
    union sbx_val out;
    cr_assert_eq(spec_value_to_val(&can, &out), -1);
}

Test(values, f64_nan_patterns)
{
    struct spec_value can = parse("{\"type\": \"f64\", \"value\": \"nan:canonical\"}");
    struct spec_value ari = parse("{\"type\": \"f64\", \"value\": \"nan:arithmetic\"}");
    cr_assert(matches_f64(&can, UINT64_C(0x7ff8000000000000)));
    cr_assert(matches_f64(&can, UINT64_C(0xfff8000000000000)));
    cr_assert_not(matches_f64(&can, UINT64_C(0x7ff8000000000001)));
    cr_assert_not(matches_f64(&can, UINT64_C(0x7ff4000000000000)));
    cr_assert_not(matches_f64(&can, UINT64_C(0x7ff0000000000000)));
    cr_assert_not(matches_f64(&can, UINT64_C(0x7fc0000000000000))); /* f32's quiet bit only */

    cr_assert(matches_f64(&ari, UINT64_C(0x7ff8000000000000)));
    cr_assert(matches_f64(&ari, UINT64_C(0xfff8000000000001)));
    cr_assert(matches_f64(&ari, UINT64_C(0x7fffffffffffffff)));
    cr_assert_not(matches_f64(&ari, UINT64_C(0x7ff0000000000001))); /* signalling */
    cr_assert_not(matches_f64(&ari, UINT64_C(0x7ff0000000000000))); /* infinity */
    cr_assert_not(matches_f64(&ari, UINT64_C(0x3ff8000000000000))); /* 1.5 */

    /* Exact f64 bits, largest value. */
    struct spec_value max = parse("{\"type\": \"f64\", \"value\": \"18446744073709551615\"}");
    cr_assert(matches_f64(&max, UINT64_MAX));
    cr_assert_not(matches_f64(&max, UINT64_C(0x7fffffffffffffff)));
}

Test(values, nan_predicates_direct)
{
    cr_assert(spec_f32_is_canonical_nan(0x7fc00000u));
    cr_assert_not(spec_f32_is_canonical_nan(0x7fe00000u));
    cr_assert(spec_f32_is_arithmetic_nan(0x7fe00000u));
    cr_assert(spec_f64_is_canonical_nan(UINT64_C(0xfff8000000000000)));
    cr_assert_not(spec_f64_is_arithmetic_nan(UINT64_C(0xfff0000000000001)));
}

Test(values, references)
{
    struct spec_value null = parse("{\"type\": \"externref\", \"value\": \"null\"}");
    struct spec_value one = parse("{\"type\": \"externref\", \"value\": \"1\"}");
    struct spec_value zero = parse("{\"type\": \"externref\", \"value\": \"0\"}");
    struct spec_value any = parse("{\"type\": \"funcref\"}");
    struct spec_value fnull = parse("{\"type\": \"funcref\", \"value\": \"null\"}");

    union sbx_val v;
    cr_assert_eq(spec_value_to_val(&zero, &v), 0);
    cr_assert_not_null(v.ref, "externref 0 must not be the null reference");
    cr_assert(spec_value_matches(&zero, &v));
    cr_assert_not(spec_value_matches(&one, &v));
    cr_assert_not(spec_value_matches(&null, &v));
    cr_assert_eq(v.ref, spec_externref(0));

    cr_assert_eq(spec_value_to_val(&null, &v), 0);
    cr_assert_null(v.ref);
    cr_assert(spec_value_matches(&null, &v));
    cr_assert_not(spec_value_matches(&zero, &v));

    union sbx_val some = {.ref = &v};
    cr_assert(spec_value_matches(&any, &some));
    cr_assert_not(spec_value_matches(&fnull, &some));
    v.ref = NULL;
    cr_assert_not(spec_value_matches(&any, &v));
    cr_assert(spec_value_matches(&fnull, &v));
    cr_assert_eq(spec_value_to_val(&any, &v), -1, "no argument can stand for any funcref");
}

Test(values, v128_recognised)
{
    struct spec_value v =
        parse("{\"type\": \"v128\", \"lane_type\": \"i32\", \"value\": [\"1\", \"2\", \"3\", "
              "\"4\"]}");
    cr_assert_eq(v.type, SBX_V128);
    union sbx_val out;
    cr_assert_eq(spec_value_to_val(&v, &out), -1);
}

Test(values, formatting)
{
    char buf[96];
    union sbx_val v = {.i32 = 42};
    spec_val_format(SBX_I32, &v, buf, sizeof buf);
    cr_assert_str_eq(buf, "i32:42 (0x2a)");
    v.f32 = 0x7fc00000u;
    spec_val_format(SBX_F32, &v, buf, sizeof buf);
    cr_assert(strstr(buf, "0x7fc00000") != NULL, "%s", buf);
    struct spec_value can = parse("{\"type\": \"f64\", \"value\": \"nan:canonical\"}");
    spec_value_format(&can, buf, sizeof buf);
    cr_assert_str_eq(buf, "f64:nan:canonical");
    struct spec_value ext = parse("{\"type\": \"externref\", \"value\": \"7\"}");
    spec_value_format(&ext, buf, sizeof buf);
    cr_assert_str_eq(buf, "externref:7");
}
