/* The zygote and its workers (DESIGN.md, "Processes"). The zygote is forked
 * from the supervisor at start-up, before any untrusted input reaches it; it
 * keeps every loaded module decoded and compiled, and forks one worker per
 * spawn, so a worker starts with its module's code and memory image already
 * mapped. It talks to the supervisor over one SOCK_SEQPACKET control channel
 * (ControlRequest / ControlReply in proto/sbx.proto), reaps its workers and
 * reports each exit. A worker reports how its run ended over its own
 * channel (FromWorker). */
#ifndef SBX_ZYGOTE_ZYGOTE_H
#define SBX_ZYGOTE_ZYGOTE_H

#include <stdbool.h>
#include <stdint.h>

struct sbx_zygote_config {
    uint32_t slots;            /* linear-memory slots of the zygote's pool */
    uint64_t max_memory_bytes; /* per linear memory; 0: the pool's default */
    int strategy;              /* enum sbx_pool_strategy; -1: the pool's default */
    /* Move the executable's code onto huge pages first (huge_text.h): worth
     * it for a daemon's zygote, which forks thousands of workers, not for a
     * single run's, which would pay for the copy. */
    bool huge_text;
};

/* Runs the zygote on control channel `ctl` until the supervisor closes it,
 * then exits. Never returns. */
_Noreturn void sbx_zygote_main(int ctl, const struct sbx_zygote_config *cfg);

#endif
