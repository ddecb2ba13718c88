/* The bundled example: a WASI command that prints a greeting. Built to
 * wasm32-wasi by examples/CMakeLists.txt; `sbx inspect` and `sbx validate`
 * show it today, `sbx run` will run it once execution lands. */
#include <stdio.h>

int main(void)
{
    puts("Hello, world!");
    return 0;
}
