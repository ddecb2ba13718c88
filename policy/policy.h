/* The policy model: what one worker may do. A policy is the protobuf message
 * Sbx__Policy (proto/sbx.proto, the one schema), read from JSON files whose
 * field names are the proto's, checked field by field, completed with safe
 * defaults, and narrowed by per-spawn requests. docs/security.md explains
 * how each field is enforced.
 *
 * Contract: functions return 0 or -1; on -1 `err->msg` says what is wrong,
 * starting with the field path ("limits.timeout_ms: must be between 1 and
 * 86400000"). Policies returned to the caller are freed with
 * sbx_policy_free. Nothing here prints or exits. */
#ifndef SBX_POLICY_POLICY_H
#define SBX_POLICY_POLICY_H

#include <stddef.h>

#include "proto/sbx.pb-c.h"

/* Hostile-input bounds of a policy file. A real policy is a few hundred
 * bytes; 1 MiB leaves room for long env lists and is still cheap to parse.
 * The schema nests 3 deep ({"namespaces": {"net": {"enabled": true}}}), so
 * a JSON depth of 8 refuses anything built to exhaust the parser's stack. */
#define SBX_POLICY_MAX_FILE_BYTES (1u << 20)
#define SBX_POLICY_MAX_DEPTH      8
#define SBX_POLICY_MAX_LIST       1024u /* entries of any one JSON array */

struct sbx_policy_error {
    char msg[512];
};

/* Parses a JSON policy (at most SBX_POLICY_MAX_FILE_BYTES) into a partial
 * policy: only the fields the text has are present. The result passed
 * sbx_policy_validate. */
int sbx_policy_from_json(const char *text, size_t len, Sbx__Policy **out,
                         struct sbx_policy_error *err);

/* Reads and parses a policy file; errors name the file. */
int sbx_policy_from_file(const char *path, Sbx__Policy **out, struct sbx_policy_error *err);

/* The built-in default policy, complete: finite memory and time, no
 * preopens, empty env and args, no namespaces, the strict syscall set.
 * NULL only when out of memory. */
Sbx__Policy *sbx_policy_default(void);

/* Checks every present field: ranges, strings, lists, and contradictions
 * between fields. Works on partial and complete policies. */
int sbx_policy_validate(const Sbx__Policy *p, struct sbx_policy_error *err);

/* The effective policy of a policy file: every absent field takes its
 * default (a file may widen the defaults; it is the operator's policy). */
int sbx_policy_resolve(const Sbx__Policy *file, Sbx__Policy **effective,
                       struct sbx_policy_error *err);

/* The effective policy of a request against a complete base policy: absent
 * fields keep the base's; present ones may only narrow it. A widening is an
 * error naming the field ("limits.timeout_ms: 20000 widens the base
 * policy's 10000"). `request` may be NULL (the base itself). */
int sbx_policy_narrow(const Sbx__Policy *base, const Sbx__Policy *request, Sbx__Policy **effective,
                      struct sbx_policy_error *err);

/* The policy as JSON (pretty-printed, fields in proto order, the format
 * sbx_policy_from_json reads). Returns a malloc'd string, NULL when out of
 * memory. */
char *sbx_policy_to_json(const Sbx__Policy *p);

/* A deep copy; NULL when out of memory. */
Sbx__Policy *sbx_policy_copy(const Sbx__Policy *p);

void sbx_policy_free(Sbx__Policy *p);

#endif
