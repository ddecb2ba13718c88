/* The linker: a registry of externs by (module, name), which instantiation
 * resolves imports through. A chained hash table keyed by both names; a
 * later definition of a name replaces the earlier one. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "jit/rt_internal.h"

struct entry {
    struct entry *next;
    uint64_t hash;
    size_t module_len, name_len;
    char *module, *name; /* one allocation: module bytes then name bytes */
    struct sbx_extern ext;
};

struct sbx_linker {
    struct entry **buckets;
    size_t nbuckets; /* a power of two */
    size_t count;
    struct sbx_instance **adopted; /* see sbx_linker_adopt */
    size_t nadopted, adopted_cap;
};

/* FNV-1a over module, a separator that no length-prefixed pair can fake
 * (the module's length), then name. */
static uint64_t hash_names(const char *module, size_t mlen, const char *name, size_t nlen)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < mlen; i++)
        h = (h ^ (uint8_t)module[i]) * 0x100000001b3u;
    h = (h ^ (uint64_t)mlen) * 0x100000001b3u;
    for (size_t i = 0; i < nlen; i++)
        h = (h ^ (uint8_t)name[i]) * 0x100000001b3u;
    return h;
}

struct sbx_linker *sbx_linker_new(void)
{
    struct sbx_linker *l = calloc(1, sizeof(*l));
    if (!l) return NULL;
    l->nbuckets = 64;
    l->buckets = calloc(l->nbuckets, sizeof(*l->buckets));
    if (!l->buckets) {
        free(l);
        return NULL;
    }
    return l;
}

void sbx_linker_free(struct sbx_linker *l)
{
    if (!l) return;
    for (size_t i = 0; i < l->nbuckets; i++) {
        struct entry *e = l->buckets[i];
        while (e) {
            struct entry *next = e->next;
            free(e->module);
            free(e);
            e = next;
        }
    }
    free(l->buckets);
    for (size_t i = 0; i < l->nadopted; i++)
        sbx_instance_free(l->adopted[i]);
    free(l->adopted);
    free(l);
}

void sbx_linker_adopt(struct sbx_linker *l, struct sbx_instance *inst)
{
    if (!l) return; /* no owner: the instance stays alive */
    if (l->nadopted == l->adopted_cap) {
        size_t cap = l->adopted_cap ? l->adopted_cap * 2 : 8;
        struct sbx_instance **p = realloc(l->adopted, cap * sizeof(*p));
        if (!p) return;
        l->adopted = p, l->adopted_cap = cap;
    }
    l->adopted[l->nadopted++] = inst;
}

static struct entry *find(const struct sbx_linker *l, uint64_t h, const char *module, size_t mlen,
                          const char *name, size_t nlen)
{
    for (struct entry *e = l->buckets[h & (l->nbuckets - 1)]; e; e = e->next)
        if (e->hash == h && e->module_len == mlen && e->name_len == nlen &&
            !memcmp(e->module, module, mlen) && !memcmp(e->name, name, nlen))
            return e;
    return NULL;
}

const struct sbx_extern *sbx_linker_lookup(const struct sbx_linker *l, const char *module,
                                           size_t module_len, const char *name, size_t name_len)
{
    if (!l) return NULL;
    struct entry *e =
        find(l, hash_names(module, module_len, name, name_len), module, module_len, name, name_len);
    return e ? &e->ext : NULL;
}

/* Doubles the bucket array once the load factor reaches 1. */
static void maybe_grow(struct sbx_linker *l)
{
    if (l->count < l->nbuckets) return;
    size_t n = l->nbuckets * 2;
    struct entry **b = calloc(n, sizeof(*b));
    if (!b) return; /* keep the longer chains */
    for (size_t i = 0; i < l->nbuckets; i++) {
        struct entry *e = l->buckets[i];
        while (e) {
            struct entry *next = e->next;
            e->next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
            e = next;
        }
    }
    free(l->buckets);
    l->buckets = b;
    l->nbuckets = n;
}

static int define_n(struct sbx_linker *l, const char *module, size_t mlen, const char *name,
                    size_t nlen, const struct sbx_extern *ext)
{
    uint64_t h = hash_names(module, mlen, name, nlen);
    struct entry *e = find(l, h, module, mlen, name, nlen);
    if (e) {
        e->ext = *ext;
        return 0;
    }
    e = calloc(1, sizeof(*e));
    if (!e) return -ENOMEM;
    e->module = malloc(mlen + nlen + 2);
    if (!e->module) {
        free(e);
        return -ENOMEM;
    }
    memcpy(e->module, module, mlen);
    e->module[mlen] = 0;
    e->name = e->module + mlen + 1;
    memcpy(e->name, name, nlen);
    e->name[nlen] = 0;
    e->module_len = mlen, e->name_len = nlen, e->hash = h, e->ext = *ext;
    e->next = l->buckets[h & (l->nbuckets - 1)];
    l->buckets[h & (l->nbuckets - 1)] = e;
    l->count++;
    maybe_grow(l);
    return 0;
}

int sbx_linker_define(struct sbx_linker *l, const char *module, const char *name,
                      const struct sbx_extern *ext)
{
    if (!l || !module || !name || !ext) return -EINVAL;
    return define_n(l, module, strlen(module), name, strlen(name), ext);
}

int sbx_linker_define_instance(struct sbx_linker *l, const char *module, struct sbx_instance *inst)
{
    if (!l || !module || !inst) return -EINVAL;
    const struct sbx_module *m = inst->m;
    for (uint32_t i = 0; i < m->nexports; i++) {
        const struct sbx_export *x = &m->exports[i];
        struct sbx_extern ext;
        int rc = sbx_instance_export_at(inst, i, &ext);
        if (rc) return rc;
        rc = define_n(l, module, strlen(module), x->name.ptr, x->name.len, &ext);
        if (rc) return rc;
    }
    return 0;
}
