/* The zygote leaves restartable sequences (zygote/no_rseq.c): after the
 * call the kernel knows no rseq area for the thread, so it stops writing
 * one on every return to user space, and glibc still answers what rseq
 * used to answer. Each test runs in a process of its own (Criterion). */
#include <criterion/criterion.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zygote/no_rseq.h"

/* The thread's rseq area as glibc registered it. */
static struct rseq *area(void)
{
    char *tp;
    __asm__("mov %%fs:0, %0" : "=r"(tp));
    return (struct rseq *)(tp + __rseq_offset);
}

Test(no_rseq, the_kernel_forgets_the_area_and_stops_writing_it)
{
    if (__rseq_size == 0) {
        fprintf(stderr, "no_rseq: glibc registered no rseq area here; only the no-op is checked\n");
        cr_assert_eq(sbx_zygote_drop_rseq(), 0);
        return;
    }
    cr_assert_geq((int32_t)area()->cpu_id, 0, "glibc's area is not registered to begin with");
    cr_assert_eq(sbx_zygote_drop_rseq(), 0);
    /* Unregistered: the kernel marks the area so (cpu_id < 0), and then
     * leaves it alone. */
    cr_assert_lt((int32_t)area()->cpu_id, 0, "the kernel still fills the area");
    area()->cpu_id = (uint32_t)-1;
    sched_yield();
    usleep(1000); /* switched out and back: a registered area is rewritten */
    cr_assert_eq((int32_t)area()->cpu_id, -1, "the kernel wrote the area after unregistering");
    cr_assert_eq(syscall(SYS_rseq, area(), 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG), -1);
    cr_assert_eq(errno, EINVAL, "a second unregistration should find nothing registered");
}

Test(no_rseq, glibc_still_knows_the_cpu)
{
    cr_assert_eq(sbx_zygote_drop_rseq(), 0);
    int cpu = sched_getcpu();
    cr_assert_geq(cpu, 0, "sched_getcpu failed once rseq is gone: %s", strerror(errno));
    cr_assert_lt(cpu, CPU_SETSIZE);
}
