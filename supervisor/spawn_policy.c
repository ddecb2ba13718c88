/* The request is assembled from shallow copies on the stack: narrowing only
 * reads it and builds a fresh effective policy. */
#include "supervisor/spawn_policy.h"

#include "supervisor/broker.h"

/* Fills the absent fields of lim from the older ResourceLimits. */
static void merge_limits(Sbx__PolicyLimits *lim, const Sbx__ResourceLimits *limits)
{
    if (limits) {
        if (limits->has_memory_bytes && !lim->has_max_memory_bytes)
            lim->has_max_memory_bytes = 1, lim->max_memory_bytes = limits->memory_bytes;
        if (limits->has_fuel && limits->fuel && !lim->has_fuel)
            lim->has_fuel = 1, lim->fuel = limits->fuel;
        if (limits->has_timeout_ms && limits->timeout_ms && !lim->has_timeout_ms)
            lim->has_timeout_ms = 1, lim->timeout_ms = limits->timeout_ms;
        if (limits->has_stack_bytes && !lim->has_wasm_stack_bytes)
            lim->has_wasm_stack_bytes = 1, lim->wasm_stack_bytes = limits->stack_bytes;
    }
}

int sbx_spawn_policy(const Sbx__Policy *base, const Sbx__Policy *request,
                     const Sbx__ResourceLimits *limits, Sbx__Policy **effective,
                     struct sbx_policy_error *err)
{
    Sbx__Policy req = SBX__POLICY__INIT;
    Sbx__PolicyLimits lim = SBX__POLICY_LIMITS__INIT;
    if (request) req = *request;
    if (req.limits) lim = *req.limits;
    merge_limits(&lim, limits);
    req.limits = &lim;
    return sbx_policy_narrow(base, &req, effective, err);
}

int sbx_default_policy_with(const Sbx__Policy *request, const Sbx__ResourceLimits *limits,
                            Sbx__Policy **effective, struct sbx_policy_error *err)
{
    Sbx__Policy file = SBX__POLICY__INIT;
    Sbx__PolicyLimits lim = SBX__POLICY_LIMITS__INIT;
    if (request) file = *request;
    if (file.limits) lim = *file.limits;
    merge_limits(&lim, limits);
    file.limits = &lim;
    return sbx_policy_resolve(&file, effective, err);
}

void sbx_limits_from_policy(const Sbx__Policy *p, Sbx__ResourceLimits *out)
{
    sbx__resource_limits__init(out);
    const Sbx__PolicyLimits *l = p->limits;
    out->has_memory_bytes = 1, out->memory_bytes = l->max_memory_bytes;
    out->has_stack_bytes = 1, out->stack_bytes = l->wasm_stack_bytes;
    out->has_timeout_ms = 1;
    out->timeout_ms = l->timeout_ms > UINT32_MAX ? UINT32_MAX : (uint32_t)l->timeout_ms;
    if (l->has_fuel) out->has_fuel = 1, out->fuel = l->fuel;
}

int sbx_broker_for_policy(const Sbx__Policy *p, struct sbx_broker **out)
{
    struct sbx_broker_preopen pre[p->n_preopens + 1];
    for (size_t i = 0; i < p->n_preopens; i++)
        pre[i] = (struct sbx_broker_preopen){.host_path = p->preopens[i]->host_path,
                                             .host_fd = -1,
                                             .guest_path = p->preopens[i]->guest_path,
                                             .read_only = p->preopens[i]->read_only};
    return sbx_broker_new(pre, p->n_preopens, out);
}
