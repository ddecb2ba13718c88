/* The worker's system-call allowlist (seccomp_rules.c). Internal. */
#ifndef SBX_POLICY_SECCOMP_RULES_H
#define SBX_POLICY_SECCOMP_RULES_H

#include <stddef.h>
#include <stdint.h>

/* One allowed system call, with at most one argument condition: argument
 * `arg` compared by `op` (0: none, else enum scmp_compare) with a / b. Rows
 * for the same call are alternatives. */
struct seccomp_rule {
    int nr;
    uint8_t arg, op;
    uint64_t a, b;
};

struct seccomp_group {
    const struct seccomp_rule *rules;
    size_t n;
};

/* The strict set every worker gets. */
extern const struct seccomp_group seccomp_default_group;

/* What a warm-worker template adds to its policy's set to fork. */
extern const struct seccomp_group seccomp_template_group;

/* The opt-in group for an Sbx__SyscallGroup value, or NULL. */
const struct seccomp_group *seccomp_opt_in_group(int group);

#endif
