/* Safe defaults and the effective policy of a policy file. An effective
 * policy has every field present, so what a worker gets is written out in
 * full (sbx policy check prints it) and never depends on a default applied
 * somewhere else. */
#include <stdlib.h>

#include "policy/internal.h"

#define NEW_MSG(type, init)                                                                        \
    ({                                                                                             \
        type *m_ = malloc(sizeof *m_);                                                             \
        if (m_) init(m_);                                                                          \
        m_;                                                                                        \
    })

/* Fills every absent field of `p` with its default: limits from the table
 * (except fuel, whose absence means unmetered), each namespace off, no
 * syscall group. Lists stay as they are: empty is their default. */
static int complete(Sbx__Policy *p)
{
    if (!p->limits && !(p->limits = NEW_MSG(Sbx__PolicyLimits, sbx__policy_limits__init)))
        return -1;
    for (size_t i = 0; i < policy_nlimits; i++) {
        const struct policy_limit *d = &policy_limits[i];
        if (d->has_default && !limit_has(p->limits, d)) limit_set(p->limits, d, d->def);
    }
    if (!p->namespaces && !(p->namespaces = NEW_MSG(Sbx__Namespaces, sbx__namespaces__init)))
        return -1;
    for (int i = 0; i < POLICY_NNS; i++) {
        Sbx__NamespaceRequest **slot = policy_ns_slot(p->namespaces, i);
        if (!*slot && !(*slot = NEW_MSG(Sbx__NamespaceRequest, sbx__namespace_request__init)))
            return -1;
        if (!(*slot)->has_enabled) (*slot)->has_enabled = 1, (*slot)->enabled = 0;
        if (!(*slot)->has_optional) (*slot)->has_optional = 1, (*slot)->optional = 0;
    }
    if (!p->syscalls && !(p->syscalls = NEW_MSG(Sbx__SyscallPolicy, sbx__syscall_policy__init)))
        return -1;
    return 0;
}

Sbx__Policy *sbx_policy_default(void)
{
    Sbx__Policy *p = NEW_MSG(Sbx__Policy, sbx__policy__init);
    if (p && complete(p)) {
        sbx_policy_free(p);
        return NULL;
    }
    return p;
}

int sbx_policy_resolve(const Sbx__Policy *file, Sbx__Policy **effective,
                       struct sbx_policy_error *err)
{
    *effective = NULL;
    Sbx__Policy *p = sbx_policy_copy(file);
    if (!p || complete(p)) {
        sbx_policy_free(p);
        return policy_fail(err, "", "out of memory");
    }
    if (sbx_policy_validate(p, err)) {
        sbx_policy_free(p);
        return -1;
    }
    *effective = p;
    return 0;
}
