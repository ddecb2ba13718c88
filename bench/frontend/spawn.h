/* Runs peer tools (wasm-validate, node, the sbx CLI) for the benchmark and
 * times them as whole processes. */
#ifndef SBX_BENCH_FRONTEND_SPAWN_H
#define SBX_BENCH_FRONTEND_SPAWN_H

#include <stdbool.h>
#include <stddef.h>

/* True if `name` is an executable found on $PATH (or is a path to one). */
bool spawn_found(const char *name);

/* Runs argv (stdin/stdout/stderr to /dev/null) `runs` times; returns the
 * fastest wall-clock time in seconds, or a negative value if it could not
 * run or any run exited nonzero (its status goes to *status). */
double spawn_best_seconds(char *const argv[], int runs, int *status);

/* Runs argv once, capturing up to size-1 bytes of its stdout into buf
 * (NUL-terminated). Returns its exit status, or -1. */
int spawn_capture(char *const argv[], char *buf, size_t size);

#endif
