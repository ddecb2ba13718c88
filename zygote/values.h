/* Conversions between the runtime's values and traps and their protobuf
 * forms (Value, Trap), shared by the worker and the supervisor. */
#ifndef SBX_ZYGOTE_VALUES_H
#define SBX_ZYGOTE_VALUES_H

#include "jit/runtime.h"
#include "proto/sbx.pb-c.h"

/* Fills `out` from a protobuf Value that must match `type`; -EINVAL if not. */
int sbx_value_from_proto(const Sbx__Value *in, uint8_t type, union sbx_val *out);

/* Fills `out` (initialised here) from a value of `type`. */
void sbx_value_to_proto(uint8_t type, const union sbx_val *in, Sbx__Value *out);

/* The protobuf trap kind of a runtime trap code. */
Sbx__TrapKind sbx_trap_kind_to_proto(int code);

#endif
