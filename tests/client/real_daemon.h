/* The real `sbx serve` for libsbx tests (real_daemon.c). */
#ifndef SBX_TESTS_CLIENT_REAL_DAEMON_H
#define SBX_TESTS_CLIENT_REAL_DAEMON_H

#include "include/sbx.h"

extern char sock[128];

/* Criterion .init/.fini of a suite: a fresh daemon per test. */
void start_daemon(void);
/* The same with `--policy file`. */
void start_daemon_with_policy(const char *file);
void stop_daemon(void);

/* A handshaken client with a 20 s request timeout, or a failed test. */
struct sbx_client *connect_or_fail(void);

#endif
