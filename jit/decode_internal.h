/* Helpers shared by the decoder and the validator, not part of the API. */
#ifndef SBX_JIT_DECODE_INTERNAL_H
#define SBX_JIT_DECODE_INTERNAL_H

#include <stdbool.h>

#include "jit/insn.h"
#include "jit/module.h"

/* True for the instructions WebAssembly 2.0 allows in constant expressions
 * (before `end`): *.const, global.get, ref.null, ref.func. */
bool sbx_is_const_op(unsigned op);

/* Records a constant instruction into `ce` (kind, type, value). */
void sbx_const_from_insn(const struct sbx_insn *in, struct sbx_const_expr *ce);

/* Buffers the body validator reuses from one function to the next. */
struct sbx_body_scratch {
    uint8_t *vals;
    uint32_t vals_cap;
    struct sbx_ctrl_frame *ctrls;
    uint32_t ctrls_cap;
    uint8_t *locals;
    uint32_t locals_cap;
};

void sbx_body_scratch_free(struct sbx_body_scratch *s);

/* Validates one function body; `func_index` counts imports. */
int sbx_validate_body(const struct sbx_module *m, uint32_t func_index,
                      struct sbx_body_scratch *scratch, struct sbx_error *err);

#endif
