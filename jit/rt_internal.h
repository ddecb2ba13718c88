/* What the instance runtime's files (instance.c, linker.c, segments.c,
 * const_eval.c, libcalls.c) share with each other. Internal to jit/. */
#ifndef SBX_JIT_RT_INTERNAL_H
#define SBX_JIT_RT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "jit/instance.h"

/* A table holds at most this many elements: at 8 bytes each, 80 MB. The
 * declared minimum is bounded by the same number (SBX_MAX_TABLE_SIZE), and
 * table.grow fails past it. */
#define SBX_RT_MAX_TABLE_ELEMS 10000000u

/* host.c */
struct sbx_funcref *sbx_host_func_ref(struct sbx_host_func *f);
const struct sbx_functype *sbx_host_func_type(const struct sbx_host_func *f);

/* const_eval.c: evaluates a constant expression of `inst` into *out (all 16
 * bytes written). global.get reads inst->globals[], ref.func yields
 * inst->funcs[]; both must be set for the indices used. Returns 0, or -1 for
 * an index out of range (impossible after validation). */
int sbx_const_eval(const struct sbx_instance *inst, const struct sbx_const_expr *e,
                   union sbx_global_cell *out);

/* linker.c: the extern defined as module.name, or NULL. */
const struct sbx_extern *sbx_linker_lookup(const struct sbx_linker *l, const char *module,
                                           size_t module_len, const char *name, size_t name_len);

/* linker.c: hands `inst` to the linker, which frees it in sbx_linker_free.
 * For instances whose instantiation trapped after their function references
 * may have escaped (into an imported table, or through the start function's
 * calls): the spec keeps those functions callable. If the linker cannot
 * record it, the instance is kept alive forever rather than freed. */
void sbx_linker_adopt(struct sbx_linker *l, struct sbx_instance *inst);

/* instance.c: the extern of export number `index` of `inst`. Returns 0 or
 * -ENOENT. */
int sbx_instance_export_at(struct sbx_instance *inst, uint32_t index, struct sbx_extern *ext);

/* segments.c */
/* Allocates the instance's own memory 0 from its pool, mapping the module's
 * cached image when every active data segment can be imaged (then the data
 * segments count as applied). Returns 0 or -1 with err set. */
int sbx_rt_memory_create(struct sbx_instance *inst, struct sbx_error *err);
/* Evaluates every element segment's items into inst->elems[]. Returns 0 or
 * -1 with err set (out of memory). */
int sbx_rt_elems_evaluate(struct sbx_instance *inst, struct sbx_error *err);
/* The instantiation steps of the spec, in its order: active element
 * segments written to their tables then dropped, declarative ones dropped;
 * then active data segments written (unless the image holds them) and
 * dropped. Each returns 0 or the trap code of the first failing segment,
 * whose predecessors stay written. */
int sbx_rt_elems_apply(struct sbx_instance *inst);
int sbx_rt_datas_apply(struct sbx_instance *inst);

#endif
