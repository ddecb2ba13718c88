/* How a worker tells the supervisor what happened: the protobuf forms of a
 * trap and of results, the final WorkerReport, and the exit that follows it.
 * Internal to zygote/ (worker.c, worker_calls.c). */
#ifndef SBX_ZYGOTE_WORKER_REPORT_H
#define SBX_ZYGOTE_WORKER_REPORT_H

#include "jit/runtime.h"
#include "proto/sbx.pb-c.h"

/* The worker's fds: 0-2 stdio, 3 the channel to the supervisor. */
#define SBX_WORKER_CHANNEL_FD 3

/* A trap as a protobuf Trap; the message points into this storage. */
struct worker_trap_proto {
    Sbx__Trap trap;
    Sbx__Frame frames[SBX_TRAP_MAX_FRAMES];
    Sbx__Frame *ptrs[SBX_TRAP_MAX_FRAMES];
    char names[SBX_TRAP_MAX_FRAMES][128];
};

void worker_trap_to_proto(const struct sbx_module *m, const struct sbx_trap *t,
                          struct worker_trap_proto *out);

/* Sends one message to the supervisor (best effort: if it is gone, there
 * is no one to tell). */
void worker_send(Sbx__FromWorker *msg);

/* Each sends the final report and exits. */
_Noreturn void worker_fail(const char *what, const char *detail);
_Noreturn void worker_report_returned(const struct sbx_functype *ft, const union sbx_val *res);
_Noreturn void worker_report_trap(const struct sbx_module *m, const struct sbx_trap *t);
_Noreturn void worker_report_memory_limit(uint64_t limit_bytes);
/* The seccomp violation hook (policy/confine.h): runs in the SIGSYS
 * handler, so it packs into a stack buffer and makes one sendmsg. */
void worker_report_violation(int syscall_nr);
/* How a run that trapped ends: an exit (proc_exit), the memory limit (the
 * trap followed a memory.grow the limit refused), or the trap itself. */
_Noreturn void worker_end_trap(const struct sbx_instance *inst, const struct sbx_trap *t);

/* Does what sending a report does, but sends nothing: the usage query and
 * the packing, so that their first page faults happen now. */
void worker_rehearse_report(void);

/* results[i] <- res[i] as protobuf Values; vals and ptrs hold ft->nresults. */
void worker_results_to_proto(const struct sbx_functype *ft, const union sbx_val *res,
                             Sbx__Value *vals, Sbx__Value **ptrs);

#endif
