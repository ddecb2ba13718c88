/* The code buffer: growth, sticky errors, labels and their pc-relative fixups.
 * A label keeps a singly linked list of the fields that wait for it; binding
 * walks the list once. */
#include "jit/codebuf.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define UNBOUND  UINT32_MAX
#define NO_FIXUP UINT32_MAX

struct cb_label_slot {
    uint32_t pos;   /* bound position, or UNBOUND */
    uint32_t first; /* first waiting fixup, or NO_FIXUP */
};

struct cb_fixup {
    uint32_t at;   /* position of the rel field */
    uint32_t next; /* next fixup waiting for the same label */
    uint8_t size;  /* 1 or 4 */
};

void cb_init(struct codebuf *cb)
{
    memset(cb, 0, sizeof *cb);
}

void cb_free(struct codebuf *cb)
{
    free(cb->data);
    free(cb->labels);
    free(cb->fixups);
    cb_init(cb);
}

void cb_fail(struct codebuf *cb, int err)
{
    if (!cb->err) cb->err = err;
}

/* Grow an array of `elem`-byte items so it holds at least `need`; 0 or -errno. */
static int grow(void **arr, size_t *cap, size_t need, size_t elem, size_t max)
{
    if (need <= *cap) return 0;
    if (need > max) return -E2BIG;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n = n > max / 2 ? max : n * 2;
    void *p = realloc(*arr, n * elem);
    if (!p) return -ENOMEM;
    *arr = p;
    *cap = n;
    return 0;
}

/* Make room for `n` more bytes; false (with the error recorded) if impossible. */
static bool ensure(struct codebuf *cb, size_t n)
{
    if (cb->err) return false;
    if (n > CB_MAX_SIZE - cb->len) {
        cb_fail(cb, -E2BIG);
        return false;
    }
    int rc = grow((void **)&cb->data, &cb->cap, cb->len + n, 1, CB_MAX_SIZE);
    if (rc) cb_fail(cb, rc);
    return rc == 0;
}

uint8_t *cb_room(struct codebuf *cb)
{
    if (!ensure(cb, CB_MAX_INSN)) return cb->scratch;
    return cb->data + cb->len;
}

void cb_commit(struct codebuf *cb, uint8_t *end)
{
    if (cb->err) return; /* `end` points into the scratch area */
    assert(end >= cb->data + cb->len && end <= cb->data + cb->len + CB_MAX_INSN);
    cb->len = (size_t)(end - cb->data);
}

void cb_put(struct codebuf *cb, const void *bytes, size_t n)
{
    if (!n || !ensure(cb, n)) return;
    memcpy(cb->data + cb->len, bytes, n);
    cb->len += n;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

void cb_patch32(struct codebuf *cb, size_t pos, uint32_t v)
{
    if (cb->err) return;
    if (pos > cb->len || cb->len - pos < 4) {
        cb_fail(cb, -EINVAL);
        return;
    }
    put32(cb->data + pos, v);
}

cb_label cb_new_label(struct codebuf *cb)
{
    if (cb->err) return CB_NO_LABEL;
    size_t cap = cb->label_cap;
    int rc = grow((void **)&cb->labels, &cap, (size_t)cb->nlabels + 1, sizeof *cb->labels,
                  UINT32_MAX - 1);
    if (rc) {
        cb_fail(cb, rc);
        return CB_NO_LABEL;
    }
    cb->label_cap = (uint32_t)cap;
    cb->labels[cb->nlabels] = (struct cb_label_slot){.pos = UNBOUND, .first = NO_FIXUP};
    return cb->nlabels++;
}

/* The label's slot, or NULL (and -EINVAL unless an error is already recorded:
 * CB_NO_LABEL is expected after a failure). */
static struct cb_label_slot *slot(struct codebuf *cb, cb_label l)
{
    if (cb->err) return NULL;
    if (l >= cb->nlabels) {
        cb_fail(cb, -EINVAL);
        return NULL;
    }
    return &cb->labels[l];
}

int64_t cb_label_pos(const struct codebuf *cb, cb_label l)
{
    if (l >= cb->nlabels || cb->labels[l].pos == UNBOUND) return -1;
    return cb->labels[l].pos;
}

/* Write (target - (at + size)) into the field at `at`; -ERANGE if a rel8 does
 * not reach. */
static void resolve(struct codebuf *cb, uint32_t at, uint8_t size, uint32_t target)
{
    int64_t rel = (int64_t)target - ((int64_t)at + size);
    if (size == 1) {
        if (rel < INT8_MIN || rel > INT8_MAX) {
            cb_fail(cb, -ERANGE);
            return;
        }
        cb->data[at] = (uint8_t)(int8_t)rel;
    } else {
        put32(cb->data + at, (uint32_t)(int32_t)rel); /* |rel| < CB_MAX_SIZE */
    }
}

void cb_bind(struct codebuf *cb, cb_label l)
{
    struct cb_label_slot *s = slot(cb, l);
    if (!s) return;
    if (s->pos != UNBOUND) {
        cb_fail(cb, -EINVAL);
        return;
    }
    s->pos = (uint32_t)cb->len;
    for (uint32_t i = s->first; i != NO_FIXUP; i = cb->fixups[i].next)
        resolve(cb, cb->fixups[i].at, cb->fixups[i].size, s->pos);
    s->first = NO_FIXUP;
}

static void rel_field(struct codebuf *cb, cb_label l, uint8_t size)
{
    struct cb_label_slot *s = slot(cb, l);
    if (!s || !ensure(cb, size)) return;
    uint32_t at = (uint32_t)cb->len;
    memset(cb->data + at, 0, size);
    cb->len += size;
    if (s->pos != UNBOUND) {
        resolve(cb, at, size, s->pos);
        return;
    }
    size_t cap = cb->fixup_cap;
    int rc = grow((void **)&cb->fixups, &cap, (size_t)cb->nfixups + 1, sizeof *cb->fixups,
                  UINT32_MAX - 1);
    if (rc) {
        cb_fail(cb, rc);
        return;
    }
    cb->fixup_cap = (uint32_t)cap;
    cb->fixups[cb->nfixups] = (struct cb_fixup){.at = at, .next = s->first, .size = size};
    s->first = cb->nfixups++;
}

void cb_rel8(struct codebuf *cb, cb_label l)
{
    rel_field(cb, l, 1);
}

void cb_rel32(struct codebuf *cb, cb_label l)
{
    rel_field(cb, l, 4);
}

int cb_finish(struct codebuf *cb)
{
    for (uint32_t i = 0; !cb->err && i < cb->nlabels; i++)
        if (cb->labels[i].pos == UNBOUND && cb->labels[i].first != NO_FIXUP) cb_fail(cb, -EINVAL);
    return cb->err;
}
