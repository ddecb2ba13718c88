/* args_* and environ_* called raw: sizes, layout, and bad pointers. */
#include "check.h"

static char mem[4096];

int main(void)
{
    uint32_t argc = 0, argsz = 0, envc = 0, envsz = 0;
    E("args_sizes_get", raw_args_sizes_get(P(&argc), P(&argsz)));
    printf("argc %u size %u\n", argc, argsz);
    char **argv = (char **)mem;
    char *buf = mem + 256;
    E("args_get", raw_args_get(P(argv), P(buf)));
    for (uint32_t i = 0; i < argc; i++)
        printf("arg %u '%s' at +%d\n", i, argv[i], (int)(argv[i] - buf));
    E("environ_sizes_get", raw_environ_sizes_get(P(&envc), P(&envsz)));
    printf("envc %u size %u\n", envc, envsz);
    E("environ_get", raw_environ_get(P(argv), P(buf)));
    for (uint32_t i = 0; i < envc; i++)
        printf("env %u '%s'\n", i, argv[i]);

    i32 top = (i32)(__builtin_wasm_memory_size(0) * 65536);
    E("args_sizes_get bad count ptr", raw_args_sizes_get(top - 2, P(&argsz)));
    E("args_sizes_get bad size ptr", raw_args_sizes_get(P(&argc), -1));
    E("args_get argv array past the end", raw_args_get(top - 4, P(buf)));
    E("args_get buffer past the end", raw_args_get(P(argv), top - 3));
    E("environ_get buffer past the end", raw_environ_get(P(argv), top - 1));
    E("environ_sizes_get bad ptr", raw_environ_sizes_get(top, P(&envsz)));
    E("args_get buffer ending exactly at the top", raw_args_get(P(argv), top - (i32)argsz));
    return 0;
}
