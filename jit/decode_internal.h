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

/* Validates one function body; `func_index` counts imports. */
int sbx_validate_body(const struct sbx_module *m, uint32_t func_index, struct sbx_error *err);

#endif
