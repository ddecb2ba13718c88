/* The error record that library code fills in instead of printing. The
 * message text follows the wording of the official spec tests (e.g. "type
 * mismatch", "unexpected end"), so a test runner can match it by prefix. */
#ifndef SBX_JIT_ERROR_H
#define SBX_JIT_ERROR_H

#include <stddef.h>
#include <stdint.h>

#define SBX_ERROR_MSG_MAX 256

struct sbx_error {
    char msg[SBX_ERROR_MSG_MAX];
    size_t offset;      /* byte offset in the module binary */
    int64_t func_index; /* function index for code errors, else -1 */
};

/* Fills `err` (if non-NULL) and returns -1, so callers can `return
 * sbx_fail(...)`. */
int sbx_fail(struct sbx_error *err, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Formats "error at offset 0x...: msg" (plus " in function N") into buf. */
void sbx_error_format(const struct sbx_error *err, char *buf, size_t size);

#endif
