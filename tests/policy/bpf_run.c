/* The classic-BPF interpreters of the filter tests (bpf_run.h). */
#include "tests/policy/bpf_run.h"

#include <criterion/criterion.h>
#include <linux/audit.h>
#include <stddef.h>
#include <string.h>

static uint32_t load(const struct seccomp_data *d, uint32_t off)
{
    uint32_t v;
    cr_assert(off % 4 == 0 && off + 4 <= sizeof *d, "load at %u", off);
    memcpy(&v, (const char *)d + off, 4);
    return v;
}

/* A conditional jump's outcome, or -1 for an instruction that is not one. */
static int cond(uint16_t code, uint32_t a, uint32_t k)
{
    switch (code) {
    case BPF_JMP | BPF_JEQ | BPF_K: return a == k;
    case BPF_JMP | BPF_JGE | BPF_K: return a >= k;
    case BPF_JMP | BPF_JGT | BPF_K: return a > k;
    case BPF_JMP | BPF_JSET | BPF_K: return (a & k) != 0;
    default: return -1;
    }
}

uint32_t bpf_run(const struct sock_fprog *p, const struct seccomp_data *d)
{
    uint32_t a = 0;
    for (unsigned pc = 0; pc < p->len; pc++) {
        const struct sock_filter *f = &p->filter[pc];
        int c = cond(f->code, a, f->k);
        if (c >= 0)
            pc += c ? f->jt : f->jf;
        else if (f->code == (BPF_LD | BPF_W | BPF_ABS))
            a = load(d, f->k);
        else if (f->code == (BPF_JMP | BPF_JA))
            pc += f->k;
        else if (f->code == (BPF_ALU | BPF_AND | BPF_K))
            a &= f->k;
        else if (f->code == (BPF_RET | BPF_K))
            return f->k;
        else
            cr_assert_fail("instruction %u: unknown code 0x%x", pc, f->code);
    }
    cr_assert_fail("the program runs off its end");
    return 0;
}

bool bpf_constant_allow(const struct sock_fprog *p, int nr)
{
    uint32_t a = 0;
    for (unsigned pc = 0; pc < p->len; pc++) {
        const struct sock_filter *f = &p->filter[pc];
        int c = cond(f->code, a, f->k);
        if (c >= 0) {
            pc += c ? f->jt : f->jf;
        } else if (f->code == (BPF_LD | BPF_W | BPF_ABS)) {
            if (f->k == offsetof(struct seccomp_data, nr))
                a = (uint32_t)nr;
            else if (f->k == offsetof(struct seccomp_data, arch))
                a = AUDIT_ARCH_X86_64;
            else
                return false; /* an argument: not constant */
        } else if (f->code == (BPF_JMP | BPF_JA)) {
            pc += f->k;
        } else if (f->code == (BPF_ALU | BPF_AND | BPF_K)) {
            a &= f->k;
        } else if (f->code == (BPF_RET | BPF_K)) {
            return f->k == SECCOMP_RET_ALLOW;
        } else {
            return false; /* the kernel gives up too */
        }
    }
    cr_assert_fail("the program runs off its end");
    return false;
}
