/* Code memory (jit/code_memory.h): emitted code runs; after finalisation the
 * code is mapped r-x only, with no writable mapping of its memfd left;
 * writing to it faults; the memfd is sealed against writes and resizing. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jit/code_memory.h"
#include "jit/x64.h"

/* Finish `b` and install it; the test fails on any error. */
static void install(struct code_memory *cm, struct codebuf *b)
{
    cr_assert_eq(cb_finish(b), 0);
    cr_assert_eq(code_memory_install(cm, b->data, b->len, "sbx-test-code"), 0);
    cb_free(b);
}

/* lea eax, [rdi + rsi]; ret */
static void add_function(struct code_memory *cm)
{
    struct codebuf b;
    cb_init(&b);
    x64_lea(&b, 32, X64_RAX, x64_mem_idx(X64_RDI, X64_RSI, 1, 0));
    x64_ret(&b);
    install(cm, &b);
}

Test(code_memory, tiny_function_runs)
{
    struct code_memory cm;
    add_function(&cm);
    int (*add)(int, int);
    const void *entry = cm.rx;
    memcpy(&add, &entry, sizeof add); /* object pointer to function pointer */
    cr_expect_eq(add(2, 3), 5);
    cr_expect_eq(add(-7, 4), -3);
    cr_expect_eq(add(INT32_MAX, 1), INT32_MIN); /* lea wraps */
    code_memory_free(&cm);
}

/* uint64_t sum(uint64_t n): 1 + 2 + ... + n, with a forward jump out of the
 * loop and a backward jump to its head; then a pure-SSE hypot. */
Test(code_memory, loops_and_floats_run)
{
    struct codebuf b;
    cb_init(&b);
    cb_label head = cb_new_label(&b), done = cb_new_label(&b), hyp = cb_new_label(&b);
    x64_alu_rr(&b, X64_XOR, 32, X64_RAX, X64_RAX); /* xor eax, eax */
    cb_bind(&b, head);
    x64_alu_rr(&b, X64_TEST, 64, X64_RDI, X64_RDI); /* test rdi, rdi */
    x64_jcc8(&b, X64_CC_E, done);                   /* je done */
    x64_alu_rr(&b, X64_ADD, 64, X64_RAX, X64_RDI);  /* add rax, rdi */
    x64_alu_ri(&b, X64_SUB, 64, X64_RDI, 1);        /* sub rdi, 1 */
    x64_jmp(&b, head);                              /* jmp head */
    cb_bind(&b, done);
    x64_ret(&b);
    x64_align_nop(&b, 16);
    cb_bind(&b, hyp);                               /* double hypot(double x, double y) */
    x64_sse_rr(&b, X64_MULSD, X64_XMM0, X64_XMM0);  /* mulsd xmm0, xmm0 */
    x64_sse_rr(&b, X64_MULSD, X64_XMM1, X64_XMM1);  /* mulsd xmm1, xmm1 */
    x64_sse_rr(&b, X64_ADDSD, X64_XMM0, X64_XMM1);  /* addsd xmm0, xmm1 */
    x64_sse_rr(&b, X64_SQRTSD, X64_XMM0, X64_XMM0); /* sqrtsd xmm0, xmm0 */
    x64_ret(&b);
    size_t hyp_at = (size_t)cb_label_pos(&b, hyp);
    struct code_memory cm;
    install(&cm, &b);

    uint64_t (*sum)(uint64_t);
    double (*hypot2)(double, double);
    const void *p = cm.rx, *q = cm.rx + hyp_at;
    memcpy(&sum, &p, sizeof sum);
    memcpy(&hypot2, &q, sizeof hypot2);
    cr_expect_eq(sum(0), 0);
    cr_expect_eq(sum(100), 5050);
    cr_expect_eq(sum(100000), 5000050000ull);
    cr_expect_eq(hypot2(3.0, 4.0), 5.0);
    code_memory_free(&cm);
}

/* The inode of the memfd behind `fd`, as /proc/self/maps shows it. */
static unsigned long inode_of(int fd)
{
    struct stat st;
    cr_assert_eq(fstat(fd, &st), 0);
    return (unsigned long)st.st_ino;
}

Test(code_memory, after_finalise_no_mapping_of_the_code_is_writable)
{
    struct code_memory cm;
    add_function(&cm);
    unsigned long ino = inode_of(cm.fd);
    uintptr_t at = (uintptr_t)cm.rx;

    FILE *f = fopen("/proc/self/maps", "r");
    cr_assert_not_null(f);
    char line[512];
    int code_lines = 0, memfd_lines = 0;
    while (fgets(line, sizeof line, f)) {
        uintptr_t lo, hi;
        char perms[8];
        unsigned long off, inode;
        char dev[16];
        if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %7s %lx %15s %lu", &lo, &hi, perms, &off, dev,
                   &inode) != 6)
            continue;
        if (at >= lo && at < hi) {
            code_lines++;
            cr_expect_str_eq(perms, "r-xp", "code mapped as %s", line);
        }
        if (inode == ino && strstr(line, "memfd:sbx-test-code")) {
            memfd_lines++;
            cr_expect_eq(strchr(perms, 'w'), NULL, "writable mapping of the code memfd: %s", line);
        }
    }
    fclose(f);
    cr_expect_eq(code_lines, 1);
    cr_expect_eq(memfd_lines, 1, "only the r-x mapping of the memfd remains");
    cr_expect_null(cm.rw);
    code_memory_free(&cm);
}

Test(code_memory, writing_to_the_code_faults, .signal = SIGSEGV)
{
    struct code_memory cm;
    add_function(&cm);
    volatile uint8_t *code = (volatile uint8_t *)(uintptr_t)cm.rx;
    code[0] = 0xc3; /* must not return */
    cr_assert_fail("wrote to executable code");
}

Test(code_memory, the_memfd_is_sealed)
{
    struct code_memory cm;
    add_function(&cm);
    int seals = fcntl(cm.fd, F_GET_SEALS);
    int all = F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL;
    cr_expect_eq(seals & all, all);

    errno = 0;
    cr_expect_eq(pwrite(cm.fd, "\xcc", 1, 0), -1);
    cr_expect_eq(errno, EPERM);
    errno = 0;
    cr_expect_eq(ftruncate(cm.fd, (off_t)cm.map_size * 2), -1);
    cr_expect_eq(errno, EPERM);
    errno = 0;
    cr_expect_eq(mmap(NULL, cm.map_size, PROT_READ | PROT_WRITE, MAP_SHARED, cm.fd, 0), MAP_FAILED);
    cr_expect_eq(errno, EPERM);
    errno = 0;
    cr_expect_eq(fcntl(cm.fd, F_ADD_SEALS, 0), -1); /* F_SEAL_SEAL */
    cr_expect_eq(errno, EPERM);
    code_memory_free(&cm);
}

Test(code_memory, another_mapping_of_the_fd_runs_the_same_code)
{
    struct code_memory cm;
    add_function(&cm);
    int err = 1;
    const void *again = code_memory_map_fd(cm.fd, cm.map_size, &err);
    cr_assert_not_null(again);
    cr_expect_eq(err, 0);
    cr_expect_neq(again, (const void *)cm.rx);
    cr_expect_eq(memcmp(again, cm.rx, cm.size), 0);
    int (*add)(int, int);
    memcpy(&add, &again, sizeof add);
    cr_expect_eq(add(40, 2), 42);
    cr_expect_eq(((const uint8_t *)again)[cm.size], 0xcc, "the rest of the page is int3");

    /* Wrong size: refused. */
    cr_expect_null(code_memory_map_fd(cm.fd, cm.map_size * 2, &err));
    cr_expect_eq(err, -EINVAL);
    cr_expect_eq(code_memory_unmap(again, cm.map_size), 0);
    code_memory_free(&cm);
}

Test(code_memory, an_unsealed_fd_is_refused)
{
    struct code_memory cm;
    cr_assert_eq(code_memory_open(&cm, 100, NULL), 0);
    int err = 0;
    cr_expect_null(code_memory_map_fd(cm.fd, cm.map_size, &err));
    cr_expect_eq(err, -EPERM);
    code_memory_free(&cm); /* never finalised: unmaps rw, closes fd */
    cr_expect_eq(cm.fd, -1);
}

Test(code_memory, size_zero_is_einval)
{
    struct code_memory cm;
    cr_expect_eq(code_memory_open(&cm, 0, NULL), -EINVAL);
    cr_expect_eq(cm.fd, -1);
    code_memory_free(&cm); /* harmless */
}
