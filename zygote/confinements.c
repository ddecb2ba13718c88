/* Prepared confinements keyed by the packed bytes of their policy: two
 * spawns share one exactly when their effective policies are equal. The
 * cache is small and bounded; a policy that falls out is prepared again. */
#include "zygote/confinements.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

#define MAX_CONFINEMENTS 16

struct entry {
    uint8_t *key;
    size_t len;
    struct sbx_confine *conf;
};

struct zygote_confinements {
    struct entry e[MAX_CONFINEMENTS];
    size_t n;
};

static void drop(struct entry *e)
{
    free(e->key);
    sbx_confine_free(e->conf);
}

/* The template filter, built on the first template of the policy. */
static const struct sbx_confine *with_template(struct sbx_confine *conf, bool warm_template,
                                               struct sbx_confine_error *err)
{
    return !warm_template || !sbx_confine_prepare_template(conf, err) ? conf : NULL;
}

const struct sbx_confine *zygote_confinement(struct zygote_confinements **cache,
                                             const Sbx__Policy *policy, bool warm_template,
                                             struct sbx_confine_error *err)
{
    memset(err, 0, sizeof *err);
    if (!*cache && !(*cache = calloc(1, sizeof **cache))) goto oom;
    struct zygote_confinements *c = *cache;
    Sbx__Policy *dflt = NULL;
    if (!policy && !(policy = dflt = sbx_policy_default())) goto oom;
    /* The key is packed on the stack when it fits: a lookup that hits (the
     * usual case) allocates nothing, which in the zygote means no heap
     * page written after the last fork. */
    size_t len = protobuf_c_message_get_packed_size(&policy->base);
    uint8_t small[1024];
    uint8_t *key = len <= sizeof small ? small : malloc(len);
    if (!key) {
        sbx_policy_free(dflt);
        goto oom;
    }
    protobuf_c_message_pack(&policy->base, key);
    for (size_t i = 0; i < c->n; i++)
        if (c->e[i].len == len && !memcmp(c->e[i].key, key, len)) {
            if (key != small) free(key);
            sbx_policy_free(dflt);
            return with_template(c->e[i].conf, warm_template, err);
        }
    if (key == small) { /* kept by the cache: a copy of its own */
        if (!(key = malloc(len ? len : 1))) {
            sbx_policy_free(dflt);
            goto oom;
        }
        memcpy(key, small, len);
    }
    struct sbx_confine *conf;
    int rc = sbx_confine_prepare(policy, &conf, err);
    sbx_policy_free(dflt);
    if (rc) {
        free(key);
        return NULL;
    }
    if (c->n == MAX_CONFINEMENTS) { /* the oldest goes */
        drop(&c->e[0]);
        memmove(&c->e[0], &c->e[1], (MAX_CONFINEMENTS - 1) * sizeof c->e[0]);
        c->n--;
    }
    c->e[c->n++] = (struct entry){.key = key, .len = len, .conf = conf};
    return with_template(conf, warm_template, err);
oom:
    err->step = "prepare";
    snprintf(err->msg, sizeof err->msg, "out of memory");
    return NULL;
}

void zygote_confinements_free(struct zygote_confinements *cache)
{
    if (!cache) return;
    for (size_t i = 0; i < cache->n; i++)
        drop(&cache->e[i]);
    free(cache);
}
