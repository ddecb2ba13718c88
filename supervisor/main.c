/* The `sbx` executable: dispatches to one subcommand. */
#include <stdio.h>
#include <string.h>

#include "supervisor/cli.h"
#include "supervisor/zygote_client.h"

#ifndef SBX_VERSION
#define SBX_VERSION "unknown"
#endif

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} subcommands[] = {
    {"validate", cli_validate, "decode and validate modules"},
    {"inspect", cli_inspect, "show a module's imports, exports, sections, ... (--json)"},
    {"run", cli_run, "run an exported function of a module (--invoke NAME)"},
    {"serve", cli_serve, "the daemon: hosts spawn sandboxed workers over a Unix socket"},
    {"spec", cli_spec, "run official spec tests converted by wast2json"},
    {"policy", cli_policy, "check a policy file and print the effective policy"},
};

#define NSUBCOMMANDS (sizeof subcommands / sizeof subcommands[0])

static void usage(FILE *f)
{
    fputs("usage: sbx COMMAND [ARGS...]\n"
          "sbx is a WebAssembly sandbox runtime.\n"
          "\ncommands:\n",
          f);
    for (size_t i = 0; i < NSUBCOMMANDS; i++)
        fprintf(f, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
    fputs("\n  -h, --help     show this help (or `sbx COMMAND --help`)\n"
          "  -V, --version  show the version\n"
          "  --connect PATH COMMAND ...  talk to a running `sbx serve` (status, load,\n"
          "                 unload, run, wait, kill; `sbx --connect PATH` for help)\n",
          f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    /* Internal, not in the help: the daemon's exec'd zygote. */
    if (strcmp(cmd, SBX_ZYGOTE_SUBCOMMAND) == 0) return cli_zygote(argc - 2, argv + 2);
    if (strcmp(cmd, "--connect") == 0) return cli_connect(argc - 2, argv + 2);
    if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
        printf("sbx %s\n", SBX_VERSION);
        return CLI_OK;
    }
    for (size_t i = 0; i < NSUBCOMMANDS; i++) {
        if (strcmp(cmd, subcommands[i].name) == 0) return subcommands[i].run(argc - 2, argv + 2);
    }
    if (cmd[0] == '-')
        fprintf(stderr, "sbx: unknown option '%s'\n", cmd);
    else
        fprintf(stderr, "sbx: unknown command '%s'\n", cmd);
    fputs("Run 'sbx --help' for the list of commands.\n", stderr);
    return CLI_USAGE;
}
