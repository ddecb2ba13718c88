/* Policy files: the example and the defaults, every kind of mistake (each
 * error names the field path), hostile inputs (huge, deeply nested, long
 * arrays, wrong types), the printed form reading back as the same policy,
 * and narrowing: a request may narrow the base, never widen it. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/policy.h"

static Sbx__Policy *parse_ok(const char *json)
{
    Sbx__Policy *p = NULL;
    struct sbx_policy_error err;
    cr_assert_eq(sbx_policy_from_json(json, strlen(json), &p, &err), 0, "%s: %s", json, err.msg);
    return p;
}

static void parse_err(const char *json, const char *expected)
{
    Sbx__Policy *p = NULL;
    struct sbx_policy_error err;
    cr_assert_eq(sbx_policy_from_json(json, strlen(json), &p, &err), -1, "accepted: %s", json);
    cr_assert_null(p);
    cr_expect_str_eq(err.msg, expected, "for %s", json);
}

Test(policy_file, example_loads_and_resolves)
{
    Sbx__Policy *p, *eff;
    struct sbx_policy_error err;
    cr_assert_eq(sbx_policy_from_file(SBX_EXAMPLE_POLICY, &p, &err), 0, "%s", err.msg);
    cr_assert_eq(sbx_policy_resolve(p, &eff, &err), 0, "%s", err.msg);
    cr_expect_eq(eff->limits->timeout_ms, 5000);
    cr_expect_eq(eff->limits->max_table_elements, 10000, "a default filled in");
    cr_expect_eq(eff->n_preopens, 2);
    cr_expect(eff->preopens[0]->read_only);
    cr_expect(!eff->preopens[1]->read_only);
    cr_expect(eff->namespaces->net->enabled && eff->namespaces->net->optional);
    cr_expect(!eff->namespaces->pid->enabled);
    sbx_policy_free(p);
    sbx_policy_free(eff);
}

Test(policy_file, defaults_are_safe)
{
    Sbx__Policy *d = sbx_policy_default();
    cr_assert_not_null(d);
    cr_expect(d->limits->has_timeout_ms && d->limits->timeout_ms == 10000);
    cr_expect(d->limits->has_max_memory_bytes && d->limits->max_memory_bytes == 256u << 20);
    cr_expect(d->limits->has_cpu_seconds && d->limits->has_max_open_fds);
    cr_expect(!d->limits->has_fuel, "fuel: unmetered unless asked");
    cr_expect_eq(d->n_preopens, 0);
    cr_expect_eq(d->n_env, 0);
    cr_expect_eq(d->syscalls->n_allow, 0);
    cr_expect(!d->namespaces->net->enabled);
    struct sbx_policy_error err;
    cr_expect_eq(sbx_policy_validate(d, &err), 0);
    /* The empty file is the default policy. */
    Sbx__Policy *e = parse_ok("{}"), *eff;
    cr_assert_eq(sbx_policy_resolve(e, &eff, &err), 0);
    char *a = sbx_policy_to_json(d), *b = sbx_policy_to_json(eff);
    cr_expect_str_eq(a, b);
    free(a), free(b);
    sbx_policy_free(d), sbx_policy_free(e), sbx_policy_free(eff);
}

Test(policy_file, printed_form_reads_back)
{
    Sbx__Policy *p, *eff;
    struct sbx_policy_error err;
    cr_assert_eq(sbx_policy_from_file(SBX_EXAMPLE_POLICY, &p, &err), 0, "%s", err.msg);
    cr_assert_eq(sbx_policy_resolve(p, &eff, &err), 0, "%s", err.msg);
    char *text = sbx_policy_to_json(eff);
    Sbx__Policy *again = parse_ok(text);
    char *text2 = sbx_policy_to_json(again);
    cr_expect_str_eq(text, text2);
    free(text), free(text2);
    sbx_policy_free(p), sbx_policy_free(eff), sbx_policy_free(again);
}

Test(policy_file, unknown_fields)
{
    parse_err("{\"limit\": {}}", "limit: unknown field");
    parse_err("{\"limits\": {\"timeout\": 5}}", "limits.timeout: unknown field");
    parse_err("{\"preopens\": [{\"host_path\": \"/a\", \"guest_path\": \"a\", \"rw\": true}]}",
              "preopens[0].rw: unknown field");
    parse_err("{\"namespaces\": {\"cgroup\": {\"enabled\": true}}}",
              "namespaces.cgroup: unknown field");
}

Test(policy_file, wrong_types)
{
    parse_err("[]", "policy: must be an object, not an array");
    parse_err("{\"limits\": 5}", "limits: must be an object, not an integer");
    parse_err("{\"limits\": {\"timeout_ms\": \"5000\"}}",
              "limits.timeout_ms: must be an integer, not a string");
    parse_err("{\"limits\": {\"timeout_ms\": 1.5}}",
              "limits.timeout_ms: must be an integer, not a fraction");
    parse_err("{\"limits\": {\"timeout_ms\": null}}",
              "limits.timeout_ms: must be an integer, not null");
    parse_err("{\"env\": \"A=1\"}", "env: must be an array, not a string");
    parse_err("{\"env\": [1]}", "env[0]: must be a string, not an integer");
    parse_err("{\"preopens\": [{\"host_path\": \"/a\", \"guest_path\": \"a\", \"read_only\": 1}]}",
              "preopens[0].read_only: must be true or false, not an integer");
    parse_err("{\"syscalls\": {\"allow\": [\"sockets\"]}}",
              "syscalls.allow[0]: unknown value \"sockets\" (one of: SYSCALL_GROUP_SOCKETS)");
    parse_err("{\"syscalls\": {\"allow\": [\"SYSCALL_GROUP_UNSPECIFIED\"]}}",
              "syscalls.allow[0]: unknown value \"SYSCALL_GROUP_UNSPECIFIED\" (one of: "
              "SYSCALL_GROUP_SOCKETS)");
    parse_err("{\"env\": [\"A=\\u0000B\"]}", "env[0]: must not contain a NUL character");
}

Test(policy_file, out_of_range)
{
    parse_err("{\"limits\": {\"timeout_ms\": 0}}",
              "limits.timeout_ms: must be between 1 and 86400000");
    parse_err("{\"limits\": {\"timeout_ms\": 86400001}}",
              "limits.timeout_ms: must be between 1 and 86400000");
    parse_err("{\"limits\": {\"timeout_ms\": -1}}", "limits.timeout_ms: must not be negative");
    parse_err("{\"limits\": {\"max_memory_bytes\": 4294967297}}",
              "limits.max_memory_bytes: must be between 65536 and 4294967296");
    parse_err("{\"limits\": {\"fuel\": 18446744073709551615}}",
              "limits.fuel: must be between 1 and 9223372036854775807");
    /* json-c saturates beyond 2^64-1; the range check still refuses it. */
    parse_err("{\"limits\": {\"fuel\": 99999999999999999999999}}",
              "limits.fuel: must be between 1 and 9223372036854775807");
    parse_err("{\"limits\": {\"max_open_fds\": 3}}",
              "limits.max_open_fds: must be between 4 and 65536");
    Sbx__Policy *p = parse_ok("{\"limits\": {\"timeout_ms\": 86400000, \"max_output_bytes\": 0}}");
    sbx_policy_free(p);
}

Test(policy_file, strings_and_paths)
{
    parse_err("{\"env\": [\"NOEQUALS\"]}", "env[0]: must have the form KEY=VALUE");
    parse_err("{\"env\": [\"=v\"]}", "env[0]: the key before '=' must not be empty");
    parse_err("{\"preopens\": [{\"host_path\": \"srv\", \"guest_path\": \"a\"}]}",
              "preopens[0].host_path: must be an absolute path");
    parse_err("{\"preopens\": [{\"host_path\": \"/srv/../etc\", \"guest_path\": \"a\"}]}",
              "preopens[0].host_path: must not contain a \"..\" component");
    parse_err("{\"preopens\": [{\"host_path\": \"/srv/./x\", \"guest_path\": \"a\"}]}",
              "preopens[0].host_path: must not contain a \".\" component");
    parse_err("{\"preopens\": [{\"host_path\": \"/srv//x\", \"guest_path\": \"a\"}]}",
              "preopens[0].host_path: must not contain an empty component");
    parse_err("{\"preopens\": [{\"host_path\": \"/srv\", \"guest_path\": \"../x\"}]}",
              "preopens[0].guest_path: must not contain a \"..\" component");
    parse_err("{\"preopens\": [{\"guest_path\": \"a\"}]}", "preopens[0].host_path: required");
    parse_err("{\"preopens\": [{\"host_path\": \"/a\"}]}", "preopens[0].guest_path: required");
}

Test(policy_file, contradictions)
{
    parse_err("{\"namespaces\": {\"net\": {\"optional\": true}}}",
              "namespaces.net.optional: true without namespaces.net.enabled");
    parse_err("{\"env\": [\"A=1\", \"B=2\", \"A=3\"]}", "env[2]: key \"A\" already set by env[0]");
    parse_err("{\"preopens\": [{\"host_path\": \"/a\", \"guest_path\": \"x\"}, "
              "{\"host_path\": \"/b\", \"guest_path\": \"x\"}]}",
              "preopens[1].guest_path: \"x\" is already preopens[0].guest_path");
    parse_err("{\"limits\": {\"max_open_fds\": 5}, \"preopens\": [{\"host_path\": \"/a\", "
              "\"guest_path\": \"x\"}, {\"host_path\": \"/b\", \"guest_path\": \"y\"}]}",
              "limits.max_open_fds: 5 is below the 6 fds the worker holds (stdio, report "
              "channel and 2 preopens)");
    parse_err("{\"syscalls\": {\"allow\": [\"SYSCALL_GROUP_SOCKETS\", \"SYSCALL_GROUP_SOCKETS\"]}}",
              "syscalls.allow[1]: SYSCALL_GROUP_SOCKETS is already syscalls.allow[0]");
}

Test(policy_file, syntax)
{
    parse_err("", "invalid JSON: unexpected end of input");
    parse_err("{\"limits\": {}", "invalid JSON: unexpected end of input");
    parse_err("{} {}", "invalid JSON at byte 3: unexpected character");
    parse_err("{\"limits\" {}}", "invalid JSON at byte 10: object property name separator ':' "
                                 "expected");
    parse_err("{\"limits\": {\"timeout_ms\": 00012}}", "invalid JSON at byte 31: number expected");
}

Test(policy_file, hostile_too_large)
{
    size_t len = SBX_POLICY_MAX_FILE_BYTES + 1;
    char *big = malloc(len);
    memset(big, ' ', len);
    big[0] = '{', big[len - 1] = '}';
    Sbx__Policy *p;
    struct sbx_policy_error err;
    cr_assert_eq(sbx_policy_from_json(big, len, &p, &err), -1);
    cr_expect_str_eq(err.msg, "policy larger than 1048576 bytes");
    /* And through a file: the reader stops after the cap. */
    char path[] = "/tmp/sbx-policy-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(write(fd, big, len), (ssize_t)len);
    close(fd);
    cr_assert_eq(sbx_policy_from_file(path, &p, &err), -1);
    char want[128];
    snprintf(want, sizeof want, "%s: larger than 1048576 bytes", path);
    cr_expect_str_eq(err.msg, want);
    unlink(path);
    free(big);
}

Test(policy_file, hostile_deep_nesting)
{
    /* 100,000 nested arrays: refused by the tokenizer's depth, no recursion. */
    size_t depth = 100000;
    char *s = malloc(2 * depth + 16);
    size_t n = 0;
    n += (size_t)sprintf(s, "{\"env\": ");
    for (size_t i = 0; i < depth; i++)
        s[n++] = '[';
    for (size_t i = 0; i < depth; i++)
        s[n++] = ']';
    s[n++] = '}';
    Sbx__Policy *p;
    struct sbx_policy_error err;
    cr_assert_eq(sbx_policy_from_json(s, n, &p, &err), -1);
    cr_expect(strstr(err.msg, "nesting too deep"), "%s", err.msg);
    /* Within the depth limit but deeper than the schema: a type error. */
    parse_err("{\"env\": [[[\"A=1\"]]]}", "env[0]: must be a string, not an array");
    free(s);
}

Test(policy_file, hostile_long_array)
{
    size_t count = 200000;
    char *s = malloc(count * 2 + 32);
    size_t n = (size_t)sprintf(s, "{\"args\": [");
    for (size_t i = 0; i < count; i++)
        n += (size_t)sprintf(s + n, "%s1", i ? "," : "");
    n += (size_t)sprintf(s + n, "]}");
    Sbx__Policy *p;
    struct sbx_policy_error err;
    cr_assert_eq(sbx_policy_from_json(s, n, &p, &err), -1);
    cr_expect_str_eq(err.msg, "args: at most 1024 entries, not 200000");
    free(s);
    /* Many long strings under the entry limit: the byte limit. */
    s = malloc(1024 * 80 + 64);
    n = (size_t)sprintf(s, "{\"args\": [");
    for (int i = 0; i < 1024; i++)
        n += (size_t)sprintf(s + n, "%s\"%070d\"", i ? "," : "", i);
    n += (size_t)sprintf(s + n, "]}");
    cr_assert_eq(sbx_policy_from_json(s, n, &p, &err), -1);
    cr_expect_str_eq(err.msg, "env: env and args together exceed 65536 bytes");
    free(s);
}

Test(policy_file, missing_file)
{
    Sbx__Policy *p;
    struct sbx_policy_error err;
    cr_assert_eq(sbx_policy_from_file("/nonexistent/policy.json", &p, &err), -1);
    cr_expect_str_eq(err.msg, "/nonexistent/policy.json: No such file or directory");
}

/* -- Narrowing -- */

static Sbx__Policy *base_policy(void)
{
    Sbx__Policy *file =
        parse_ok("{\"limits\": {\"timeout_ms\": 10000, \"max_memory_bytes\": 1048576},"
                 " \"env\": [\"A=1\"],"
                 " \"preopens\": [{\"host_path\": \"/srv/data\", \"guest_path\": \"/data\", "
                 "\"read_only\": true},"
                 "               {\"host_path\": \"/srv/tmp/\", \"guest_path\": \"/tmp\"}],"
                 " \"namespaces\": {\"net\": {\"enabled\": true}, \"ipc\": {\"enabled\": true, "
                 "\"optional\": true}},"
                 " \"syscalls\": {\"allow\": [\"SYSCALL_GROUP_SOCKETS\"]}}");
    Sbx__Policy *eff;
    struct sbx_policy_error err;
    cr_assert_eq(sbx_policy_resolve(file, &eff, &err), 0, "%s", err.msg);
    sbx_policy_free(file);
    return eff;
}

static Sbx__Policy *narrow_ok(const char *request)
{
    Sbx__Policy *base = base_policy(), *req = parse_ok(request), *eff;
    struct sbx_policy_error err;
    cr_assert_eq(sbx_policy_narrow(base, req, &eff, &err), 0, "%s: %s", request, err.msg);
    sbx_policy_free(base), sbx_policy_free(req);
    return eff;
}

static void narrow_err(const char *request, const char *expected)
{
    Sbx__Policy *base = base_policy(), *req = parse_ok(request), *eff = NULL;
    struct sbx_policy_error err;
    cr_assert_eq(sbx_policy_narrow(base, req, &eff, &err), -1, "accepted %s", request);
    cr_assert_null(eff);
    cr_expect_str_eq(err.msg, expected, "for %s", request);
    sbx_policy_free(base), sbx_policy_free(req);
}

Test(narrow, empty_request_is_the_base)
{
    Sbx__Policy *base = base_policy(), *eff;
    struct sbx_policy_error err;
    cr_assert_eq(sbx_policy_narrow(base, NULL, &eff, &err), 0);
    char *a = sbx_policy_to_json(base), *b = sbx_policy_to_json(eff);
    cr_expect_str_eq(a, b);
    free(a), free(b);
    sbx_policy_free(eff);
    Sbx__Policy *e2 = narrow_ok("{}");
    b = sbx_policy_to_json(e2);
    a = sbx_policy_to_json(base);
    cr_expect_str_eq(a, b);
    free(a), free(b);
    sbx_policy_free(e2), sbx_policy_free(base);
}

Test(narrow, limits)
{
    Sbx__Policy *e = narrow_ok("{\"limits\": {\"timeout_ms\": 500, \"fuel\": 1000}}");
    cr_expect_eq(e->limits->timeout_ms, 500);
    cr_expect(e->limits->has_fuel && e->limits->fuel == 1000, "fuel: absent base is no limit");
    cr_expect_eq(e->limits->max_memory_bytes, 1048576, "kept from the base");
    sbx_policy_free(e);
    narrow_err("{\"limits\": {\"timeout_ms\": 10001}}",
               "limits.timeout_ms: 10001 widens the base policy's 10000");
    narrow_err("{\"limits\": {\"cpu_seconds\": 61}}",
               "limits.cpu_seconds: 61 widens the base policy's 60");
}

Test(narrow, preopens)
{
    Sbx__Policy *e = narrow_ok("{\"preopens\": [{\"host_path\": \"/srv/data/sub\", "
                               "\"guest_path\": \"/d\", \"read_only\": true},"
                               "{\"host_path\": \"/srv/tmp\", \"guest_path\": \"/t\", "
                               "\"read_only\": true}]}");
    cr_expect_eq(e->n_preopens, 2);
    cr_expect_str_eq(e->preopens[0]->host_path, "/srv/data/sub");
    cr_expect(e->preopens[1]->read_only);
    sbx_policy_free(e);
    narrow_err("{\"preopens\": [{\"host_path\": \"/srv/data\", \"guest_path\": \"/d\"}]}",
               "preopens[0].read_only: must be true: the base policy grants /srv/data "
               "read-only");
    narrow_err("{\"preopens\": [{\"host_path\": \"/srv/database\", \"guest_path\": \"/d\", "
               "\"read_only\": true}]}",
               "preopens[0].host_path: /srv/database is not at or beneath a preopen of the "
               "base policy");
    narrow_err("{\"preopens\": [{\"host_path\": \"/\", \"guest_path\": \"/\"}]}",
               "preopens[0].host_path: / is not at or beneath a preopen of the base policy");
}

Test(narrow, namespaces)
{
    Sbx__Policy *e = narrow_ok("{\"namespaces\": {\"pid\": {\"enabled\": true}, \"ipc\": "
                               "{\"optional\": false}}}");
    cr_expect(e->namespaces->pid->enabled && !e->namespaces->pid->optional);
    cr_expect(e->namespaces->ipc->enabled && !e->namespaces->ipc->optional, "made required");
    cr_expect(e->namespaces->net->enabled);
    sbx_policy_free(e);
    narrow_err("{\"namespaces\": {\"net\": {\"enabled\": false}}}",
               "namespaces.net.enabled: false widens the base policy, which enables it");
    narrow_err("{\"namespaces\": {\"net\": {\"enabled\": true, \"optional\": true}}}",
               "namespaces.net.optional: true widens the base policy, which requires it");
}

Test(narrow, syscalls_env_args)
{
    Sbx__Policy *e = narrow_ok("{\"syscalls\": {}, \"env\": [\"B=2\"], \"args\": [\"x\"]}");
    cr_expect_eq(e->syscalls->n_allow, 0, "an empty set drops every group");
    cr_expect_eq(e->n_env, 1);
    cr_expect_str_eq(e->env[0], "B=2");
    cr_expect_str_eq(e->args[0], "x");
    sbx_policy_free(e);
    e = narrow_ok("{\"limits\": {\"timeout_ms\": 5}}");
    cr_expect_eq(e->syscalls->n_allow, 1, "absent: the base's set");
    sbx_policy_free(e);

    Sbx__Policy *strict = sbx_policy_default(),
                *req = parse_ok("{\"syscalls\": {\"allow\": [\"SYSCALL_GROUP_SOCKETS\"]}}"), *eff;
    struct sbx_policy_error err;
    cr_assert_eq(sbx_policy_narrow(strict, req, &eff, &err), -1);
    cr_expect_str_eq(err.msg, "syscalls.allow[0]: SYSCALL_GROUP_SOCKETS widens the base "
                              "policy, which does not allow it");
    sbx_policy_free(strict), sbx_policy_free(req);
}

Test(narrow, result_must_still_be_valid)
{
    /* Narrowing the fd limit below what the base's preopens need. */
    narrow_err("{\"limits\": {\"max_open_fds\": 5}}",
               "limits.max_open_fds: 5 is below the 6 fds the worker holds (stdio, report "
               "channel and 2 preopens)");
}
