/* stdio, args, environment and the exit code, through wasi-libc. */
#include <stdio.h>
#include <stdlib.h>

extern char **environ;

int main(int argc, char **argv)
{
    printf("hello from wasm\n");
    for (int i = 0; i < argc; i++)
        printf("argv[%d] = %s\n", i, argv[i]);
    for (char **e = environ; *e; e++)
        printf("env %s\n", *e);
    printf("getenv(GREETING) = %s\n", getenv("GREETING") ? getenv("GREETING") : "(null)");
    fprintf(stderr, "to stderr\n");
    return 7;
}
