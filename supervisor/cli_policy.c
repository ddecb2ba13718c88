/* `sbx policy check [--request REQUEST.json] FILE` and `sbx policy default`:
 * validate a policy file and print the effective policy (every field
 * present) as JSON; with --request, print the effective policy of that
 * request narrowed against FILE. Exit 0, 1 if a policy was rejected, 2 for
 * a wrong command line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "supervisor/cli.h"

static void usage(FILE *f)
{
    fputs("usage: sbx policy check [--request REQUEST.json] FILE.json\n"
          "       sbx policy default\n"
          "Validates a policy file and prints the effective policy as JSON: every\n"
          "field present, defaults filled in. With --request, prints what a spawn\n"
          "asking for REQUEST gets under FILE (a request may only narrow it).\n",
          f);
}

static int print_policy(const Sbx__Policy *p)
{
    char *text = sbx_policy_to_json(p);
    if (!text) {
        fputs("sbx: policy: out of memory\n", stderr);
        return CLI_FAILED;
    }
    puts(text);
    free(text);
    return CLI_OK;
}

static int check(const char *file, const char *request)
{
    struct sbx_policy_error err;
    Sbx__Policy *base = NULL, *req = NULL, *eff = NULL;
    int status = CLI_FAILED;
    /* Reading errors name the file already; the others name the file whose
     * field is wrong. */
    if (sbx_policy_from_file(file, &base, &err) ||
        (request && sbx_policy_from_file(request, &req, &err))) {
        fprintf(stderr, "sbx: %s\n", err.msg);
    } else if (request ? sbx_policy_narrow(base, req, &eff, &err)
                       : sbx_policy_resolve(base, &eff, &err)) {
        fprintf(stderr, "sbx: %s: %s\n", request ? request : file, err.msg);
    } else {
        status = print_policy(eff);
    }
    sbx_policy_free(base);
    sbx_policy_free(req);
    sbx_policy_free(eff);
    return status;
}

int cli_policy(int argc, char **argv)
{
    if (argc >= 1 && (!strcmp(argv[0], "-h") || !strcmp(argv[0], "--help"))) {
        usage(stdout);
        return CLI_OK;
    }
    if (argc == 1 && !strcmp(argv[0], "default")) {
        Sbx__Policy *p = sbx_policy_default();
        if (!p) return CLI_FAILED;
        int status = print_policy(p);
        sbx_policy_free(p);
        return status;
    }
    if (argc >= 2 && !strcmp(argv[0], "check")) {
        const char *request = NULL, *file = NULL;
        for (int i = 1; i < argc; i++) {
            if (!strcmp(argv[i], "--request") && i + 1 < argc)
                request = argv[++i];
            else if (argv[i][0] == '-' || file) {
                usage(stderr);
                return CLI_USAGE;
            } else
                file = argv[i];
        }
        if (file) return check(file, request);
    }
    usage(stderr);
    return CLI_USAGE;
}

int cli_base_policy(const char *file, Sbx__Policy **out)
{
    *out = NULL;
    struct sbx_policy_error err;
    if (!file) {
        *out = sbx_policy_default();
        if (!*out) fputs("sbx: out of memory\n", stderr);
        return *out ? 0 : -1;
    }
    Sbx__Policy *p;
    if (sbx_policy_from_file(file, &p, &err)) {
        fprintf(stderr, "sbx: %s\n", err.msg);
        return -1;
    }
    int rc = sbx_policy_resolve(p, out, &err);
    sbx_policy_free(p);
    if (rc) fprintf(stderr, "sbx: %s: %s\n", file, err.msg);
    return rc;
}
