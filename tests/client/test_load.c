/* tests/client/test_load.c: loading: small modules travel inline, large
 * ones as a sealed memfd of the right size (checked by the server side),
 * files read by the client, paths opened by the server; the module's
 * exports come back typed; unload; server errors become errno values. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc/memfd.h"
#include "tests/client/fake_server.h"

#define BIG (200u * 1024) /* over the 64 KiB inline limit */

static uint8_t *pattern(size_t len)
{
    uint8_t *p = malloc(len);
    cr_assert_not_null(p);
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(i * 7 + (i >> 8));
    return p;
}

/* Answers LoadModule with FAKE_MODULE_ID and one export
 * add(i32, i32) -> i32 and one import env.log(i32). */
static void send_loaded(struct fake *f, uint64_t id)
{
    Sbx__Response r;
    Sbx__ModuleLoaded ml;
    Sbx__Export ex, *exs[1] = {&ex};
    Sbx__Import im, *ims[1] = {&im};
    Sbx__ExternType et, it;
    Sbx__FuncType ft, ift;
    Sbx__ValType params[2] = {SBX__VAL_TYPE__VALTYPE_I32, SBX__VAL_TYPE__VALTYPE_I32};
    Sbx__ValType results[1] = {SBX__VAL_TYPE__VALTYPE_I32};
    sbx__response__init(&r);
    sbx__module_loaded__init(&ml);
    sbx__export__init(&ex);
    sbx__import__init(&im);
    sbx__extern_type__init(&et);
    sbx__extern_type__init(&it);
    sbx__func_type__init(&ft);
    sbx__func_type__init(&ift);
    r.has_id = 1;
    r.id = id;
    r.body_case = SBX__RESPONSE__BODY_MODULE_LOADED;
    r.module_loaded = &ml;
    ml.module_id = FAKE_MODULE_ID;
    ml.has_already_loaded = 1;
    ml.already_loaded = 1;
    ml.n_exports = 1;
    ml.exports = exs;
    ml.n_imports = 1;
    ml.imports = ims;
    ex.name = "add";
    ex.type = &et;
    et.has_kind = 1;
    et.kind = SBX__EXTERN_KIND__EXTERN_FUNC;
    et.func = &ft;
    ft.n_params = 2;
    ft.params = params;
    ft.n_results = 1;
    ft.results = results;
    im.module = "env";
    im.name = "log";
    im.type = &it;
    it.has_kind = 1;
    it.kind = SBX__EXTERN_KIND__EXTERN_FUNC;
    it.func = &ift;
    ift.n_params = 1;
    ift.params = params;
    fake_send(f, &r);
}

/* Receives one LoadModule; records how the module came (ints[0]: the
 * source case, ints[1]: fds, u64[0]: size, ints[2]: 1 if the bytes equal
 * pattern(size), ints[3]: 1 if a memfd passed sbx_memfd_check, text: name,
 * ints[4]: detach) and answers with send_loaded. */
static void script_load(struct fake *f)
{
    if (!fake_handshake(f)) return;
    int fds[SBX_IPC_MAX_FDS];
    size_t nfds;
    Sbx__Request *req = fake_recv(f, fds, &nfds);
    if (!req) return;
    if (req->body_case != SBX__REQUEST__BODY_LOAD_MODULE) {
        fake_failed(f, "expected LoadModule");
        goto out;
    }
    Sbx__LoadModule *lm = req->load_module;
    f->ints[0] = lm->source_case;
    f->ints[1] = (int)nfds;
    f->ints[4] = lm->detach;
    snprintf(f->text, sizeof(f->text), "%s", lm->name ? lm->name : "(none)");
    uint8_t *expect = NULL;
    if (lm->source_case == SBX__LOAD_MODULE__SOURCE_INLINE_BYTES) {
        f->u64[0] = lm->inline_bytes.len;
        expect = pattern(lm->inline_bytes.len);
        f->ints[2] = memcmp(expect, lm->inline_bytes.data, lm->inline_bytes.len) == 0;
    } else if (lm->source_case == SBX__LOAD_MODULE__SOURCE_MEMFD) {
        f->u64[0] = lm->memfd->size;
        f->ints[3] = sbx_memfd_check(fds[lm->memfd->fd_index], lm->memfd->size,
                                     SBX_IPC_MAX_MODULE_BYTES) == 0;
        uint8_t *got = malloc(lm->memfd->size);
        expect = pattern(lm->memfd->size);
        if (got && sbx_memfd_read(fds[lm->memfd->fd_index], lm->memfd->size,
                                  SBX_IPC_MAX_MODULE_BYTES, got) == 0)
            f->ints[2] = memcmp(expect, got, lm->memfd->size) == 0;
        free(got);
    } else {
        snprintf(f->text, sizeof(f->text), "%s", lm->path);
    }
    free(expect);
    send_loaded(f, req->id);
out:
    sbx_ipc_close_fds(fds, nfds);
    sbx_ipc_free(&req->base);
}

Test(load, small_module_travels_inline)
{
    int before = count_fds();
    struct fake f;
    struct sbx_client *c = fake_connect(&f, script_load);
    uint8_t *bytes = pattern(1000);
    char id[SBX_MODULE_ID_SIZE];
    struct sbx_module_info *info;
    struct sbx_client_error err;
    struct sbx_load_options o = {.name = "adder", .detach = true};
    int rc = sbx_load(c, bytes, 1000, &o, id, &info, &err);
    cr_assert_eq(rc, 0, "%d %s", rc, err.message);
    sbx_disconnect(c);
    fake_join(&f);
    cr_assert_str_empty(f.failure, "%s", f.failure);
    cr_assert_eq(f.ints[0], SBX__LOAD_MODULE__SOURCE_INLINE_BYTES);
    cr_assert_eq(f.ints[1], 0, "no fds");
    cr_assert_eq(f.u64[0], 1000);
    cr_assert_eq(f.ints[2], 1, "the server got the same bytes");
    cr_assert_str_eq(f.text, "adder");
    cr_assert_eq(f.ints[4], 1, "detach");
    cr_assert_str_eq(id, FAKE_MODULE_ID);
    cr_assert_str_eq(info->module_id, FAKE_MODULE_ID);
    cr_assert(info->already_loaded);
    cr_assert_eq(info->nexports, 1);
    cr_assert_str_eq(info->exports[0].name, "add");
    cr_assert_null(info->exports[0].module);
    cr_assert_eq(info->exports[0].kind, SBX_ITEM_FUNC);
    cr_assert_eq(info->exports[0].nparams, 2);
    cr_assert_eq(info->exports[0].params[1], SBX_TYPE_I32);
    cr_assert_eq(info->exports[0].nresults, 1);
    cr_assert_eq(info->exports[0].results[0], SBX_TYPE_I32);
    cr_assert_eq(info->nimports, 1);
    cr_assert_str_eq(info->imports[0].module, "env");
    cr_assert_str_eq(info->imports[0].name, "log");
    cr_assert_eq(info->imports[0].nparams, 1);
    cr_assert_eq(info->imports[0].nresults, 0);
    sbx_module_info_free(info);
    free(bytes);
    cr_assert_eq(count_fds(), before);
}

Test(load, large_module_travels_as_a_sealed_memfd)
{
    int before = count_fds();
    struct fake f;
    struct sbx_client *c = fake_connect(&f, script_load);
    uint8_t *bytes = pattern(BIG);
    char id[SBX_MODULE_ID_SIZE];
    struct sbx_client_error err;
    int rc = sbx_load(c, bytes, BIG, NULL, id, NULL, &err);
    cr_assert_eq(rc, 0, "%d %s", rc, err.message);
    fake_join(&f);
    cr_assert_str_empty(f.failure, "%s", f.failure);
    cr_assert_eq(f.ints[0], SBX__LOAD_MODULE__SOURCE_MEMFD);
    cr_assert_eq(f.ints[1], 1, "one fd");
    cr_assert_eq(f.u64[0], BIG, "MemfdRef.size is the module's size");
    cr_assert_eq(f.ints[3], 1, "sealed, and of the declared size");
    cr_assert_eq(f.ints[2], 1, "the memfd holds the module");
    cr_assert_str_eq(f.text, "(none)");
    cr_assert_str_eq(id, FAKE_MODULE_ID);
    sbx_disconnect(c);
    free(bytes);
    cr_assert_eq(count_fds(), before, "the client closed its memfd");
}

static void load_file_of(size_t len, int source_case)
{
    char path[] = "/tmp/sbx-client-module-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    uint8_t *bytes = pattern(len);
    cr_assert_eq(write(fd, bytes, len), (ssize_t)len);
    close(fd);
    free(bytes);
    int before = count_fds();
    struct fake f;
    struct sbx_client *c = fake_connect(&f, script_load);
    char id[SBX_MODULE_ID_SIZE];
    struct sbx_client_error err;
    int rc = sbx_load_file(c, path, NULL, id, NULL, &err);
    cr_assert_eq(rc, 0, "%d %s", rc, err.message);
    fake_join(&f);
    sbx_disconnect(c);
    unlink(path);
    cr_assert_str_empty(f.failure, "%s", f.failure);
    cr_assert_eq(f.ints[0], source_case);
    cr_assert_eq(f.u64[0], len);
    cr_assert_eq(f.ints[2], 1, "same bytes");
    if (source_case == SBX__LOAD_MODULE__SOURCE_MEMFD) cr_assert_eq(f.ints[3], 1, "sealed");
    cr_assert_eq(count_fds(), before);
}

Test(load, small_file_inline)
{
    load_file_of(4096, SBX__LOAD_MODULE__SOURCE_INLINE_BYTES);
}

Test(load, large_file_as_memfd)
{
    load_file_of(BIG + 3, SBX__LOAD_MODULE__SOURCE_MEMFD);
}

Test(load, missing_file)
{
    struct fake f;
    struct sbx_client *c = fake_connect(&f, script_load);
    char id[SBX_MODULE_ID_SIZE];
    struct sbx_client_error err;
    cr_assert_eq(sbx_load_file(c, "/nonexistent.wasm", NULL, id, NULL, &err), -ENOENT);
    cr_assert_eq(err.code, SBX_ERROR_SYSTEM);
    sbx_disconnect(c); /* the script sees end of stream */
    fake_join(&f);
}

Test(load, path_is_opened_by_the_server)
{
    struct fake f;
    struct sbx_client *c = fake_connect(&f, script_load);
    char id[SBX_MODULE_ID_SIZE];
    struct sbx_client_error err;
    cr_assert_eq(sbx_load_path(c, "relative.wasm", NULL, id, NULL, &err), -EINVAL);
    int rc = sbx_load_path(c, "/srv/modules/a.wasm", NULL, id, NULL, &err);
    cr_assert_eq(rc, 0, "%d %s", rc, err.message);
    fake_join(&f);
    sbx_disconnect(c);
    cr_assert_str_empty(f.failure, "%s", f.failure);
    cr_assert_eq(f.ints[0], SBX__LOAD_MODULE__SOURCE_PATH);
    cr_assert_str_eq(f.text, "/srv/modules/a.wasm");
}

static void script_invalid_module_then_unload(struct fake *f)
{
    if (!fake_handshake(f)) return;
    Sbx__Request *req = fake_expect(f, SBX__REQUEST__BODY_LOAD_MODULE);
    if (!req) return;
    fake_send_error(f, req->id, SBX__ERROR_CODE__INVALID_MODULE,
                    "error at offset 0x1a in function 7: type mismatch");
    sbx_ipc_free(&req->base);
    req = fake_expect(f, SBX__REQUEST__BODY_UNLOAD_MODULE);
    if (!req) return;
    snprintf(f->text, sizeof(f->text), "%s", req->unload_module->module_id);
    f->ints[0] = req->unload_module->detached;
    fake_send_ack(f, req->id);
    sbx_ipc_free(&req->base);
    req = fake_expect(f, SBX__REQUEST__BODY_UNLOAD_MODULE);
    if (!req) return;
    fake_send_error(f, req->id, SBX__ERROR_CODE__UNKNOWN_MODULE, "no such module");
    sbx_ipc_free(&req->base);
}

Test(load, server_errors_map_to_errno_and_the_connection_goes_on)
{
    struct fake f;
    struct sbx_client *c = fake_connect(&f, script_invalid_module_then_unload);
    char id[SBX_MODULE_ID_SIZE] = "x";
    struct sbx_module_info *info = (void *)1;
    struct sbx_client_error err;
    int rc = sbx_load(c, "\0asm", 4, NULL, id, &info, &err);
    cr_assert_eq(rc, -ENOEXEC);
    cr_assert_eq(err.code, SBX_ERROR_INVALID_MODULE);
    cr_assert(strstr(err.message, "INVALID_MODULE: error at offset 0x1a"), "%s", err.message);
    cr_assert_null(info);
    cr_assert_str_empty(id);
    cr_assert_eq(sbx_unload(c, FAKE_MODULE_ID, true, &err), 0, "%s", err.message);
    cr_assert_eq(err.code, SBX_ERROR_NONE);
    cr_assert_eq(sbx_unload(c, FAKE_MODULE_ID, false, &err), -ENOENT);
    cr_assert_eq(err.code, SBX_ERROR_UNKNOWN_MODULE);
    cr_assert_eq(sbx_unload(c, "not-an-id", false, &err), -EINVAL);
    cr_assert_eq(err.code, SBX_ERROR_INVALID_ARGUMENT);
    fake_join(&f);
    sbx_disconnect(c);
    cr_assert_str_empty(f.failure, "%s", f.failure);
    cr_assert_str_eq(f.text, FAKE_MODULE_ID);
    cr_assert_eq(f.ints[0], 1);
}
