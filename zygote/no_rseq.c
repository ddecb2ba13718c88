/* Why the zygote's processes have no rseq area (no_rseq.h).
 *
 * The kernel writes a registered thread's rseq area (the cpu it runs on)
 * each time the thread returns to user space after being switched out. In
 * a process that forks and then blocks, that area's page is shared with
 * the children, so every wake-up cost a copy-on-write fault (3-4 us on the
 * development VM): one per warm worker forked by a template, and one per
 * warm worker waking to its spawn. Nothing in the zygote, a template or a
 * worker uses rseq: they are single-threaded and never ask for their cpu
 * in a hot path. */
#include "zygote/no_rseq.h"

#include <errno.h>
#include <stdint.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The length glibc registers with, which the kernel wants back: 32 bytes
 * (the original struct rseq) in every glibc that registers, although newer
 * ones export a smaller __rseq_size (the features it uses). */
#define REGISTERED_LEN 32u

int sbx_zygote_drop_rseq(void)
{
    if (__rseq_size == 0) return 0; /* glibc did not register (tunable, old kernel) */
    char *tp; /* x86-64: the thread control block starts with its own address */
    __asm__("mov %%fs:0, %0" : "=r"(tp));
    void *area = tp + __rseq_offset;
    unsigned lens[] = {REGISTERED_LEN, __rseq_size};
    int err = EINVAL;
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        if (!syscall(SYS_rseq, area, lens[i], RSEQ_FLAG_UNREGISTER, RSEQ_SIG)) return 0;
        err = errno;
        if (err != EINVAL) break;
    }
    return -err;
}
