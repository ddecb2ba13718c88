/* Running code inside a child confined exactly as a worker is: the test
 * process prepares (the zygote's part), forks, and the child installs the
 * violation hook, applies every step and runs the probe. What the child saw
 * comes back over a pipe; how it ended comes from waitpid. */
#ifndef SBX_TESTS_POLICY_HARNESS_H
#define SBX_TESTS_POLICY_HARNESS_H

#include <stdbool.h>
#include <sys/types.h>

#include "policy/confine.h"
#include "policy/policy.h"

struct probe_result {
    int status;     /* from waitpid */
    int violation;  /* syscall the hook reported, -2 if none */
    bool returned;  /* the probe returned (the call was not stopped) */
    long ret;       /* its return value */
    int err;        /* errno after it */
    char note[128]; /* a line the probe wrote with probe_note */
};

/* ASan's siglongjmp interceptor, run on the alternate stack, reads
 * /proc/self/maps (openat), which the filter rightly forbids: the tests of
 * the signal trap path run in the plain build and skip, saying so, under
 * ASan. */
#if defined(__SANITIZE_ADDRESS__)
#define SKIP_IF_ASAN_SIGLONGJMP()                                                                  \
    cr_skip_test("under ASan, siglongjmp from a signal handler opens /proc/self/maps, which "      \
                 "the filter forbids; this test runs in the non-sanitized build")
#else
#define SKIP_IF_ASAN_SIGLONGJMP() ((void)0)
#endif

/* Ends a confined child. Not _exit(): under ASan its interceptor runs the
 * leak check, which clones and ptraces, and the filter forbids both. */
_Noreturn void child_exit(int code);

/* A probe runs confined, returns the syscall result; errno is kept. */
typedef long (*probe_fn)(void *arg);

/* Runs `fn` in a child confined by `policy` (NULL: the default policy),
 * after `before` (unconfined, e.g. opening an fd to misuse later). Fails
 * the test if preparing or applying fails. */
void run_probe(const Sbx__Policy *policy, void (*before)(void *), probe_fn fn, void *arg,
               struct probe_result *r);

/* From inside a probe: a line for the test to read. */
void probe_note(const char *text);

/* Asserts that the probe was stopped at system call `nr` by the filter and
 * reported through the hook (never returned). */
void expect_violation(const struct probe_result *r, int nr);

#endif
