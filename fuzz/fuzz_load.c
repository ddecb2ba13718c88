/* libFuzzer target for the front end and the compiler: decode + validate
 * arbitrary bytes, then compile whatever validates. Besides crashes, leaks
 * and timeouts (caught by the sanitizers and libFuzzer), it checks that
 * sbx_module_load agrees with decode followed by validate, that every
 * rejection carries a message and an offset inside the input, and that a
 * valid module either compiles or is refused with a message (SIMD, for
 * now). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jit/module.h"
#include "jit/runtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sbx_error err = {.func_index = -1};
    struct sbx_module *m = sbx_module_load(data, size, &err);
    bool loaded = m != NULL;
    if (m) {
        struct sbx_error cerr = {.func_index = -1};
        struct sbx_compiled *c = sbx_compile(m, NULL, &cerr);
        if (c)
            sbx_compiled_free(c);
        else if (cerr.msg[0] == '\0')
            abort(); /* a refusal must say why */
        sbx_module_free(m);
    } else {
        /* Rejections must be explained and point into the input. */
        if (err.msg[0] == '\0' || strnlen(err.msg, sizeof err.msg) == sizeof err.msg) abort();
        if (err.offset > size) abort();
    }

    struct sbx_error err2 = {.func_index = -1};
    struct sbx_module *d = sbx_module_decode(data, size, &err2);
    bool valid = d && sbx_module_validate(d, &err2) == 0;
    if (d) sbx_module_free(d);
    if (valid != loaded) abort(); /* load must mean exactly decode + validate */
    return 0;
}
