/* proc_raise with ignored and stopping signals (no effect), a bad signal
 * number, then SIGTERM, which ends the instance with 128 + 15. */
#include "check.h"

int main(void)
{
    E("raise 0 (none)", raw_proc_raise(0));
    E("raise SIGCHLD (ignored)", raw_proc_raise(16));
    E("raise SIGWINCH (ignored)", raw_proc_raise(27));
    E("raise SIGSTOP (not stopped)", raw_proc_raise(18));
    E("raise 31 (no such signal)", raw_proc_raise(31));
    fflush(stdout);
    raw_proc_raise(15);
    printf("not reached\n");
    return 0;
}
