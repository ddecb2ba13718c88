/* `sbx spec [--quiet] FILE.json...`: runs wast2json command lists through
 * the spec runner and ends with the "N passed, N failed, N skipped" line. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "memimg/pool.h"
#include "supervisor/cli.h"
#include "tests/spec/runner.h"

static void usage(FILE *f)
{
    fputs("usage: sbx spec [--quiet] FILE.json...\n"
          "Runs official spec tests converted by wast2json (module paths are relative to\n"
          "each JSON file): modules are instantiated and every command runs, except\n"
          "text-format modules and SIMD execution, which are counted as skipped.\n"
          "Exits 1 if any command failed.\n"
          "  -q, --quiet       print only failures and the totals\n"
          "  --no-exec         check the front end only (decode and validate)\n",
          f);
}

int cli_spec(int argc, char **argv)
{
    struct sbx_spec_options opts = {.quiet = false};
    bool exec = true;
    int i = 0;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        if (strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0) {
            opts.quiet = true;
        } else if (strcmp(argv[i], "--no-exec") == 0) {
            exec = false;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return CLI_OK;
        } else {
            fprintf(stderr, "sbx spec: unknown option '%s'\n", argv[i]);
            return CLI_USAGE;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (exec) {
        /* One pool for every file: each file's executor returns its slots. */
        int e = sbx_pool_create(NULL, &opts.pool);
        if (e) {
            fprintf(stderr, "sbx spec: cannot set up linear memory: %s\n", sbx_pool_strerror(e));
            return CLI_FAILED;
        }
    }
    struct sbx_spec_totals totals = {0};
    for (; i < argc; i++)
        sbx_spec_run_file(argv[i], &opts, stdout, &totals);
    sbx_spec_print_totals(stdout, &totals);
    sbx_pool_destroy(opts.pool);
    if (fflush(stdout) != 0) return CLI_FAILED;
    return totals.failed ? CLI_FAILED : CLI_OK;
}
