/* Narrowing: the effective policy of a per-spawn request against a base
 * policy. A request may take away (lower a limit, drop a directory or make
 * it read-only, add a namespace, drop a syscall group) but never add; each
 * widening is an error that names the field, so a host learns what it
 * asked for that the operator did not grant. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/internal.h"

static int narrow_limits(const Sbx__PolicyLimits *base, const Sbx__PolicyLimits *req,
                         Sbx__PolicyLimits *eff, struct sbx_policy_error *err)
{
    for (size_t i = 0; i < policy_nlimits; i++) {
        const struct policy_limit *d = &policy_limits[i];
        if (!limit_has(req, d)) continue;
        uint64_t v = limit_get(req, d);
        /* An absent base limit (fuel) is no limit: any request narrows it. */
        if (limit_has(base, d) && v > limit_get(base, d)) {
            char path[64];
            snprintf(path, sizeof path, "limits.%s", d->name);
            return policy_fail(err, path, "%llu widens the base policy's %llu",
                               (unsigned long long)v, (unsigned long long)limit_get(base, d));
        }
        limit_set(eff, d, v);
    }
    return 0;
}

/* Each requested directory must lie at or beneath a base preopen that
 * grants at least as much (a read-only base stays read-only). */
static int check_preopens(const Sbx__Policy *base, const Sbx__Policy *req,
                          struct sbx_policy_error *err)
{
    char path[64];
    for (size_t i = 0; i < req->n_preopens; i++) {
        const Sbx__Preopen *r = req->preopens[i];
        const Sbx__Preopen *ro_cover = NULL;
        bool covered = false;
        for (size_t j = 0; j < base->n_preopens && !covered; j++) {
            const Sbx__Preopen *b = base->preopens[j];
            if (!policy_path_within(r->host_path, b->host_path)) continue;
            if (b->read_only && !r->read_only)
                ro_cover = b;
            else
                covered = true;
        }
        if (covered) continue;
        if (ro_cover) {
            snprintf(path, sizeof path, "preopens[%zu].read_only", i);
            return policy_fail(err, path, "must be true: the base policy grants %.256s read-only",
                               ro_cover->host_path);
        }
        snprintf(path, sizeof path, "preopens[%zu].host_path", i);
        return policy_fail(err, path, "%.256s is not at or beneath a preopen of the base policy",
                           r->host_path);
    }
    return 0;
}

static int narrow_namespaces(const Sbx__Policy *base, const Sbx__Policy *req, Sbx__Policy *eff,
                             struct sbx_policy_error *err)
{
    char path[64];
    for (int i = 0; i < POLICY_NNS; i++) {
        const Sbx__NamespaceRequest *b = policy_ns_get(base, i);
        const Sbx__NamespaceRequest *r = policy_ns_get(req, i);
        Sbx__NamespaceRequest *e = *policy_ns_slot(eff->namespaces, i);
        if (!r) continue;
        bool b_on = b && b->enabled, b_opt = b && b->optional;
        if (r->has_enabled && !r->enabled && b_on) {
            snprintf(path, sizeof path, "namespaces.%s.enabled", policy_ns_names[i]);
            return policy_fail(err, path, "false widens the base policy, which enables it");
        }
        if (r->has_optional && r->optional && b_on && !b_opt) {
            snprintf(path, sizeof path, "namespaces.%s.optional", policy_ns_names[i]);
            return policy_fail(err, path, "true widens the base policy, which requires it");
        }
        if (r->has_enabled && r->enabled) {
            e->enabled = 1;
            /* A namespace the request adds is as optional as it says; one
             * the base has stays optional only if both say so. */
            e->optional = b_on ? (b_opt && (!r->has_optional || r->optional))
                               : (r->has_optional && r->optional);
        } else if (r->has_optional && !r->optional && b_on) {
            e->optional = 0;
        }
    }
    return 0;
}

static int narrow_syscalls(const Sbx__Policy *base, const Sbx__Policy *req, Sbx__Policy *eff,
                           struct sbx_policy_error *err)
{
    /* Presence of the message, not the list's length, says the request
     * chose a set: "syscalls": {} drops every group. */
    if (!req->syscalls) return 0;
    const Sbx__SyscallPolicy *b = base->syscalls, *r = req->syscalls;
    for (size_t i = 0; i < r->n_allow; i++) {
        bool granted = false;
        for (size_t j = 0; b && j < b->n_allow; j++)
            granted |= b->allow[j] == r->allow[i];
        if (!granted) {
            char path[64];
            snprintf(path, sizeof path, "syscalls.allow[%zu]", i);
            const ProtobufCEnumValue *v =
                protobuf_c_enum_descriptor_get_value(&sbx__syscall_group__descriptor, r->allow[i]);
            return policy_fail(err, path, "%s widens the base policy, which does not allow it",
                               v ? v->name : "?");
        }
    }
    Sbx__SyscallGroup *copy = NULL;
    if (r->n_allow && !(copy = malloc(r->n_allow * sizeof *copy)))
        return policy_fail(err, "", "out of memory");
    if (r->n_allow) memcpy(copy, r->allow, r->n_allow * sizeof *copy);
    free(eff->syscalls->allow);
    eff->syscalls->allow = copy;
    eff->syscalls->n_allow = r->n_allow;
    return 0;
}

/* Replaces a list of strings of `eff` with a copy of `src`. */
static int replace_strings(char ***list, size_t *n, char *const *src, size_t nsrc)
{
    char **copy = calloc(nsrc, sizeof *copy);
    if (!copy) return -1;
    for (size_t i = 0; i < nsrc; i++)
        if (!(copy[i] = strdup(src[i]))) {
            while (i--)
                free(copy[i]);
            free(copy);
            return -1;
        }
    for (size_t i = 0; i < *n; i++)
        free((*list)[i]);
    free(*list);
    *list = copy;
    *n = nsrc;
    return 0;
}

static int replace_preopens(Sbx__Policy *eff, const Sbx__Policy *req)
{
    Sbx__Preopen **copy = calloc(req->n_preopens, sizeof *copy);
    if (!copy) return -1;
    size_t n = 0;
    int rc = 0;
    for (; n < req->n_preopens && rc == 0; n++) {
        const Sbx__Preopen *r = req->preopens[n];
        Sbx__Preopen *d = malloc(sizeof *d);
        if (!d) {
            rc = -1;
            break;
        }
        sbx__preopen__init(d);
        copy[n] = d;
        d->host_path = strdup(r->host_path);
        d->guest_path = strdup(r->guest_path);
        d->has_read_only = 1;
        d->read_only = r->read_only;
        if (!d->host_path || !d->guest_path) rc = -1;
    }
    for (size_t i = 0; i < eff->n_preopens; i++)
        sbx__preopen__free_unpacked(eff->preopens[i], NULL);
    free(eff->preopens);
    eff->preopens = copy; /* on failure too, so that freeing eff frees it */
    eff->n_preopens = n;
    return rc;
}

int sbx_policy_narrow(const Sbx__Policy *base, const Sbx__Policy *request, Sbx__Policy **effective,
                      struct sbx_policy_error *err)
{
    *effective = NULL;
    /* eff starts as the resolved base and is what the request is compared
     * with: an absent base field counts as its default. Each step reads the
     * base's value before it writes the request's. */
    Sbx__Policy *eff = NULL;
    if (sbx_policy_resolve(base, &eff, err)) return -1;
    if (!request) {
        *effective = eff;
        return 0;
    }
    int rc = sbx_policy_validate(request, err);
    if (!rc && request->limits) rc = narrow_limits(eff->limits, request->limits, eff->limits, err);
    if (!rc) rc = check_preopens(eff, request, err);
    if (!rc) rc = narrow_namespaces(eff, request, eff, err);
    if (!rc) rc = narrow_syscalls(eff, request, eff, err);
    /* env and args are data the guest reads, not authority over the host:
     * a request's list replaces the base's. */
    if (!rc && request->n_env &&
        replace_strings(&eff->env, &eff->n_env, request->env, request->n_env))
        rc = policy_fail(err, "", "out of memory");
    if (!rc && request->n_args &&
        replace_strings(&eff->args, &eff->n_args, request->args, request->n_args))
        rc = policy_fail(err, "", "out of memory");
    if (!rc && request->n_preopens && replace_preopens(eff, request))
        rc = policy_fail(err, "", "out of memory");
    /* Cross-field rules (fd room for the preopens) on the result. */
    if (!rc) rc = sbx_policy_validate(eff, err);
    if (rc) {
        sbx_policy_free(eff);
        return -1;
    }
    *effective = eff;
    return 0;
}
