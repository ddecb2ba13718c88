/* Reading a policy file: one bounded read, then the JSON reader. The file
 * is the operator's, but it is still read as untrusted input: at most
 * SBX_POLICY_MAX_FILE_BYTES, whatever its size claims. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/internal.h"

int sbx_policy_from_file(const char *path, Sbx__Policy **out, struct sbx_policy_error *err)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return policy_fail(err, path, "%s", strerror(errno));
    /* One byte more than allowed, to tell "too large" from "exactly full". */
    size_t cap = SBX_POLICY_MAX_FILE_BYTES + 1, len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return policy_fail(err, path, "out of memory");
    }
    while (len < cap) {
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return policy_fail(err, path, "%s", strerror(e));
        }
        if (n == 0) break;
        len += (size_t)n;
    }
    close(fd);
    if (len > SBX_POLICY_MAX_FILE_BYTES) {
        free(buf);
        return policy_fail(err, path, "larger than %u bytes", SBX_POLICY_MAX_FILE_BYTES);
    }
    struct sbx_policy_error inner;
    int rc = sbx_policy_from_json(buf, len, out, &inner);
    free(buf);
    if (rc) return policy_fail(err, path, "%s", inner.msg);
    return 0;
}
