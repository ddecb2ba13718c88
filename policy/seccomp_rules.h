/* The worker's system-call allowlist (seccomp_rules.c). Internal. */
#ifndef SBX_POLICY_SECCOMP_RULES_H
#define SBX_POLICY_SECCOMP_RULES_H

#include <stddef.h>
#include <stdint.h>

/* One condition on an argument: argument `arg` compared by `op` (0: none,
 * else enum scmp_compare) with a / b. */
struct seccomp_cond {
    uint8_t arg, op;
    uint64_t a, b;
};

/* One allowed system call, with at most two argument conditions, both of
 * which must hold. Rows for the same call are alternatives. */
struct seccomp_rule {
    int nr;
    struct seccomp_cond cond[2];
};

struct seccomp_group {
    const struct seccomp_rule *rules;
    size_t n;
};

/* The strict set every worker gets. */
extern const struct seccomp_group seccomp_default_group;

/* What a warm-worker template adds to its policy's set to fork; and, for
 * a template whose children seal themselves (sbx_confine_seal), the call
 * that installs the seal. */
extern const struct seccomp_group seccomp_template_group;
extern const struct seccomp_group seccomp_seal_group;

/* The opt-in group for an Sbx__SyscallGroup value, or NULL. */
const struct seccomp_group *seccomp_opt_in_group(int group);

#endif
