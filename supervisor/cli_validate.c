/* `sbx validate FILE...`: decodes and validates each module. Silent on
 * success; otherwise "sbx: FILE: error at offset 0x...: ..." and exit 1. */
#include <stdio.h>
#include <string.h>

#include "supervisor/cli.h"

static void usage(FILE *f)
{
    fputs("usage: sbx validate FILE...\n"
          "Decodes and validates WebAssembly binary modules. Prints nothing and exits 0\n"
          "if all are valid; otherwise prints each error and exits 1.\n",
          f);
}

int cli_validate(int argc, char **argv)
{
    int i = 0;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return CLI_OK;
        }
        fprintf(stderr, "sbx validate: unknown option '%s'\n", argv[i]);
        return CLI_USAGE;
    }
    if (i >= argc) {
        usage(stderr);
        return CLI_USAGE;
    }
    int status = CLI_OK;
    for (; i < argc; i++) {
        struct cli_loaded l;
        if (cli_load(argv[i], &l) != 0) {
            status = CLI_FAILED;
            continue;
        }
        cli_unload(&l);
    }
    return status;
}
