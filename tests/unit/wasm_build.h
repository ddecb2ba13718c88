/* Helpers for the front end's unit tests: hand-built module bytes, a
 * growable buffer for generated ones, and load-and-check shortcuts that fail
 * the current Criterion test with a readable message. */
#ifndef SBX_TESTS_UNIT_WASM_BUILD_H
#define SBX_TESTS_UNIT_WASM_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "jit/module.h"

#define WASM_HEADER 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00

/* Section ids of the binary format. */
enum {
    SEC_CUSTOM = 0,
    SEC_TYPE = 1,
    SEC_IMPORT = 2,
    SEC_FUNCTION = 3,
    SEC_TABLE = 4,
    SEC_MEMORY = 5,
    SEC_GLOBAL = 6,
    SEC_EXPORT = 7,
    SEC_START = 8,
    SEC_ELEMENT = 9,
    SEC_CODE = 10,
    SEC_DATA = 11,
    SEC_DATA_COUNT = 12,
};

struct wbuf {
    uint8_t *p;
    size_t len, cap;
};

void wb_u8(struct wbuf *b, uint8_t v);
void wb_bytes(struct wbuf *b, const void *p, size_t n);
void wb_fill(struct wbuf *b, uint8_t v, size_t n);
void wb_uleb(struct wbuf *b, uint64_t v);
/* Appends section `id` whose contents are `content` (size field included). */
void wb_section(struct wbuf *b, uint8_t id, const struct wbuf *content);
void wb_free(struct wbuf *b);

/* sbx_module_load with a fresh error record. */
struct sbx_module *t_load(const uint8_t *bytes, size_t len, struct sbx_error *err);

/* Asserts that the bytes load; returns the module (free it). */
struct sbx_module *t_expect_load(const uint8_t *bytes, size_t len);

/* Asserts that the bytes are rejected with a message starting with `prefix`
 * at byte offset `offset` (any offset if offset is SIZE_MAX). */
void t_expect_reject(const uint8_t *bytes, size_t len, size_t offset, const char *prefix);

/* Shortcuts over a byte list written inline. */
#define BYTES(...)  ((const uint8_t[]){__VA_ARGS__})
#define NBYTES(...) sizeof((const uint8_t[]){__VA_ARGS__})
#define EXPECT_REJECT(offset, prefix, ...)                                                         \
    t_expect_reject(BYTES(__VA_ARGS__), NBYTES(__VA_ARGS__), (offset), (prefix))
#define EXPECT_LOAD(...) t_expect_load(BYTES(__VA_ARGS__), NBYTES(__VA_ARGS__))

/* Reads a .wasm the build compiled from tests/unit/wat/NAME.wat. The
 * returned bytes must outlive any module loaded from them. */
uint8_t *t_read_test_wasm(const char *name, size_t *len);

#endif
