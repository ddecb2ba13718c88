/* What the decoder records, as `sbx inspect` and later stages read it:
 * imports and exports of every kind, index spaces with imports first,
 * globals' initialisers, start, segments, and the section list with custom
 * section names. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/wasm_build.h"

static void assert_name(struct sbx_name n, const char *want)
{
    size_t len = strlen(want);
    cr_assert(n.len == len && memcmp(n.ptr, want, len) == 0, "name is \"%.*s\", expected \"%s\"",
              (int)n.len, n.ptr, want);
}

static uint8_t *bytes;
static struct sbx_module *m;

static void load_fields(void)
{
    size_t len;
    bytes = t_read_test_wasm("fields", &len);
    m = t_expect_load(bytes, len);
}

static void unload(void)
{
    if (m) sbx_module_free(m);
    free(bytes);
}

TestSuite(fields, .init = load_fields, .fini = unload);

Test(fields, imports)
{
    cr_assert_eq(m->nimports, 5);
    const struct sbx_import *im = m->imports;
    assert_name(im[0].module, "env");
    assert_name(im[0].name, "f");
    cr_assert_eq(im[0].kind, SBX_EXTERN_FUNC);
    cr_assert_eq(im[0].u.func_type, 0);

    assert_name(im[1].name, "mem");
    cr_assert_eq(im[1].kind, SBX_EXTERN_MEMORY);
    cr_assert_eq(im[1].u.memory.min, 1);
    cr_assert(im[1].u.memory.has_max);
    cr_assert_eq(im[1].u.memory.max, 2);

    assert_name(im[2].name, "tab");
    cr_assert_eq(im[2].kind, SBX_EXTERN_TABLE);
    cr_assert_eq(im[2].u.table.elem_type, SBX_FUNCREF);
    cr_assert_eq(im[2].u.table.limits.min, 3);
    cr_assert_not(im[2].u.table.limits.has_max);

    assert_name(im[3].name, "g");
    cr_assert_eq(im[3].kind, SBX_EXTERN_GLOBAL);
    cr_assert_eq(im[3].u.global.type, SBX_I32);
    cr_assert(im[3].u.global.mutable_);

    assert_name(im[4].module, "\xe2\x98\x83"); /* U+2603, as UTF-8 */
    assert_name(im[4].name, "");
    cr_assert_eq(im[4].u.global.type, SBX_F64);
    cr_assert_not(im[4].u.global.mutable_);
}

Test(fields, exports)
{
    static const struct {
        const char *name;
        uint8_t kind;
        uint32_t index;
    } want[] = {
        {"run", SBX_EXTERN_FUNC, 2},    {"memory", SBX_EXTERN_MEMORY, 0},
        {"table", SBX_EXTERN_TABLE, 1}, {"k", SBX_EXTERN_GLOBAL, 2},
        {"f", SBX_EXTERN_FUNC, 0},
    };
    cr_assert_eq(m->nexports, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_name(m->exports[i].name, want[i].name);
        cr_assert_eq(m->exports[i].kind, want[i].kind, "export %zu", i);
        cr_assert_eq(m->exports[i].index, want[i].index, "export %zu", i);
    }
}

Test(fields, index_spaces_put_imports_first)
{
    cr_assert_eq(m->ntypes, 3);
    cr_assert_eq(m->nfuncs, 3);
    cr_assert_eq(m->nfunc_imports, 1);
    cr_assert_eq(m->func_types[0], 0);
    cr_assert_eq(m->func_types[1], 1);
    cr_assert_eq(m->func_types[2], 2);
    const struct sbx_functype *t = sbx_module_func_type(m, 0);
    cr_assert_eq(t->nparams, 2);
    cr_assert_eq(t->params[0], SBX_I32);
    cr_assert_eq(t->params[1], SBX_I64);
    cr_assert_eq(t->nresults, 1);
    cr_assert_eq(t->results[0], SBX_F32);

    cr_assert_eq(m->ntables, 2);
    cr_assert_eq(m->ntable_imports, 1);
    cr_assert_eq(m->tables[0].elem_type, SBX_FUNCREF);
    cr_assert_eq(m->tables[1].elem_type, SBX_EXTERNREF);
    cr_assert_eq(m->tables[1].limits.min, 1);
    cr_assert_eq(m->tables[1].limits.max, 10);

    cr_assert_eq(m->nmemories, 1);
    cr_assert_eq(m->nmemory_imports, 1);
    cr_assert_eq(m->memories[0].min, 1);
    cr_assert_eq(m->memories[0].max, 2);
}

Test(fields, globals)
{
    cr_assert_eq(m->nglobals, 4);
    cr_assert_eq(m->nglobal_imports, 2);
    cr_assert_eq(m->globals[0].type.type, SBX_I32);
    cr_assert(m->globals[0].type.mutable_);
    cr_assert_eq(m->globals[2].type.type, SBX_I64);
    cr_assert_eq(m->globals[2].init.kind, SBX_CONST_I64);
    cr_assert_eq((int64_t)m->globals[2].init.u.i64, -5);
    cr_assert_eq(m->globals[3].type.type, SBX_F64);
    cr_assert(m->globals[3].type.mutable_);
    cr_assert_eq(m->globals[3].init.kind, SBX_CONST_GLOBAL_GET);
    cr_assert_eq(m->globals[3].init.u.index, 1);
}

Test(fields, start_and_segments)
{
    cr_assert(m->has_start);
    cr_assert_eq(m->start, 1);

    cr_assert_eq(m->nelems, 1);
    const struct sbx_elem_segment *e = &m->elems[0];
    cr_assert_eq(e->mode, SBX_SEG_ACTIVE);
    cr_assert_eq(e->table, 0);
    cr_assert_eq(e->offset.kind, SBX_CONST_I32);
    cr_assert_eq(e->offset.u.i32, 0);
    cr_assert_eq(e->count, 2);
    cr_assert_eq(e->items[0].kind, SBX_CONST_REF_FUNC);
    cr_assert_eq(e->items[0].u.index, 2);
    cr_assert_eq(e->items[1].u.index, 0);
    cr_assert(m->func_declared[0] && m->func_declared[2]);

    cr_assert_eq(m->ndatas, 2);
    cr_assert_eq(m->datas[0].mode, SBX_SEG_ACTIVE);
    cr_assert_eq(m->datas[0].offset.u.i32, 16);
    cr_assert(m->datas[0].len == 5 && memcmp(m->datas[0].bytes, "hello", 5) == 0);
    cr_assert_eq(m->datas[1].mode, SBX_SEG_PASSIVE);
    cr_assert(m->datas[1].len == 7 && memcmp(m->datas[1].bytes, "passive", 7) == 0);
}

static size_t uleb_len(size_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

Test(fields, sections_cover_the_file)
{
    static const uint8_t ids[] = {SEC_TYPE,   SEC_IMPORT, SEC_FUNCTION, SEC_TABLE, SEC_GLOBAL,
                                  SEC_EXPORT, SEC_START,  SEC_ELEMENT,  SEC_CODE,  SEC_DATA};
    cr_assert_eq(m->nsections, sizeof ids);
    size_t at = 8;
    for (uint32_t i = 0; i < m->nsections; i++) {
        const struct sbx_section_info *s = &m->sections[i];
        cr_assert_eq(s->id, ids[i], "section %u", i);
        at += 1 + uleb_len(s->size); /* id and size field */
        cr_assert_eq(s->offset, at, "section %u", i);
        at += s->size;
    }
    cr_assert_eq(at, m->size);
}

Test(custom_sections, names_offsets_and_name_section)
{
    /* clang-format off */
    static const uint8_t mod[] = {
        WASM_HEADER,
        SEC_CUSTOM, 0x09, 0x05, 'h', 'e', 'l', 'l', 'o', 0x01, 0x02, 0x03, /* contents at 10 */
        SEC_TYPE, 0x01, 0x00,                                              /* contents at 21 */
        SEC_CUSTOM, 0x0b, 0x04, 'n', 'a', 'm', 'e',                        /* contents at 24 */
        0x00, 0x04, 0x03, 'a', 'b', 'c', /* module name subsection, at 29 */
    };
    /* clang-format on */
    struct sbx_module *cm = t_expect_load(mod, sizeof mod);
    cr_assert_eq(cm->nsections, 3);
    cr_assert_eq(cm->sections[0].id, SEC_CUSTOM);
    cr_assert_eq(cm->sections[0].offset, 10);
    cr_assert_eq(cm->sections[0].size, 9);
    assert_name(cm->sections[0].custom_name, "hello");
    cr_assert_eq(cm->sections[1].id, SEC_TYPE);
    cr_assert_eq(cm->sections[1].offset, 21);
    cr_assert_eq(cm->sections[1].size, 1);
    cr_assert_eq(cm->sections[2].id, SEC_CUSTOM);
    cr_assert_eq(cm->sections[2].offset, 24);
    assert_name(cm->sections[2].custom_name, "name");
    cr_assert_eq(cm->name_section, mod + 29);
    cr_assert_eq(cm->name_section_size, 6);
    cr_assert_eq(cm->size, sizeof mod);
    sbx_module_free(cm);
}

Test(custom_sections, name_must_be_utf8)
{
    /* A custom section whose name is the lone byte 0xff. */
    EXPECT_REJECT(SIZE_MAX, "malformed UTF-8 encoding", WASM_HEADER, SEC_CUSTOM, 0x02, 0x01, 0xff);
}

/* Regression (found by fuzz_load, artifact crash-fc19007c): like the
 * reference interpreter, a section size is checked against the bytes left
 * before its own size field, so it may overshoot the end by that field's
 * length. A custom section's payload must then still end inside the module
 * ("unexpected end", as the reference interpreter's payload read fails). It
 * used to load, and a "name" section reached past the caller's buffer. */
Test(custom_sections, payload_past_the_end_is_rejected)
{
    EXPECT_REJECT(SIZE_MAX, "unexpected end", WASM_HEADER, SEC_CUSTOM, 0x03, 0x01, 'a');
    EXPECT_REJECT(SIZE_MAX, "unexpected end", WASM_HEADER, SEC_CUSTOM, 0x07, 0x04, 'n', 'a', 'm',
                  'e', 0x00);
    /* Other sections are caught by the size check after their contents. */
    EXPECT_REJECT(SIZE_MAX, "section size mismatch", WASM_HEADER, SEC_TYPE, 0x02, 0x00);
}
