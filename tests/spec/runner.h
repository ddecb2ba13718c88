/* The spec-test runner: checks sbx's front end against the JSON command
 * lists that wabt's wast2json writes from the official .wast scripts. It
 * reports to a stream the caller passes, so `sbx spec` and tests can both
 * drive it; it never exits. */
#ifndef SBX_TESTS_SPEC_RUNNER_H
#define SBX_TESTS_SPEC_RUNNER_H

#include <stdbool.h>
#include <stdio.h>

struct sbx_spec_totals {
    unsigned long passed;
    unsigned long failed;
    unsigned long skipped;      /* skipped_exec + skipped_text */
    unsigned long skipped_exec; /* commands that need execution */
    unsigned long skipped_text; /* modules in the text format */
    unsigned long skipped_simd; /* commands that would run SIMD code */
};

struct sbx_pool;

struct sbx_spec_options {
    bool quiet; /* report only failures (and the summary of a failing file) */
    /* Linear memories for executed modules. NULL: check the front end only,
     * counting commands that need execution as skipped. */
    struct sbx_pool *pool;
};

/* Runs every command of one wast2json JSON file. Module paths in it are
 * relative to the JSON file's directory. Adds this file's counts to *totals
 * and reports to `out`: each failure with the command's .wast line, then one
 * summary line for the file. A file that cannot be read or parsed counts as
 * one failure. Returns the number of failures in this file. */
unsigned long sbx_spec_run_file(const char *json_path, const struct sbx_spec_options *opts,
                                FILE *out, struct sbx_spec_totals *totals);

/* Prints the closing line, "N passed, N failed, N skipped", alone. */
void sbx_spec_print_totals(FILE *out, const struct sbx_spec_totals *totals);

#endif
