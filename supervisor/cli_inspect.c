/* `sbx inspect FILE [--json]`: loads a module and describes it: sections,
 * types, imports, exports, functions, tables, memories, globals, start,
 * segments. This file parses the arguments and writes the text form; the
 * JSON form is in cli_inspect_json.c. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "supervisor/cli.h"

static void usage(FILE *f)
{
    fputs("usage: sbx inspect [--json] FILE\n"
          "Decodes and validates a WebAssembly module, then describes its sections,\n"
          "imports, exports, functions, tables, memories and globals.\n"
          "  --json   machine-readable output\n",
          f);
}

static void print_limits(FILE *out, const struct sbx_limits *l)
{
    fprintf(out, "min %" PRIu64, l->min);
    if (l->has_max)
        fprintf(out, " max %" PRIu64, l->max);
    else
        fputs(" no max", out);
}

static void print_sections(FILE *out, const struct sbx_module *m)
{
    fprintf(out, "sections: %" PRIu32 "\n", m->nsections);
    for (uint32_t i = 0; i < m->nsections; i++) {
        const struct sbx_section_info *s = &m->sections[i];
        fprintf(out, "  %-10s offset 0x%08zx size %zu", cli_section_name(s->id), s->offset,
                s->size);
        if (s->id == 0) {
            fputc(' ', out);
            cli_print_name(out, s->custom_name);
        }
        fputc('\n', out);
    }
}

static void print_imports(FILE *out, const struct sbx_module *m)
{
    fprintf(out, "imports: %" PRIu32 "\n", m->nimports);
    for (uint32_t i = 0; i < m->nimports; i++) {
        const struct sbx_import *im = &m->imports[i];
        fprintf(out, "  %-6s ", sbx_extern_kind_name(im->kind));
        cli_print_name(out, im->module);
        fputc(' ', out);
        cli_print_name(out, im->name);
        fputs(": ", out);
        switch (im->kind) {
        case SBX_EXTERN_FUNC:
            fprintf(out, "type %" PRIu32 " ", im->u.func_type);
            cli_print_functype(out, &m->types[im->u.func_type]);
            break;
        case SBX_EXTERN_TABLE:
            fprintf(out, "%s ", sbx_valtype_name(im->u.table.elem_type));
            print_limits(out, &im->u.table.limits);
            break;
        case SBX_EXTERN_MEMORY:
            print_limits(out, &im->u.memory);
            fputs(" (64 KiB pages)", out);
            break;
        case SBX_EXTERN_GLOBAL:
            fprintf(out, "%s %s", im->u.global.mutable_ ? "mut" : "const",
                    sbx_valtype_name(im->u.global.type));
            break;
        }
        fputc('\n', out);
    }
}

static void print_exports(FILE *out, const struct sbx_module *m)
{
    fprintf(out, "exports: %" PRIu32 "\n", m->nexports);
    for (uint32_t i = 0; i < m->nexports; i++) {
        const struct sbx_export *ex = &m->exports[i];
        fprintf(out, "  %-6s ", sbx_extern_kind_name(ex->kind));
        cli_print_name(out, ex->name);
        fprintf(out, " -> %s %" PRIu32, sbx_extern_kind_name(ex->kind), ex->index);
        if (ex->kind == SBX_EXTERN_FUNC) {
            fputc(' ', out);
            cli_print_functype(out, sbx_module_func_type(m, ex->index));
        }
        fputc('\n', out);
    }
}

static const char *origin(uint32_t index, uint32_t nimported)
{
    return index < nimported ? " (imported)" : "";
}

static void print_entities(FILE *out, const struct sbx_module *m)
{
    fprintf(out, "functions: %" PRIu32 " (%" PRIu32 " imported, %" PRIu32 " defined)\n", m->nfuncs,
            m->nfunc_imports, m->nfuncs - m->nfunc_imports);
    fprintf(out, "tables: %" PRIu32 "\n", m->ntables);
    for (uint32_t i = 0; i < m->ntables; i++) {
        fprintf(out, "  %" PRIu32 ": %s ", i, sbx_valtype_name(m->tables[i].elem_type));
        print_limits(out, &m->tables[i].limits);
        fprintf(out, "%s\n", origin(i, m->ntable_imports));
    }
    fprintf(out, "memories: %" PRIu32 "\n", m->nmemories);
    for (uint32_t i = 0; i < m->nmemories; i++) {
        fprintf(out, "  %" PRIu32 ": ", i);
        print_limits(out, &m->memories[i]);
        fprintf(out, " (64 KiB pages)%s\n", origin(i, m->nmemory_imports));
    }
    fprintf(out, "globals: %" PRIu32 "\n", m->nglobals);
    for (uint32_t i = 0; i < m->nglobals; i++) {
        const struct sbx_global *g = &m->globals[i];
        fprintf(out, "  %" PRIu32 ": %s %s", i, g->type.mutable_ ? "mut" : "const",
                sbx_valtype_name(g->type.type));
        if (i < m->nglobal_imports) {
            fputs(" (imported)\n", out);
        } else {
            char init[128];
            cli_describe_const(&g->init, init, sizeof init);
            fprintf(out, " = %s\n", init);
        }
    }
}

int cli_inspect_text(FILE *out, const char *path, const struct sbx_module *m)
{
    fprintf(out, "file: %s\nsize: %zu bytes\n", path, m->size);
    print_sections(out, m);
    fprintf(out, "types: %" PRIu32 "\n", m->ntypes);
    print_imports(out, m);
    print_exports(out, m);
    print_entities(out, m);
    if (m->has_start)
        fprintf(out, "start: func %" PRIu32 "\n", m->start);
    else
        fputs("start: none\n", out);
    fprintf(out, "element segments: %" PRIu32 "\ndata segments: %" PRIu32 "\n", m->nelems,
            m->ndatas);
    return ferror(out) ? -1 : 0;
}

int cli_inspect(int argc, char **argv)
{
    int json = 0;
    const char *path = NULL;
    int options_done = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!options_done && strcmp(a, "--") == 0) {
            options_done = 1;
        } else if (!options_done && strcmp(a, "--json") == 0) {
            json = 1;
        } else if (!options_done && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)) {
            usage(stdout);
            return CLI_OK;
        } else if (!options_done && a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "sbx inspect: unknown option '%s'\n", a);
            return CLI_USAGE;
        } else if (path) {
            fputs("sbx inspect: one FILE at a time\n", stderr);
            return CLI_USAGE;
        } else {
            path = a;
        }
    }
    if (!path) {
        usage(stderr);
        return CLI_USAGE;
    }
    struct cli_loaded l;
    if (cli_load(path, &l) != 0) return CLI_FAILED;
    int rc =
        json ? cli_inspect_json(stdout, path, l.module) : cli_inspect_text(stdout, path, l.module);
    cli_unload(&l);
    if (rc != 0 || fflush(stdout) != 0) {
        fprintf(stderr, "sbx: %s: cannot write the output\n", path);
        return CLI_FAILED;
    }
    return CLI_OK;
}
