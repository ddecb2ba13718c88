/* Small helpers of policy/: error text, the namespace table, path prefixes,
 * copying and freeing policies. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/internal.h"

int policy_fail(struct sbx_policy_error *err, const char *path, const char *fmt, ...)
{
    if (!err) return -1;
    size_t n = 0;
    if (path && *path) n = (size_t)snprintf(err->msg, sizeof err->msg, "%s: ", path);
    if (n >= sizeof err->msg) n = sizeof err->msg - 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg + n, sizeof err->msg - n, fmt, ap);
    va_end(ap);
    return -1;
}

const char *const policy_ns_names[POLICY_NNS] = {"user", "pid", "net", "ipc", "uts", "mount"};

Sbx__NamespaceRequest **policy_ns_slot(Sbx__Namespaces *ns, int i)
{
    switch (i) {
    case 0: return &ns->user;
    case 1: return &ns->pid;
    case 2: return &ns->net;
    case 3: return &ns->ipc;
    case 4: return &ns->uts;
    default: return &ns->mount;
    }
}

const Sbx__NamespaceRequest *policy_ns_get(const Sbx__Policy *p, int i)
{
    if (!p->namespaces) return NULL;
    return *policy_ns_slot(p->namespaces, i);
}

bool policy_path_within(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;                 /* "/srv/" covers "/srv/x" like "/srv" */
    if (n == 1) return true; /* "/" covers everything */
    return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* A deep copy by packing and unpacking: protobuf-c then owns every piece,
 * and sbx_policy_free releases it like a received message. */
Sbx__Policy *sbx_policy_copy(const Sbx__Policy *p)
{
    size_t len = sbx__policy__get_packed_size(p);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) return NULL;
    sbx__policy__pack(p, buf);
    Sbx__Policy *copy = sbx__policy__unpack(NULL, len, buf);
    free(buf);
    return copy;
}

void sbx_policy_free(Sbx__Policy *p)
{
    if (p) sbx__policy__free_unpacked(p, NULL);
}
