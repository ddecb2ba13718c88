/* No prebuilt filters: what the filter generator (gen_filters.c) links,
 * since it makes them. */
#include "policy/confine_internal.h"

const struct sock_fprog *confine_prebuilt_worker_filter(unsigned groups)
{
    (void)groups;
    return NULL;
}

const struct sock_fprog *confine_prebuilt_zygote_filter(void)
{
    return NULL;
}
