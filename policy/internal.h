/* Helpers shared by the files of policy/. Not part of the public API. */
#ifndef SBX_POLICY_INTERNAL_H
#define SBX_POLICY_INTERNAL_H

#include <stdbool.h>

#include "policy/policy.h"

/* Sets err->msg to "PATH: MESSAGE" (or MESSAGE alone for an empty path) and
 * returns -1. */
int policy_fail(struct sbx_policy_error *err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The ranges of PolicyLimits, one row per field (validate.c), so that the
 * validator, the defaults and narrowing walk one table. */
struct policy_limit {
    const char *name;
    size_t has_off, val_off; /* offsets of has_X and X in Sbx__PolicyLimits */
    uint64_t min, max;
    bool has_default; /* false: absent means "no limit" (fuel) */
    uint64_t def;
};
extern const struct policy_limit policy_limits[];
extern const size_t policy_nlimits;

static inline bool limit_has(const Sbx__PolicyLimits *l, const struct policy_limit *d)
{
    return *(const protobuf_c_boolean *)((const char *)l + d->has_off);
}
static inline uint64_t limit_get(const Sbx__PolicyLimits *l, const struct policy_limit *d)
{
    return *(const uint64_t *)((const char *)l + d->val_off);
}
static inline void limit_set(Sbx__PolicyLimits *l, const struct policy_limit *d, uint64_t v)
{
    *(protobuf_c_boolean *)((char *)l + d->has_off) = 1;
    *(uint64_t *)((char *)l + d->val_off) = v;
}

/* The six namespaces in proto order, with their JSON names. */
#define POLICY_NNS 6
extern const char *const policy_ns_names[POLICY_NNS];
Sbx__NamespaceRequest **policy_ns_slot(Sbx__Namespaces *ns, int i);
const Sbx__NamespaceRequest *policy_ns_get(const Sbx__Policy *p, int i);

/* True when `path` equals `dir` or lies beneath it, component-wise. Both
 * are validated absolute paths. */
bool policy_path_within(const char *path, const char *dir);

#endif
