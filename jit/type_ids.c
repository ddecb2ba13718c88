/* Canonical signature ids: call_indirect compares one integer instead of two
 * signatures. A process-wide table, grown under a lock; ids never change. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "jit/compiled.h"

struct sig {
    uint32_t nparams, nresults;
    uint8_t *types; /* params then results */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct sig *sigs;
static uint32_t nsigs, cap;

static bool same(const struct sig *s, const struct sbx_functype *ft)
{
    return s->nparams == ft->nparams && s->nresults == ft->nresults &&
           (!ft->nparams || !memcmp(s->types, ft->params, ft->nparams)) &&
           (!ft->nresults || !memcmp(s->types + ft->nparams, ft->results, ft->nresults));
}

uint32_t sbx_type_id(const struct sbx_functype *ft)
{
    uint32_t id = 0;
    pthread_mutex_lock(&lock);
    for (uint32_t i = 0; i < nsigs; i++)
        if (same(&sigs[i], ft)) {
            id = i + 1;
            goto out;
        }
    if (nsigs == cap) {
        uint32_t ncap = cap ? cap * 2 : 64;
        struct sig *p = realloc(sigs, ncap * sizeof(*p));
        if (!p) goto out;
        sigs = p, cap = ncap;
    }
    struct sig *s = &sigs[nsigs];
    s->types = malloc(ft->nparams + ft->nresults + 1);
    if (!s->types) goto out;
    if (ft->nparams) memcpy(s->types, ft->params, ft->nparams);
    if (ft->nresults) memcpy(s->types + ft->nparams, ft->results, ft->nresults);
    s->nparams = ft->nparams, s->nresults = ft->nresults;
    id = ++nsigs;
out:
    pthread_mutex_unlock(&lock);
    return id;
}
