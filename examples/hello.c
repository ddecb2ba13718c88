/* The bundled example: a WASI command that prints a greeting. Built to
 * wasm32-wasi by examples/CMakeLists.txt; `sbx run build/examples/hello.wasm`
 * runs it in a sandboxed worker (scripts/example.sh). */
#include <stdio.h>

int main(void)
{
    puts("Hello, world!");
    return 0;
}
