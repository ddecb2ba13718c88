/* random_get: the kernel's CSPRNG (getrandom, no file to open), filling
 * the guest's buffer in place. getrandom returns at most 32 MiB - 1 per
 * call, so large buffers take several calls. */
#include <errno.h>
#include <sys/random.h>

#include "wasi/errno_map.h"
#include "wasi/internal.h"

int wasi_random_get(struct wasi_call *c, const union sbx_val *a)
{
    uint32_t buf = a[0].i32, len = a[1].i32;
    if (!gm_ok(&c->mem, buf, len)) return SBX_WASI_EFAULT;
    uint8_t *p = len ? gm_at(&c->mem, buf) : NULL;
    size_t done = 0;
    while (done < len) {
        ssize_t n = getrandom(p + done, len - done, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return sbx_wasi_errno_from_host(errno);
        }
        done += (size_t)n;
    }
    return 0;
}
