/* The zygote's prepared confinements (policy/confine.h), one per distinct
 * effective policy: preparing builds a seccomp filter and may create
 * namespaces, far too slow for every spawn, so each is made on the first
 * spawn with that policy and kept. Internal to zygote/. */
#ifndef SBX_ZYGOTE_CONFINEMENTS_H
#define SBX_ZYGOTE_CONFINEMENTS_H

#include <stdbool.h>

#include "policy/confine.h"

struct zygote_confinements;

/* The confinement for `policy` (NULL: the built-in default policy),
 * prepared now if it is new; with `warm_template`, its template filter too
 * (sbx_confine_prepare_template). NULL with err filled when it cannot be. */
const struct sbx_confine *zygote_confinement(struct zygote_confinements **cache,
                                             const Sbx__Policy *policy, bool warm_template,
                                             struct sbx_confine_error *err);

void zygote_confinements_free(struct zygote_confinements *cache);

#endif
