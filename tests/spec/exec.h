/* Execution of wast2json commands for the spec runner: instantiating modules
 * with the `spectest` host module, `register`, invoking exports and checking
 * results and traps. One executor per JSON file; it keeps every module of the
 * file alive until it is freed, as the spec's scripts assume.
 *
 * Typical use, in the loop over a file's "commands":
 *
 *     struct sbx_spec_exec *ex = sbx_spec_exec_new(pool, why, sizeof why);
 *     for each cmd:
 *         if (sbx_spec_exec_handles(type))
 *             switch (sbx_spec_exec_command(ex, cmd, dir, why, sizeof why)) ...
 *     sbx_spec_exec_free(ex);
 */
#ifndef SBX_TESTS_SPEC_EXEC_H
#define SBX_TESTS_SPEC_EXEC_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct sbx_pool;
struct sbx_spec_exec;

enum sbx_spec_result {
    SBX_SPEC_PASS,
    SBX_SPEC_FAIL,
    SBX_SPEC_SKIP,
};

/* The reasons of SBX_SPEC_SKIP, exactly (compare with strcmp). */
#define SBX_SPEC_SKIP_SIMD "SIMD execution not supported yet"
#define SBX_SPEC_SKIP_TEXT "text-format module"

/* Creates the executor of one JSON file: a linker holding the `spectest`
 * module, whose memory takes one slot of `pool` (instances take one more
 * each that defines a memory; no file of the 2.0 suite needs more than 35,
 * so the default 100-slot pool is enough when files run one after another).
 * Returns NULL with a reason in `why` (out of memory, pool exhausted). */
struct sbx_spec_exec *sbx_spec_exec_new(struct sbx_pool *pool, char *why, size_t why_size);

/* Frees every instance, module and host object of the file and returns the
 * pool slots. NULL is ignored. */
void sbx_spec_exec_free(struct sbx_spec_exec *ex);

/* Where spectest's print functions write ("42 : i32" lines); NULL (the
 * default) discards them. Never stdout unless the caller passes it. */
void sbx_spec_exec_set_print(struct sbx_spec_exec *ex, FILE *out);

/* True for the command types sbx_spec_exec_command runs: module, register,
 * action, assert_return, assert_trap, assert_exhaustion, assert_unlinkable,
 * assert_uninstantiable. (assert_malformed and assert_invalid stay with the
 * runner's front-end checks.) */
bool sbx_spec_exec_handles(const char *type);

/* Runs one command object of wast2json's "commands" array; module file names
 * are relative to `json_dir`. Returns enum sbx_spec_result; on FAIL `why`
 * says what went wrong and on SKIP it is one of the SBX_SPEC_SKIP_* reasons
 * (without the command's line: the caller adds it). On PASS `why` is "".
 *
 * A `module` that fails to load, compile or instantiate is a failure, and
 * later commands that act on it fail too, naming it. A module the compiler
 * rejects because it uses SIMD is skipped, and so is every command acting on
 * it or passing/expecting v128 values. */
int sbx_spec_exec_command(struct sbx_spec_exec *ex, struct json_object *cmd, const char *json_dir,
                          char *why, size_t why_size);

#endif
