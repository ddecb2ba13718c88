/* One spawn's effective policy, shared by `sbx serve` and `sbx run`: the
 * base policy narrowed by what the spawn asks (its Policy, and its older
 * ResourceLimits), and the worker's limits taken from the result, so that
 * the zygote, the worker and the supervisor's own timer all enforce the
 * same numbers. */
#ifndef SBX_SUPERVISOR_SPAWN_POLICY_H
#define SBX_SUPERVISOR_SPAWN_POLICY_H

#include "policy/policy.h"

/* base: complete. request and limits: either may be NULL; each field they
 * set may only narrow base (an error names the field otherwise). Where
 * both set a limit, the request's Policy wins. */
int sbx_spawn_policy(const Sbx__Policy *base, const Sbx__Policy *request,
                     const Sbx__ResourceLimits *limits, Sbx__Policy **effective,
                     struct sbx_policy_error *err);

/* The default policy with what request and limits set in place of its own
 * (they may widen it: for the operator's own command line). */
int sbx_default_policy_with(const Sbx__Policy *request, const Sbx__ResourceLimits *limits,
                            Sbx__Policy **effective, struct sbx_policy_error *err);

struct sbx_broker;
/* The broker of an effective policy's preopens (supervisor/broker.h), in
 * the policy's order: each directory is opened now, so a missing one fails
 * the spawn. 0 or -errno. */
int sbx_broker_for_policy(const Sbx__Policy *p, struct sbx_broker **out);

/* The ResourceLimits a worker gets for an effective policy; every field
 * present (fuel only when the policy meters it). */
void sbx_limits_from_policy(const Sbx__Policy *p, Sbx__ResourceLimits *out);

#endif
