/* The JSON form of `sbx inspect` (json-c), for scripts and tests. Field
 * names follow the text form; absent limits maxima and start are null. */
#include <json-c/json.h>

#include "supervisor/cli.h"

static struct json_object *name_json(struct sbx_name n)
{
    return json_object_new_string_len(n.ptr, (int)n.len);
}

static void add(struct json_object *obj, const char *key, struct json_object *val)
{
    json_object_object_add(obj, key, val);
}

static void add_limits(struct json_object *obj, const struct sbx_limits *l)
{
    add(obj, "min", json_object_new_uint64(l->min));
    add(obj, "max", l->has_max ? json_object_new_uint64(l->max) : NULL);
}

static struct json_object *valtypes_json(uint32_t n, const uint8_t *types)
{
    struct json_object *arr = json_object_new_array_ext((int)n);
    for (uint32_t i = 0; i < n; i++)
        json_object_array_add(arr, json_object_new_string(sbx_valtype_name(types[i])));
    return arr;
}

static struct json_object *sections_json(const struct sbx_module *m)
{
    struct json_object *arr = json_object_new_array_ext((int)m->nsections);
    for (uint32_t i = 0; i < m->nsections; i++) {
        const struct sbx_section_info *s = &m->sections[i];
        struct json_object *o = json_object_new_object();
        add(o, "id", json_object_new_int(s->id));
        add(o, "name", json_object_new_string(cli_section_name(s->id)));
        if (s->id == 0) add(o, "custom_name", name_json(s->custom_name));
        add(o, "offset", json_object_new_uint64(s->offset));
        add(o, "size", json_object_new_uint64(s->size));
        json_object_array_add(arr, o);
    }
    return arr;
}

static struct json_object *types_json(const struct sbx_module *m)
{
    struct json_object *arr = json_object_new_array_ext((int)m->ntypes);
    for (uint32_t i = 0; i < m->ntypes; i++) {
        struct json_object *o = json_object_new_object();
        add(o, "params", valtypes_json(m->types[i].nparams, m->types[i].params));
        add(o, "results", valtypes_json(m->types[i].nresults, m->types[i].results));
        json_object_array_add(arr, o);
    }
    return arr;
}

static struct json_object *imports_json(const struct sbx_module *m)
{
    struct json_object *arr = json_object_new_array_ext((int)m->nimports);
    for (uint32_t i = 0; i < m->nimports; i++) {
        const struct sbx_import *im = &m->imports[i];
        struct json_object *o = json_object_new_object();
        add(o, "module", name_json(im->module));
        add(o, "name", name_json(im->name));
        add(o, "kind", json_object_new_string(sbx_extern_kind_name(im->kind)));
        switch (im->kind) {
        case SBX_EXTERN_FUNC: add(o, "type", json_object_new_uint64(im->u.func_type)); break;
        case SBX_EXTERN_TABLE:
            add(o, "elem_type", json_object_new_string(sbx_valtype_name(im->u.table.elem_type)));
            add_limits(o, &im->u.table.limits);
            break;
        case SBX_EXTERN_MEMORY: add_limits(o, &im->u.memory); break;
        case SBX_EXTERN_GLOBAL:
            add(o, "type", json_object_new_string(sbx_valtype_name(im->u.global.type)));
            add(o, "mutable", json_object_new_boolean(im->u.global.mutable_));
            break;
        }
        json_object_array_add(arr, o);
    }
    return arr;
}

static struct json_object *exports_json(const struct sbx_module *m)
{
    struct json_object *arr = json_object_new_array_ext((int)m->nexports);
    for (uint32_t i = 0; i < m->nexports; i++) {
        struct json_object *o = json_object_new_object();
        add(o, "name", name_json(m->exports[i].name));
        add(o, "kind", json_object_new_string(sbx_extern_kind_name(m->exports[i].kind)));
        add(o, "index", json_object_new_uint64(m->exports[i].index));
        json_object_array_add(arr, o);
    }
    return arr;
}

static struct json_object *entity(uint32_t index, uint32_t nimported)
{
    struct json_object *o = json_object_new_object();
    add(o, "index", json_object_new_uint64(index));
    add(o, "imported", json_object_new_boolean(index < nimported));
    return o;
}

static struct json_object *tables_json(const struct sbx_module *m)
{
    struct json_object *arr = json_object_new_array_ext((int)m->ntables);
    for (uint32_t i = 0; i < m->ntables; i++) {
        struct json_object *o = entity(i, m->ntable_imports);
        add(o, "elem_type", json_object_new_string(sbx_valtype_name(m->tables[i].elem_type)));
        add_limits(o, &m->tables[i].limits);
        json_object_array_add(arr, o);
    }
    return arr;
}

static struct json_object *memories_json(const struct sbx_module *m)
{
    struct json_object *arr = json_object_new_array_ext((int)m->nmemories);
    for (uint32_t i = 0; i < m->nmemories; i++) {
        struct json_object *o = entity(i, m->nmemory_imports);
        add_limits(o, &m->memories[i]);
        json_object_array_add(arr, o);
    }
    return arr;
}

static struct json_object *globals_json(const struct sbx_module *m)
{
    struct json_object *arr = json_object_new_array_ext((int)m->nglobals);
    for (uint32_t i = 0; i < m->nglobals; i++) {
        const struct sbx_global *g = &m->globals[i];
        struct json_object *o = entity(i, m->nglobal_imports);
        add(o, "type", json_object_new_string(sbx_valtype_name(g->type.type)));
        add(o, "mutable", json_object_new_boolean(g->type.mutable_));
        if (i >= m->nglobal_imports) {
            char init[128];
            cli_describe_const(&g->init, init, sizeof init);
            add(o, "init", json_object_new_string(init));
        }
        json_object_array_add(arr, o);
    }
    return arr;
}

int cli_inspect_json(FILE *out, const char *path, const struct sbx_module *m)
{
    struct json_object *root = json_object_new_object();
    if (!root) return -1;
    add(root, "file", json_object_new_string(path));
    add(root, "size", json_object_new_uint64(m->size));
    add(root, "sections", sections_json(m));
    add(root, "types", types_json(m));
    add(root, "imports", imports_json(m));
    add(root, "exports", exports_json(m));
    struct json_object *funcs = json_object_new_object();
    add(funcs, "count", json_object_new_uint64(m->nfuncs));
    add(funcs, "imported", json_object_new_uint64(m->nfunc_imports));
    add(funcs, "defined", json_object_new_uint64(m->nfuncs - m->nfunc_imports));
    add(root, "functions", funcs);
    add(root, "tables", tables_json(m));
    add(root, "memories", memories_json(m));
    add(root, "globals", globals_json(m));
    add(root, "start", m->has_start ? json_object_new_uint64(m->start) : NULL);
    add(root, "element_segments", json_object_new_uint64(m->nelems));
    add(root, "data_segments", json_object_new_uint64(m->ndatas));
    const char *s = json_object_to_json_string_ext(
        root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
    int rc = (s && fputs(s, out) >= 0 && fputc('\n', out) != EOF) ? 0 : -1;
    json_object_put(root);
    return rc;
}
