/* args_* and environ_*: the command line and environment fixed by the
 * config, written into guest memory as an array of pointers followed by
 * the NUL-terminated strings (the layout wasi_strings keeps ready). */
#include "wasi/internal.h"

static int sizes_get(struct wasi_call *c, const struct wasi_strings *s, uint32_t count_ptr,
                     uint32_t size_ptr)
{
    if (!gm_ok(&c->mem, count_ptr, 4) || !gm_ok(&c->mem, size_ptr, 4)) return SBX_WASI_EFAULT;
    gm_put_u32(&c->mem, count_ptr, s->count);
    gm_put_u32(&c->mem, size_ptr, s->size);
    return 0;
}

static int strings_get(struct wasi_call *c, const struct wasi_strings *s, uint32_t ptrs,
                       uint32_t buf)
{
    if (!gm_ok(&c->mem, ptrs, (uint64_t)s->count * 4) || !gm_ok(&c->mem, buf, s->size))
        return SBX_WASI_EFAULT;
    for (uint32_t i = 0; i < s->count; i++)
        gm_put_u32(&c->mem, ptrs + 4 * i, buf + s->offsets[i]);
    if (s->size) memcpy(gm_at(&c->mem, buf), s->buf, s->size);
    return 0;
}

int wasi_args_sizes_get(struct wasi_call *c, const union sbx_val *a)
{
    return sizes_get(c, &c->w->args, a[0].i32, a[1].i32);
}

int wasi_args_get(struct wasi_call *c, const union sbx_val *a)
{
    return strings_get(c, &c->w->args, a[0].i32, a[1].i32);
}

int wasi_environ_sizes_get(struct wasi_call *c, const union sbx_val *a)
{
    return sizes_get(c, &c->w->env, a[0].i32, a[1].i32);
}

int wasi_environ_get(struct wasi_call *c, const union sbx_val *a)
{
    return strings_get(c, &c->w->env, a[0].i32, a[1].i32);
}
