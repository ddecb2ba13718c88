/* The rules a policy must follow beyond its JSON types: the range of every
 * limit, the form of env entries and paths, list sizes, and contradictions
 * between fields. Every error names the field path. The limits table here
 * is also what defaults.c and narrow.c walk. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "policy/internal.h"

#define KIB (1024ull)
#define MIB (1024ull * KIB)
#define GIB (1024ull * MIB)

#define LIMIT(field, lo, hi, has_def, d)                                                           \
    {                                                                                              \
#field, offsetof(Sbx__PolicyLimits, has_##field), offsetof(Sbx__PolicyLimits, field), lo,  \
            hi, has_def, d                                                                         \
    }

/* Ranges and defaults; proto/sbx.proto's PolicyLimits says why each. */
const struct policy_limit policy_limits[] = {
    /* One wasm page up to the 4 GiB index space of a 32-bit memory slot. */
    LIMIT(max_memory_bytes, 64 * KIB, 4 * GIB, true, 256 * MIB),
    /* SBX_MAX_TABLE_SIZE of jit/limits.h. */
    LIMIT(max_table_elements, 1, 10000000, true, 10000),
    /* Below 64 KiB even the trap path's frames do not fit. */
    LIMIT(wasm_stack_bytes, 64 * KIB, 512 * MIB, true, 1 * MIB),
    /* The runtime keeps fuel in an int64_t. */
    LIMIT(fuel, 1, INT64_MAX, false, 0),
    /* A day: anything longer is a service, not a run. */
    LIMIT(timeout_ms, 1, 86400000, true, 10000),
    LIMIT(cpu_seconds, 1, 86400, true, 60),
    /* stdio + report channel = 4; 65536 is the usual hard limit. */
    LIMIT(max_open_fds, 4, 65536, true, 64),
    LIMIT(max_output_bytes, 0, 1024 * GIB, true, 64 * MIB),
};
const size_t policy_nlimits = sizeof policy_limits / sizeof policy_limits[0];

#define MAX_ENTRIES     1024u
#define MAX_ARGV_BYTES  (64u * 1024u) /* env and args together, like Spawn */
#define MAX_PREOPENS    64u
#define MAX_PATH_BYTES  4095u
#define FDS_BEFORE_WASM 4u /* stdin, stdout, stderr, the report channel */

static int check_limits(const Sbx__PolicyLimits *l, struct sbx_policy_error *err)
{
    for (size_t i = 0; i < policy_nlimits; i++) {
        const struct policy_limit *d = &policy_limits[i];
        if (!limit_has(l, d)) continue;
        uint64_t v = limit_get(l, d);
        if (v < d->min || v > d->max) {
            char path[64];
            snprintf(path, sizeof path, "limits.%s", d->name);
            return policy_fail(err, path, "must be between %llu and %llu",
                               (unsigned long long)d->min, (unsigned long long)d->max);
        }
    }
    return 0;
}

static size_t key_len(const char *entry)
{
    const char *eq = strchr(entry, '=');
    return eq ? (size_t)(eq - entry) : strlen(entry);
}

static int check_env_args(const Sbx__Policy *p, struct sbx_policy_error *err)
{
    char path[64];
    if (p->n_env > MAX_ENTRIES) return policy_fail(err, "env", "at most %u entries", MAX_ENTRIES);
    if (p->n_args > MAX_ENTRIES) return policy_fail(err, "args", "at most %u entries", MAX_ENTRIES);
    size_t total = 0;
    for (size_t i = 0; i < p->n_env; i++) {
        const char *e = p->env[i];
        snprintf(path, sizeof path, "env[%zu]", i);
        size_t k = key_len(e);
        if (!e[k]) return policy_fail(err, path, "must have the form KEY=VALUE");
        if (k == 0) return policy_fail(err, path, "the key before '=' must not be empty");
        /* A key given twice is a contradiction: which value wins would
         * depend on the guest's libc. */
        for (size_t j = 0; j < i; j++)
            if (key_len(p->env[j]) == k && !strncmp(p->env[j], e, k))
                return policy_fail(err, path, "key \"%.*s\" already set by env[%zu]",
                                   (int)(k > 64 ? 64 : k), e, j);
        total += strlen(e) + 1;
    }
    for (size_t i = 0; i < p->n_args; i++)
        total += strlen(p->args[i]) + 1;
    if (total > MAX_ARGV_BYTES)
        return policy_fail(err, "env", "env and args together exceed %u bytes", MAX_ARGV_BYTES);
    return 0;
}

/* No "." or ".." component and no "//": the broker resolves guest paths
 * beneath host_path, so host_path itself must say exactly one directory. */
static const char *path_problem(const char *s, bool absolute)
{
    size_t len = strlen(s);
    if (len == 0) return "must not be empty";
    if (len > MAX_PATH_BYTES) return "longer than 4095 bytes";
    if (absolute && s[0] != '/') return "must be an absolute path";
    const char *c = s;
    while (*c) {
        while (*c == '/')
            c++;
        const char *e = strchrnul(c, '/');
        size_t n = (size_t)(e - c);
        if (n == 2 && c[0] == '.' && c[1] == '.') return "must not contain a \"..\" component";
        if (absolute && n == 1 && c[0] == '.') return "must not contain a \".\" component";
        c = e;
    }
    if (absolute && strstr(s, "//")) return "must not contain an empty component";
    return NULL;
}

static int check_preopens(const Sbx__Policy *p, struct sbx_policy_error *err)
{
    char path[64];
    if (p->n_preopens > MAX_PREOPENS)
        return policy_fail(err, "preopens", "at most %u entries", MAX_PREOPENS);
    for (size_t i = 0; i < p->n_preopens; i++) {
        const Sbx__Preopen *d = p->preopens[i];
        const char *why;
        snprintf(path, sizeof path, "preopens[%zu].host_path", i);
        if (!d->host_path) return policy_fail(err, path, "required");
        if ((why = path_problem(d->host_path, true))) return policy_fail(err, path, "%s", why);
        snprintf(path, sizeof path, "preopens[%zu].guest_path", i);
        if (!d->guest_path) return policy_fail(err, path, "required");
        if ((why = path_problem(d->guest_path, false))) return policy_fail(err, path, "%s", why);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(p->preopens[j]->guest_path, d->guest_path))
                return policy_fail(err, path, "\"%.64s\" is already preopens[%zu].guest_path",
                                   d->guest_path, j);
    }
    return 0;
}

static int check_namespaces(const Sbx__Policy *p, struct sbx_policy_error *err)
{
    for (int i = 0; i < POLICY_NNS; i++) {
        const Sbx__NamespaceRequest *r = policy_ns_get(p, i);
        if (!r || !r->has_optional || !r->optional) continue;
        if (!r->has_enabled || !r->enabled) {
            char path[64];
            snprintf(path, sizeof path, "namespaces.%s.optional", policy_ns_names[i]);
            return policy_fail(err, path, "true without namespaces.%s.enabled", policy_ns_names[i]);
        }
    }
    return 0;
}

static int check_syscalls(const Sbx__Policy *p, struct sbx_policy_error *err)
{
    if (!p->syscalls) return 0;
    char path[64];
    for (size_t i = 0; i < p->syscalls->n_allow; i++) {
        snprintf(path, sizeof path, "syscalls.allow[%zu]", i);
        /* Messages from the wire may carry numbers no name stands for. */
        const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
            &sbx__syscall_group__descriptor, (int)p->syscalls->allow[i]);
        if (!v || v->value == 0) return policy_fail(err, path, "unknown syscall group");
        for (size_t j = 0; j < i; j++)
            if (p->syscalls->allow[j] == p->syscalls->allow[i])
                return policy_fail(err, path, "%s is already syscalls.allow[%zu]", v->name, j);
    }
    return 0;
}

/* The worker holds stdio, its report channel and one fd per preopen before
 * the guest opens anything: a lower fd limit could never work. */
static int check_fd_room(const Sbx__Policy *p, struct sbx_policy_error *err)
{
    if (!p->limits || !p->limits->has_max_open_fds) return 0;
    uint64_t need = FDS_BEFORE_WASM + p->n_preopens;
    if (p->limits->max_open_fds < need)
        return policy_fail(err, "limits.max_open_fds",
                           "%llu is below the %llu fds the worker holds (stdio, report "
                           "channel and %zu preopens)",
                           (unsigned long long)p->limits->max_open_fds, (unsigned long long)need,
                           p->n_preopens);
    return 0;
}

int sbx_policy_validate(const Sbx__Policy *p, struct sbx_policy_error *err)
{
    if (p->limits && check_limits(p->limits, err)) return -1;
    if (check_env_args(p, err) || check_preopens(p, err) || check_namespaces(p, err) ||
        check_syscalls(p, err) || check_fd_room(p, err))
        return -1;
    return 0;
}
