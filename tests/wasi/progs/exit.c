/* proc_exit with a code, skipping the rest of main. */
#include "check.h"

int main(void)
{
    printf("exiting with 42\n");
    fflush(stdout);
    __wasi_proc_exit(42);
}
