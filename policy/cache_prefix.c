/* The prefix of the zygote's filter that keeps workers' filter installs
 * cheap.
 *
 * When a filter is attached, the kernel works out which system calls the
 * whole stack of filters allows whatever the arguments (its action cache,
 * kernel/seccomp.c): it emulates the new program once for every call number
 * the filters beneath it already allow that way. Beneath every worker lies
 * the zygote's filter, a denylist that allows some 420 numbers outright, so
 * each worker's install emulated its own program 420 times: about 20 us of
 * the 50-80 us an install costs on the development VM
 * (bench/confine).
 *
 * The prefix allows outright only the calls a worker's policy may allow
 * without an argument condition, found by a binary search over their
 * numbers. Every other number goes on to a load of an argument, which the
 * emulation cannot see through, and then to the denylist. The zygote's
 * decisions do not change; the kernel just stops caching them for numbers
 * no worker could have cached anyway, so a worker's install emulates its
 * program some 55 times instead. A worker caches exactly the calls it
 * cached before; the zygote's own other calls run its program (tens of
 * nanoseconds, a few dozen calls per spawn). */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>

#include "policy/confine_internal.h"

/* Jump targets before they are resolved: an instruction index, or one of
 * the two exits after the search. */
enum { TO_NEXT = -1, TO_ALLOW = -2, TO_MISS = -3 };

struct emitter {
    struct sock_filter *out;
    int *jt, *jf; /* unresolved targets, per instruction */
    size_t n, cap;
};

static int emit(struct emitter *e, uint16_t code, uint32_t k, int jt, int jf)
{
    if (e->n == e->cap) return -1;
    e->out[e->n] = (struct sock_filter){code, 0, 0, k};
    e->jt[e->n] = jt;
    e->jf[e->n] = jf;
    return (int)e->n++;
}

/* A binary search over nrs[lo, hi) (sorted): a hit jumps to TO_ALLOW,
 * a miss to TO_MISS. Small ranges are a run of equality tests. */
static int emit_search(struct emitter *e, const int *nrs, size_t lo, size_t hi)
{
    if (hi - lo <= 4) {
        for (size_t i = lo; i < hi; i++)
            if (emit(e, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nrs[i], TO_ALLOW,
                     i + 1 < hi ? TO_NEXT : TO_MISS) < 0)
                return -1;
        return 0;
    }
    size_t mid = lo + (hi - lo) / 2;
    /* nr >= nrs[mid]: the upper half, emitted after the lower one. */
    int at = emit(e, BPF_JMP | BPF_JGE | BPF_K, (uint32_t)nrs[mid], 0, TO_NEXT);
    if (at < 0 || emit_search(e, nrs, lo, mid)) return -1;
    e->jt[at] = (int)e->n;
    return emit_search(e, nrs, mid, hi);
}

static int resolve(int target, size_t from, size_t allow, uint8_t *field)
{
    size_t to = target == TO_NEXT    ? from + 1
                : target == TO_ALLOW ? allow
                : target == TO_MISS  ? allow + 1
                                     : (size_t)target;
    if (to <= from || to - from - 1 > 255) return -1; /* BPF jumps forward, 8-bit offsets */
    *field = (uint8_t)(to - from - 1);
    return 0;
}

int confine_cache_prefix(const int *nrs, size_t n, struct sock_filter *out, size_t cap)
{
    if (n == 0) return -EINVAL;
    for (size_t i = 1; i < n; i++)
        if (nrs[i] <= nrs[i - 1]) return -EINVAL; /* sorted, no duplicates */
    int jt[CONFINE_PREFIX_MAX], jf[CONFINE_PREFIX_MAX];
    struct emitter e = {out, jt, jf, 0, cap < CONFINE_PREFIX_MAX ? cap : CONFINE_PREFIX_MAX};
    /* Another architecture goes straight on: the denylist kills it. */
    if (emit(&e, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch), 0, 0) < 0 ||
        emit(&e, BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, TO_NEXT, TO_MISS) < 0 ||
        emit(&e, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr), 0, 0) < 0 ||
        emit_search(&e, nrs, 0, n))
        return -E2BIG;
    size_t allow = e.n;
    if (emit(&e, BPF_RET | BPF_K, SECCOMP_RET_ALLOW, 0, 0) < 0 ||
        /* The miss: a load the kernel's emulation stops at (it can only
         * follow the number and the architecture). The denylist after it
         * loads what it needs itself. */
        emit(&e, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]), 0, 0) < 0)
        return -E2BIG;
    for (size_t i = 0; i < e.n; i++) {
        if (BPF_CLASS(out[i].code) != BPF_JMP) continue;
        if (resolve(jt[i], i, allow, &out[i].jt) || resolve(jf[i], i, allow, &out[i].jf))
            return -E2BIG;
    }
    return (int)e.n;
}
