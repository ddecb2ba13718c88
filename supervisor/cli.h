/* The `sbx` command line: one function per subcommand, each taking the
 * arguments after its name and returning the process exit status. Only these
 * files print; the libraries they call report errors as values. */
#ifndef SBX_SUPERVISOR_CLI_H
#define SBX_SUPERVISOR_CLI_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "jit/module.h"
#include "proto/sbx.pb-c.h"

/* Exit statuses shared by every subcommand. */
enum {
    CLI_OK = 0,
    CLI_FAILED = 1, /* the input was rejected, or a test failed */
    CLI_USAGE = 2,  /* the command line was wrong */
};

int cli_validate(int argc, char **argv);
int cli_inspect(int argc, char **argv);
int cli_spec(int argc, char **argv);
int cli_run(int argc, char **argv);
int cli_serve(int argc, char **argv);
int cli_connect(int argc, char **argv);
int cli_policy(int argc, char **argv);
/* The exec'd zygote (hidden; supervisor/zygote_client.h). */
int cli_zygote(int argc, char **argv);

/* The effective policy of policy file `file` (NULL: the built-in default),
 * for `sbx serve` and `sbx run`; says what is wrong on stderr. */
int cli_base_policy(const char *file, Sbx__Policy **out);

/* A module file read into memory and loaded; `bytes` must outlive `module`. */
struct cli_loaded {
    uint8_t *bytes;
    size_t len;
    struct sbx_module *module;
};

/* Reads and loads (decodes + validates) `path`. On failure prints
 * "sbx: PATH: ..." to stderr and returns -1. */
int cli_load(const char *path, struct cli_loaded *out);
void cli_unload(struct cli_loaded *l);

/* Output of `sbx inspect`, as text or as JSON. Return 0, or -1 if writing
 * failed. */
int cli_inspect_text(FILE *out, const char *path, const struct sbx_module *m);
int cli_inspect_json(FILE *out, const char *path, const struct sbx_module *m);

/* -- Describing module parts (cli_describe.c) -- */

/* Name of a section id ("type", "code", ...; "custom" for 0). */
const char *cli_section_name(uint8_t id);

/* A constant expression as wasm text, e.g. "i32.const 66560". */
void cli_describe_const(const struct sbx_const_expr *e, char *buf, size_t size);

/* Writes a name in double quotes, escaping quotes, backslashes and control
 * bytes (names are UTF-8 but may hold any code point, NUL included). */
void cli_print_name(FILE *out, struct sbx_name name);

/* Writes a function type as "(i32, i64) -> (f32)". */
void cli_print_functype(FILE *out, const struct sbx_functype *t);

#endif
