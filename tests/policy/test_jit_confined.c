/* The allowlist is enough for the runtime: a module is compiled and
 * instantiated before fork/confinement as in the zygote and worker, then,
 * under the default policy's filter, memory.grow, guard-page traps
 * (SIGSEGV on the alternate stack, siglongjmp), checked traps and stack
 * exhaustion all work and none is a violation. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jit/module.h"
#include "jit/runtime.h"
#include "memimg/pool.h"
#include "policy/confine.h"
#include "policy/policy.h"
#include "tests/policy/harness.h"

static int report_fd;
static void on_violation(int nr)
{
    int rec[2] = {-1, nr};
    ssize_t n = write(report_fd, rec, sizeof rec);
    (void)n;
}

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    static uint8_t buf[1 << 16];
    *len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return buf;
}

/* Calls export `name` with one i32 (or none); returns {trap code, result}. */
static void call(struct sbx_instance *inst, const struct sbx_module *m, const char *name,
                 int32_t arg, int out[2])
{
    const struct sbx_export *e = sbx_module_export(m, name);
    union sbx_val args[1] = {{.i32 = arg}}, res[1] = {{0}};
    struct sbx_trap trap;
    memset(&trap, 0, sizeof trap);
    int rc = sbx_instance_call(inst, e->index, args, res, &trap);
    out[0] = rc ? trap.code : 0;
    out[1] = rc ? 0 : res[0].i32;
}

Test(jit_confined, runtime_works_under_the_filter)
{
    SKIP_IF_ASAN_SIGLONGJMP();
    size_t len;
    uint8_t *bytes = read_all(SBX_JIT_PROBE_WASM, &len);
    struct sbx_error err;
    struct sbx_module *m = sbx_module_load(bytes, len, &err);
    cr_assert_not_null(m, "%s", err.msg);
    struct sbx_compile_options copts = {0};
    struct sbx_compiled *compiled = sbx_compile(m, &copts, &err);
    cr_assert_not_null(compiled, "%s", err.msg);
    struct sbx_pool_config pcfg;
    sbx_pool_config_default(&pcfg);
    pcfg.slot_count = 2;
    struct sbx_pool *pool;
    cr_assert_eq(sbx_pool_create(&pcfg, &pool), 0);

    Sbx__Policy *p = sbx_policy_default();
    struct sbx_confine *c;
    struct sbx_confine_error cerr;
    cr_assert_eq(sbx_confine_prepare(p, &c, &cerr), 0);
    int pfd[2];
    cr_assert_eq(pipe(pfd), 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        report_fd = pfd[1];
        struct sbx_linker *linker = sbx_linker_new();
        struct sbx_trap trap;
        struct sbx_instance *inst = sbx_instantiate(compiled, linker, pool, &err, &trap);
        if (!inst) child_exit(2);
        /* The worker's order: handlers first, then confinement. */
        sbx_confine_set_violation_hook(on_violation);
        if (sbx_confine_apply(c, &cerr)) child_exit(3);
        static const struct {
            const char *name;
            int32_t arg;
        } calls[] = {{"fib", 20}, {"grow", 3}, {"store_high", 0x30000}, {"oob", 0}, {"div0", 0},
                     {"deep", 0}, {"fib", 10}, {"grow", 1000}};
        for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
            int out[2];
            call(inst, m, calls[i].name, calls[i].arg, out);
            if (write(pfd[1], out, sizeof out) != sizeof out) child_exit(4);
        }
        child_exit(0);
    }
    close(pfd[1]);
    int got[16][2], n = 0, rec[2];
    while (n < 16 && read(pfd[0], rec, sizeof rec) == sizeof rec) {
        cr_expect_neq(rec[0], -1, "violation: system call %d (%s)", rec[1],
                      sbx_syscall_name(rec[1]));
        got[n][0] = rec[0], got[n][1] = rec[1], n++;
    }
    int status;
    waitpid(pid, &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status 0x%x", status);
    cr_assert_eq(n, 8);
    cr_expect(got[0][0] == 0 && got[0][1] == 6765, "fib(20)");
    cr_expect(got[1][0] == 0 && got[1][1] == 1, "memory.grow returns the old size");
    cr_expect(got[2][0] == 0 && got[2][1] == 42, "store into grown memory");
    cr_expect_eq(got[3][0], SBX_TRAP_OOB_MEMORY, "guard-page trap");
    cr_expect_eq(got[4][0], SBX_TRAP_INT_DIV_ZERO);
    cr_expect_eq(got[5][0], SBX_TRAP_STACK_EXHAUSTED);
    cr_expect(got[6][0] == 0 && got[6][1] == 55, "still runs after traps");
    cr_expect(got[7][0] == 0 && got[7][1] == -1, "grow beyond the maximum fails");

    sbx_confine_free(c);
    sbx_policy_free(p);
    sbx_pool_destroy(pool);
    sbx_compiled_free(compiled);
    sbx_module_free(m);
}
