/* The zygote's thread leaves restartable sequences (no_rseq.c). */
#ifndef SBX_ZYGOTE_NO_RSEQ_H
#define SBX_ZYGOTE_NO_RSEQ_H

/* Unregisters the calling thread's rseq area, which glibc registered at
 * start-up; children forked afterwards inherit having none. Returns 0
 * (also when none was registered), or -errno from the kernel. glibc
 * stays correct without it: sched_getcpu falls back to the system call
 * once the kernel marks the area unregistered. */
int sbx_zygote_drop_rseq(void);

#endif
