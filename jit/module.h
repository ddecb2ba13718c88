/* The decoded form of a WebAssembly 2.0 module, and the entry point that
 * decodes and validates one. Everything downstream (the compiler, memimg's
 * image builder, `sbx inspect`) reads this structure; nothing writes it after
 * sbx_module_load returns.
 *
 * A module does not copy the bytes it was loaded from: names, function bodies,
 * data segment contents and custom sections point into the caller's buffer,
 * which must outlive the module. */
#ifndef SBX_JIT_MODULE_H
#define SBX_JIT_MODULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jit/error.h"

/* Value types, by their binary encoding. */
enum sbx_valtype {
    SBX_I32 = 0x7F,
    SBX_I64 = 0x7E,
    SBX_F32 = 0x7D,
    SBX_F64 = 0x7C,
    SBX_V128 = 0x7B,
    SBX_FUNCREF = 0x70,
    SBX_EXTERNREF = 0x6F,
};

/* External kinds, by their binary encoding (imports and exports). */
enum sbx_extern_kind {
    SBX_EXTERN_FUNC = 0,
    SBX_EXTERN_TABLE = 1,
    SBX_EXTERN_MEMORY = 2,
    SBX_EXTERN_GLOBAL = 3,
};

/* A name as it appears in the binary: valid UTF-8, not NUL-terminated. */
struct sbx_name {
    const char *ptr;
    uint32_t len;
};

struct sbx_functype {
    uint32_t nparams;
    uint32_t nresults;
    const uint8_t *params;  /* nparams value types */
    const uint8_t *results; /* nresults value types */
};

struct sbx_limits {
    uint64_t min;
    uint64_t max; /* meaningful only if has_max */
    bool has_max;
};

struct sbx_tabletype {
    uint8_t elem_type; /* SBX_FUNCREF or SBX_EXTERNREF */
    struct sbx_limits limits;
};

struct sbx_globaltype {
    uint8_t type;
    bool mutable_;
};

/* A constant expression. WebAssembly 2.0 allows exactly one instruction
 * (followed by `end`): a constant, global.get of an imported global, ref.null
 * or ref.func. */
enum sbx_const_kind {
    SBX_CONST_I32,
    SBX_CONST_I64,
    SBX_CONST_F32,
    SBX_CONST_F64,
    SBX_CONST_V128,
    SBX_CONST_GLOBAL_GET,
    SBX_CONST_REF_NULL,
    SBX_CONST_REF_FUNC,
};

struct sbx_const_expr {
    uint8_t kind; /* enum sbx_const_kind of the first instruction */
    uint8_t type; /* the value type the expression produces */
    /* The binary may hold any instruction sequence here; the decoder records
     * enough for the validator to reject all but one constant instruction. */
    bool nonconst;    /* some instruction is not a constant instruction */
    uint32_t ninstrs; /* instructions before the final `end` */
    size_t offset;    /* of the first instruction */
    union {
        uint32_t i32;
        uint64_t i64;
        uint32_t f32_bits;
        uint64_t f64_bits;
        uint8_t v128[16];
        uint32_t index; /* global index or function index */
    } u;
};

struct sbx_import {
    size_t offset; /* of the entry in the binary */
    struct sbx_name module;
    struct sbx_name name;
    uint8_t kind; /* enum sbx_extern_kind */
    union {
        uint32_t func_type; /* type index */
        struct sbx_tabletype table;
        struct sbx_limits memory;
        struct sbx_globaltype global;
    } u;
};

struct sbx_export {
    size_t offset; /* of the entry in the binary */
    struct sbx_name name;
    uint8_t kind; /* enum sbx_extern_kind */
    uint32_t index;
};

struct sbx_global {
    struct sbx_globaltype type; /* imported globals: only this is set */
    struct sbx_const_expr init;
};

enum sbx_segment_mode {
    SBX_SEG_ACTIVE,
    SBX_SEG_PASSIVE,
    SBX_SEG_DECLARATIVE, /* element segments only */
};

struct sbx_elem_segment {
    uint8_t mode;                 /* enum sbx_segment_mode */
    uint8_t elem_type;            /* SBX_FUNCREF or SBX_EXTERNREF */
    uint32_t table;               /* active only */
    struct sbx_const_expr offset; /* active only; i32 */
    uint32_t count;
    struct sbx_const_expr *items; /* ref.func, ref.null or global.get each */
};

struct sbx_data_segment {
    uint8_t mode; /* SBX_SEG_ACTIVE or SBX_SEG_PASSIVE */
    uint32_t memory;
    struct sbx_const_expr offset; /* active only; i32 */
    const uint8_t *bytes;
    uint32_t len;
};

/* A run of `count` locals of one type, as the code section declares them. */
struct sbx_local_run {
    uint32_t count;
    uint8_t type;
};

/* A function defined in this module (not imported). */
struct sbx_func_body {
    uint32_t nlocal_runs;
    struct sbx_local_run *local_runs;
    uint32_t nlocals;        /* declared locals, parameters excluded */
    const uint8_t *code;     /* first instruction */
    const uint8_t *code_end; /* one past the final `end` */
    size_t offset;           /* byte offset of the body (its size field) */
};

/* One section as it appeared in the binary, for `sbx inspect`. */
struct sbx_section_info {
    uint8_t id;
    size_t offset; /* of the section's contents */
    size_t size;
    struct sbx_name custom_name; /* custom sections only */
};

struct sbx_module {
    uint32_t ntypes;
    struct sbx_functype *types;

    uint32_t nimports;
    struct sbx_import *imports;

    /* Index spaces: imports first, then definitions. */
    uint32_t nfuncs, nfunc_imports;
    uint32_t *func_types; /* type index of every function */
    uint32_t ntables, ntable_imports;
    struct sbx_tabletype *tables;
    uint32_t nmemories, nmemory_imports;
    struct sbx_limits *memories;
    uint32_t nglobals, nglobal_imports;
    struct sbx_global *globals; /* imported ones have init.kind unused */

    uint32_t nexports;
    struct sbx_export *exports;

    bool has_start;
    uint32_t start;

    uint32_t nelems;
    struct sbx_elem_segment *elems;

    bool has_data_count;
    uint32_t data_count;
    uint32_t ndatas;
    struct sbx_data_segment *datas;

    /* Bodies of the defined functions (nfuncs - nfunc_imports once decoding
     * succeeded), in function index order. */
    uint32_t nbodies;
    struct sbx_func_body *bodies;

    /* Functions that may be referenced by ref.func in code: those named in
     * element segments, exports or global initialisers. One flag per
     * function index. */
    uint8_t *func_declared;

    uint32_t nsections;
    struct sbx_section_info *sections;

    /* The "name" custom section, if present (contents only). */
    const uint8_t *name_section;
    size_t name_section_size;

    const uint8_t *bytes; /* the binary, owned by the caller */
    size_t size;          /* of the whole binary */
};

/* Decodes and validates `len` bytes. Returns the module, or NULL with `err`
 * filled in (the byte offset and, for code errors, the function index). The
 * bytes must outlive the module. Never prints, never aborts on bad input. */
struct sbx_module *sbx_module_load(const uint8_t *bytes, size_t len, struct sbx_error *err);

/* Decodes only (binary-format rules); validation is skipped. For tools and
 * tests that must tell malformed from invalid. */
struct sbx_module *sbx_module_decode(const uint8_t *bytes, size_t len, struct sbx_error *err);

/* Validates a decoded module (module-level rules and every function body). */
int sbx_module_validate(const struct sbx_module *m, struct sbx_error *err);

void sbx_module_free(struct sbx_module *m);

/* The function type of function `func_index` (must be < m->nfuncs). */
const struct sbx_functype *sbx_module_func_type(const struct sbx_module *m, uint32_t func_index);

/* The export named `name` (export names are unique in a valid module), or
 * NULL. */
const struct sbx_export *sbx_module_export(const struct sbx_module *m, const char *name);

/* The name the "name" section gives function `func_index`, if any. */
bool sbx_module_func_name(const struct sbx_module *m, uint32_t func_index, struct sbx_name *out);

/* sbx_valtype_list[t] == t for every value type t: lets one value type be
 * pointed to as a one-element type list (block types, single results). */
extern const uint8_t sbx_valtype_list[256];

/* Human names for value and extern kinds ("i32", "func", ...). */
const char *sbx_valtype_name(uint8_t type);
const char *sbx_extern_kind_name(uint8_t kind);

#endif
