/* Two small interpreters of classic BPF that stand in for the kernel in
 * the filter tests: bpf_run executes a program on given syscall data;
 * bpf_constant_allow follows seccomp_is_const_allow (kernel/seccomp.c),
 * which emulates a program with only the number and the architecture known
 * and gives up at any other load. Both fail the test on an instruction
 * they do not know, so a program that uses one cannot pass unexamined. */
#ifndef SBX_TESTS_POLICY_BPF_RUN_H
#define SBX_TESTS_POLICY_BPF_RUN_H

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stdint.h>

#define NR_MAX 512 /* beyond every x86-64 call number */

uint32_t bpf_run(const struct sock_fprog *p, const struct seccomp_data *d);
bool bpf_constant_allow(const struct sock_fprog *p, int nr);

/* What the kernel does with the results of stacked filters: the most
 * restrictive action wins (kernel/seccomp.c, seccomp_run_filters). */
static inline uint32_t bpf_stacked(uint32_t a, uint32_t b)
{
    return (int32_t)(a & SECCOMP_RET_ACTION_FULL) < (int32_t)(b & SECCOMP_RET_ACTION_FULL) ? a : b;
}

#endif
