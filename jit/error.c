/* Error records for library code: fill, never print. */
#include "jit/error.h"

#include <stdarg.h>
#include <stdio.h>

int sbx_fail(struct sbx_error *err, size_t offset, const char *fmt, ...)
{
    if (!err) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    err->offset = offset;
    err->func_index = -1;
    return -1;
}

void sbx_error_format(const struct sbx_error *err, char *buf, size_t size)
{
    if (err->func_index >= 0)
        snprintf(buf, size, "error at offset 0x%zx in function %lld: %s", err->offset,
                 (long long)err->func_index, err->msg);
    else
        snprintf(buf, size, "error at offset 0x%zx: %s", err->offset, err->msg);
}
