/* `sbx serve --socket PATH`: runs the daemon (supervisor/daemon.c). */
#include <errno.h>
#include <grp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memimg/config.h"
#include "policy/policy.h"
#include "supervisor/cli.h"
#include "supervisor/daemon.h"

/* The gid of group `name`, a number or a name in /etc/group. Not through
 * getgrnam: sbx is a static executable, which cannot load the system's NSS
 * modules safely, so a group of a directory service is given by number. */
static bool lookup_group(const char *name, gid_t *gid)
{
    char *end = NULL;
    errno = 0;
    unsigned long n = strtoul(name, &end, 10);
    if (*name >= '0' && *name <= '9' && !*end && !errno && n < (gid_t)-1) {
        *gid = (gid_t)n;
        return true;
    }
    FILE *f = fopen("/etc/group", "re");
    if (!f) return false;
    struct group *g;
    while ((g = fgetgrent(f)) && strcmp(g->gr_name, name)) {
    }
    if (g) *gid = g->gr_gid;
    fclose(f);
    return g != NULL;
}

static void serve_usage(FILE *f)
{
    fputs("usage: sbx serve --socket PATH [OPTIONS]\n"
          "Runs the sbx daemon: hosts load modules and spawn sandboxed workers through\n"
          "PATH (a Unix socket, mode 0600; see docs/protocol.md and include/sbx.h).\n\n"
          "  --socket PATH       where to listen (required)\n"
          "  --group NAME|GID    also let this group connect (socket mode 0660); a name\n"
          "                      is looked up in /etc/group\n"
          "  --max-workers N     refuse spawns beyond N live workers (default 64)\n"
          "  --slots N           linear-memory slots of the zygote's pool (default 100)\n"
          "  --policy FILE       every spawn's policy (JSON, see `sbx policy check`); a\n"
          "                      spawn may narrow it (default: the built-in safe policy)\n"
          "  --slot-strategy S   how freed slots are reused: reuse-affinity (default),\n"
          "                      next-available or random (docs/memimg.md)\n"
          "  --zygote-max-spawns N  replace the zygote with a freshly executed one (new\n"
          "                      address-space layout and stack canary) after N spawns\n"
          "                      (default 10000; 0: never)\n"
          "  --zygote-max-age S  ... or after S seconds (default 3600; 0: never)\n"
          "  --warm N            keep N workers forked, instantiated and confined ahead\n"
          "                      of demand for each module and policy spawned (policies\n"
          "                      without preopens); a spawn takes one (default 2; 0: none)\n"
          "  --warm-idle S       dismiss a warm worker nobody took within about S\n"
          "                      seconds (default 60; 0: never)\n"
          "SIGTERM or SIGINT stops it: workers are killed and the socket removed.\n",
          f);
}

/* The memimg strategies by their documented names. */
static bool parse_strategy(const char *name, int *out)
{
    static const struct {
        const char *name;
        enum sbx_pool_strategy s;
    } names[] = {{"reuse-affinity", SBX_POOL_REUSE_AFFINITY},
                 {"next-available", SBX_POOL_NEXT_AVAILABLE},
                 {"random", SBX_POOL_RANDOM}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(name, names[i].name)) {
            *out = (int)names[i].s;
            return true;
        }
    return false;
}

/* A decimal count up to `max` (0 allowed). */
static bool parse_count(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v > max) return false;
    *out = v;
    return true;
}

int cli_serve(int argc, char **argv)
{
    const char *policy_file = NULL;
    struct sbx_daemon_config cfg = {
        .group = (gid_t)-1,
        .max_workers = 64,
        .slots = 100,
        .strategy = -1,
        .zygote_max_spawns = 10000,
        .zygote_max_age_s = 3600,
        .warm = 2,
        .warm_idle_s = 60,
    };
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            serve_usage(stdout);
            return CLI_OK;
        }
        char *end = NULL;
        uint64_t n;
        if (!strcmp(a, "--socket") && val) {
            cfg.socket_path = val;
        } else if (!strcmp(a, "--group") && val) {
            if (!lookup_group(val, &cfg.group)) {
                fprintf(stderr, "sbx serve: no group %s in /etc/group\n", val);
                return CLI_USAGE;
            }
        } else if (!strcmp(a, "--max-workers") && val &&
                   (cfg.max_workers = (uint32_t)strtoul(val, &end, 10)) > 0 && !*end) {
        } else if (!strcmp(a, "--slots") && val &&
                   (cfg.slots = (uint32_t)strtoul(val, &end, 10)) > 0 && !*end) {
        } else if (!strcmp(a, "--slot-strategy") && val && parse_strategy(val, &cfg.strategy)) {
        } else if (!strcmp(a, "--zygote-max-spawns") && val && parse_count(val, UINT64_MAX, &n)) {
            cfg.zygote_max_spawns = n;
        } else if (!strcmp(a, "--zygote-max-age") && val && parse_count(val, UINT32_MAX, &n)) {
            cfg.zygote_max_age_s = (uint32_t)n;
        } else if (!strcmp(a, "--warm") && val && parse_count(val, 1024, &n)) {
            cfg.warm = (uint32_t)n;
        } else if (!strcmp(a, "--warm-idle") && val && parse_count(val, 86400, &n)) {
            cfg.warm_idle_s = (uint32_t)n;
        } else if (!strcmp(a, "--policy") && val) {
            policy_file = val;
        } else {
            fprintf(stderr, "sbx serve: bad option or value: %s\n", a);
            serve_usage(stderr);
            return CLI_USAGE;
        }
        i++;
    }
    if (!cfg.socket_path) {
        serve_usage(stderr);
        return CLI_USAGE;
    }
    Sbx__Policy *policy;
    if (cli_base_policy(policy_file, &policy)) return CLI_USAGE;
    cfg.policy = policy;
    int status = sbx_daemon_run(&cfg);
    sbx_policy_free(policy);
    return status;
}
