/* spawn_loop SOCKET MODULE.wasm N: N spawns of the module's "nop" export
 * back to back through a running `sbx serve`, with the client library, as
 * a host would make them. The load for scripts/bench-ab.sh, which times
 * the machine's CPU around it; prints nothing but errors. */
#include <stdio.h>
#include <stdlib.h>

#include "sbx.h"

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: spawn_loop SOCKET MODULE.wasm N\n");
        return 2;
    }
    struct sbx_client *c;
    struct sbx_client_error err;
    if (sbx_connect(argv[1], "spawn_loop", &c, &err)) {
        fprintf(stderr, "spawn_loop: connect: %s\n", err.message);
        return 1;
    }
    char id[SBX_MODULE_ID_SIZE];
    if (sbx_load_file(c, argv[2], NULL, id, NULL, &err)) {
        fprintf(stderr, "spawn_loop: load: %s\n", err.message);
        return 1;
    }
    long n = atol(argv[3]);
    for (long i = 0; i < n; i++) {
        struct sbx_outcome o;
        struct sbx_spawn_options so = SBX_SPAWN_OPTIONS_INIT;
        so.export_name = "nop";
        if (sbx_run(c, id, &so, &o, &err)) {
            fprintf(stderr, "spawn_loop: spawn %ld: %s\n", i, err.message);
            return 1;
        }
    }
    sbx_disconnect(c);
    return 0;
}
