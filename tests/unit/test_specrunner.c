/* The spec runner library against hand-written command lists: it counts
 * each command kind as the README says, reports failures with the .wast
 * line, and treats unreadable input as a failure, never as a pass. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/spec/runner.h"

static char dir[] = "/tmp/sbx-specrunner-XXXXXX";

static void write_file(const char *name, const void *data, size_t len)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert(f, "cannot create %s", path);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void make_dir(void)
{
    cr_assert(mkdtemp(dir));
    static const uint8_t empty_module[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
    static const uint8_t truncated[] = {0x00, 0x61, 0x73, 0x6d};
    write_file("ok.wasm", empty_module, sizeof empty_module);
    write_file("short.wasm", truncated, sizeof truncated);
}

static void remove_dir(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) cr_log_warn("could not remove %s", dir);
}

TestSuite(specrunner, .init = make_dir, .fini = remove_dir);

/* Runs the runner on `json` (written as t.json) and returns its report. */
static char *run(const char *json, bool quiet, struct sbx_spec_totals *t, unsigned long *failed)
{
    write_file("t.json", json, strlen(json));
    char path[256];
    snprintf(path, sizeof path, "%s/t.json", dir);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    cr_assert(out);
    struct sbx_spec_options opts = {.quiet = quiet};
    *failed = sbx_spec_run_file(path, &opts, out, t);
    fclose(out);
    return text;
}

Test(specrunner, counts_every_kind)
{
    const char *json =
        "{\"source_filename\": \"x.wast\", \"commands\": ["
        "{\"type\": \"module\", \"line\": 1, \"filename\": \"ok.wasm\"},"
        "{\"type\": \"assert_malformed\", \"line\": 2, \"filename\": \"short.wasm\","
        " \"text\": \"unexpected end\", \"module_type\": \"binary\"},"
        "{\"type\": \"assert_malformed\", \"line\": 3, \"filename\": \"x.wat\","
        " \"text\": \"unknown operator\", \"module_type\": \"text\"},"
        "{\"type\": \"assert_return\", \"line\": 4, \"action\": {}, \"expected\": []},"
        "{\"type\": \"register\", \"line\": 5, \"as\": \"m\"},"
        "{\"type\": \"assert_unlinkable\", \"line\": 6, \"filename\": \"ok.wasm\","
        " \"text\": \"unknown import\", \"module_type\": \"binary\"}"
        "]}";
    struct sbx_spec_totals t = {0};
    unsigned long failed;
    char *out = run(json, false, &t, &failed);
    cr_assert_eq(failed, 0, "%s", out);
    cr_assert_eq(t.passed, 2);
    cr_assert_eq(t.failed, 0);
    cr_assert_eq(t.skipped, 4);
    cr_assert_eq(t.skipped_exec, 3);
    cr_assert_eq(t.skipped_text, 1);
    cr_assert(strstr(out, "t.json: 2 passed, 0 failed, 4 skipped (3 need execution, 1 text-format, "
                          "0 SIMD)\n"),
              "%s", out);
    free(out);
}

Test(specrunner, wrong_expectations_fail_with_line_numbers)
{
    const char *json = "{\"source_filename\": \"x.wast\", \"commands\": ["
                       "{\"type\": \"assert_invalid\", \"line\": 7, \"filename\": \"ok.wasm\","
                       " \"text\": \"type mismatch\", \"module_type\": \"binary\"},"
                       "{\"type\": \"assert_malformed\", \"line\": 8, \"filename\": \"short.wasm\","
                       " \"text\": \"magic header not detected\", \"module_type\": \"binary\"},"
                       "{\"type\": \"module\", \"line\": 9, \"filename\": \"short.wasm\"},"
                       "{\"type\": \"module\", \"line\": 10, \"filename\": \"missing.wasm\"},"
                       "{\"type\": \"assert_everything\", \"line\": 11}"
                       "]}";
    struct sbx_spec_totals t = {0};
    unsigned long failed;
    char *out = run(json, true, &t, &failed);
    cr_assert_eq(failed, 5, "%s", out);
    cr_assert_eq(t.failed, 5);
    cr_assert_eq(t.passed, 0);
    cr_assert(strstr(out, "x.wast:7: assert_invalid: module ok.wasm loaded"), "%s", out);
    cr_assert(strstr(out, "x.wast:8: assert_malformed: module short.wasm: expected error "
                          "\"magic header not detected\", got: error at offset"),
              "%s", out);
    cr_assert(strstr(out, "x.wast:9: module short.wasm failed to load"), "%s", out);
    cr_assert(strstr(out, "x.wast:10: cannot read"), "%s", out);
    cr_assert(strstr(out, "x.wast:11: unknown command type"), "%s", out);
    free(out);
}

Test(specrunner, quiet_prints_nothing_for_a_passing_file)
{
    const char *json = "{\"commands\": [{\"type\": \"module\", \"line\": 1, \"filename\": "
                       "\"ok.wasm\"}]}";
    struct sbx_spec_totals t = {0};
    unsigned long failed;
    char *out = run(json, true, &t, &failed);
    cr_assert_eq(failed, 0);
    cr_assert_str_eq(out, "");
    free(out);
}

Test(specrunner, unreadable_json_is_a_failure)
{
    struct sbx_spec_totals t = {0};
    unsigned long failed;
    char *out = run("{\"commands\": [", false, &t, &failed);
    cr_assert_eq(failed, 1, "%s", out);
    cr_assert_eq(t.failed, 1);
    free(out);
}

Test(specrunner, totals_line)
{
    struct sbx_spec_totals t = {.passed = 3, .failed = 1, .skipped = 2};
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    sbx_spec_print_totals(out, &t);
    fclose(out);
    cr_assert_str_eq(text, "3 passed, 1 failed, 2 skipped\n");
    free(text);
}
