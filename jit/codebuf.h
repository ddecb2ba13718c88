/* A growable buffer of emitted machine code, with labels and pc-relative
 * fixups. Errors (out of memory, a rel8 out of range, misuse of a label) are
 * sticky: the first one is recorded, later emission becomes a no-op, and the
 * caller checks cb_finish() once at the end. Nothing here aborts or prints.
 *
 * Emitters write one instruction at a time: cb_room() returns space for at
 * most CB_MAX_INSN bytes (a scratch area once the buffer has failed) and
 * cb_commit() takes the end pointer. */
#ifndef SBX_JIT_CODEBUF_H
#define SBX_JIT_CODEBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An x86 instruction is at most 15 bytes; one more keeps the arithmetic even. */
#define CB_MAX_INSN 16

/* Code larger than this is refused (-E2BIG): every position must be reachable
 * by a rel32 from every other, so the buffer stays below 2 GiB. */
#define CB_MAX_SIZE ((size_t)INT32_MAX)

typedef uint32_t cb_label;
#define CB_NO_LABEL UINT32_MAX /* returned when a label cannot be created */

struct cb_label_slot;
struct cb_fixup;

struct codebuf {
    uint8_t *data;
    size_t len, cap;
    int err; /* 0 or the first -errno */
    struct cb_label_slot *labels;
    uint32_t nlabels, label_cap;
    struct cb_fixup *fixups;
    uint32_t nfixups, fixup_cap;
    uint8_t scratch[CB_MAX_INSN]; /* where a failed buffer's emitters write */
};

void cb_init(struct codebuf *cb);
void cb_free(struct codebuf *cb);

/* The first error (0 or -errno), without the end-of-emission checks. */
static inline int cb_error(const struct codebuf *cb)
{
    return cb->err;
}

/* Current position: the offset of the next byte to be emitted. */
static inline size_t cb_pos(const struct codebuf *cb)
{
    return cb->len;
}

/* Record `err` (a negative errno) unless an error is already recorded. */
void cb_fail(struct codebuf *cb, int err);

/* Room for one instruction: at least CB_MAX_INSN writable bytes. */
uint8_t *cb_room(struct codebuf *cb);
/* End the instruction started by cb_room at `end`. */
void cb_commit(struct codebuf *cb, uint8_t *end);

/* Append raw bytes (data such as jump tables or constants). */
void cb_put(struct codebuf *cb, const void *bytes, size_t n);
/* Overwrite 4 bytes at `pos` (already emitted) with little-endian `v`. */
void cb_patch32(struct codebuf *cb, size_t pos, uint32_t v);

/* A new, unbound label; CB_NO_LABEL (and an error) when out of memory. */
cb_label cb_new_label(struct codebuf *cb);
/* Bind `l` to the current position and patch every reference to it. A label
 * is bound once; binding it again is -EINVAL. */
void cb_bind(struct codebuf *cb, cb_label l);
/* The position `l` is bound to, or -1 if unbound. */
int64_t cb_label_pos(const struct codebuf *cb, cb_label l);

/* Emit a 1- or 4-byte pc-relative field that will hold (label - end of the
 * field): the last field of a jmp/jcc/call. A rel8 that does not reach its
 * label is -ERANGE, reported when the distance becomes known. */
void cb_rel8(struct codebuf *cb, cb_label l);
void cb_rel32(struct codebuf *cb, cb_label l);

/* End of emission: 0, or the first error, or -EINVAL when a label that is
 * referenced was never bound. */
int cb_finish(struct codebuf *cb);

#endif
