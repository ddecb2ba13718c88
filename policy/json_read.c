/* Reading a JSON policy into Sbx__Policy through the descriptors protoc-c
 * generates: a JSON key is a proto field name, so the .proto stays the only
 * schema. The input is untrusted: its size, nesting depth and array lengths
 * are bounded before anything is allocated for them, and every type
 * mismatch names the field path. Ranges and contradictions are validate.c's. */
#include <errno.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/internal.h"

/* Longest field path we name: "preopens[1023].host_path" and the like. */
#define PATH_MAX_LEN 128

static int read_message(json_object *obj, const ProtobufCMessageDescriptor *desc,
                        ProtobufCMessage *msg, char *path, struct sbx_policy_error *err);

static const char *json_type_word(json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null: return "null";
    case json_type_boolean: return "a boolean";
    case json_type_double: return "a fraction";
    case json_type_int: return "an integer";
    case json_type_object: return "an object";
    case json_type_array: return "an array";
    case json_type_string: return "a string";
    }
    return "?";
}

static int wrong_type(struct sbx_policy_error *err, const char *path, const char *want,
                      json_object *v)
{
    return policy_fail(err, path, "must be %s, not %s", want, json_type_word(v));
}

/* Appends ".name" or "[i]" to path, returning the old length to restore. */
static size_t path_push(char *path, const char *name, size_t i)
{
    size_t len = strlen(path);
    if (name)
        snprintf(path + len, PATH_MAX_LEN - len, len ? ".%s" : "%s", name);
    else
        snprintf(path + len, PATH_MAX_LEN - len, "[%zu]", i);
    return len;
}

/* An unsigned integer. json-c keeps integers above INT64_MAX as uint64 and
 * reports anything beyond 2^64-1 as ERANGE, which we refuse. */
static int read_uint(json_object *v, uint64_t max, uint64_t *out, const char *path,
                     struct sbx_policy_error *err)
{
    if (!json_object_is_type(v, json_type_int)) return wrong_type(err, path, "an integer", v);
    errno = 0;
    int64_t s = json_object_get_int64(v);
    if (s < 0) return policy_fail(err, path, "must not be negative");
    uint64_t u = json_object_get_uint64(v);
    if (errno == ERANGE || u > max)
        return policy_fail(err, path, "must be at most %llu", (unsigned long long)max);
    *out = u;
    return 0;
}

/* One value of a field (an element, for a repeated field) into `dst`. */
static int read_value(json_object *v, const ProtobufCFieldDescriptor *f, void *dst, char *path,
                      struct sbx_policy_error *err)
{
    uint64_t u;
    switch (f->type) {
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_object_is_type(v, json_type_boolean))
            return wrong_type(err, path, "true or false", v);
        *(protobuf_c_boolean *)dst = json_object_get_boolean(v) ? 1 : 0;
        return 0;
    case PROTOBUF_C_TYPE_UINT32:
        if (read_uint(v, UINT32_MAX, &u, path, err)) return -1;
        *(uint32_t *)dst = (uint32_t)u;
        return 0;
    case PROTOBUF_C_TYPE_UINT64:
        if (read_uint(v, UINT64_MAX, &u, path, err)) return -1;
        *(uint64_t *)dst = u;
        return 0;
    case PROTOBUF_C_TYPE_STRING: {
        if (!json_object_is_type(v, json_type_string)) return wrong_type(err, path, "a string", v);
        const char *s = json_object_get_string(v);
        size_t len = (size_t)json_object_get_string_len(v);
        if (strlen(s) != len) return policy_fail(err, path, "must not contain a NUL character");
        char *copy = strndup(s, len);
        if (!copy) return policy_fail(err, path, "out of memory");
        *(char **)dst = copy;
        return 0;
    }
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumDescriptor *ed = f->descriptor;
        if (!json_object_is_type(v, json_type_string))
            return wrong_type(err, path, "a string naming a value", v);
        const ProtobufCEnumValue *ev =
            protobuf_c_enum_descriptor_get_value_by_name(ed, json_object_get_string(v));
        if (!ev || ev->value == 0) {
            char names[256] = "";
            for (unsigned i = 0; i < ed->n_values; i++) {
                if (ed->values[i].value == 0) continue;
                size_t n = strlen(names);
                snprintf(names + n, sizeof names - n, "%s%s", n ? ", " : "", ed->values[i].name);
            }
            return policy_fail(err, path, "unknown value \"%.64s\" (one of: %s)",
                               json_object_get_string(v), names);
        }
        *(int *)dst = ev->value;
        return 0;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessageDescriptor *md = f->descriptor;
        if (!json_object_is_type(v, json_type_object)) return wrong_type(err, path, "an object", v);
        ProtobufCMessage *sub = malloc(md->sizeof_message);
        if (!sub) return policy_fail(err, path, "out of memory");
        md->message_init(sub);
        *(ProtobufCMessage **)dst = sub; /* owned by the parent from here on */
        return read_message(v, md, sub, path, err);
    }
    default:
        /* The policy schema uses none of the other types. */
        return policy_fail(err, path, "field type not supported in policy files");
    }
}

static size_t value_size(const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_UINT32: return sizeof(uint32_t);
    case PROTOBUF_C_TYPE_UINT64: return sizeof(uint64_t);
    case PROTOBUF_C_TYPE_ENUM: return sizeof(int);
    default: return sizeof(void *); /* strings and messages are pointers */
    }
}

static int read_repeated(json_object *v, const ProtobufCFieldDescriptor *f, ProtobufCMessage *msg,
                         char *path, struct sbx_policy_error *err)
{
    if (!json_object_is_type(v, json_type_array)) return wrong_type(err, path, "an array", v);
    size_t n = json_object_array_length(v);
    if (n > SBX_POLICY_MAX_LIST)
        return policy_fail(err, path, "at most %u entries, not %zu", SBX_POLICY_MAX_LIST, n);
    size_t *count = (size_t *)((char *)msg + f->quantifier_offset);
    void **array = (void **)((char *)msg + f->offset);
    if (n == 0) return 0;
    size_t elem = value_size(f);
    char *items = calloc(n, elem);
    if (!items) return policy_fail(err, path, "out of memory");
    *array = items;
    /* The count grows with each element read, so that freeing after a
     * failure releases exactly what exists. */
    for (size_t i = 0; i < n; i++) {
        size_t mark = path_push(path, NULL, i);
        int rc = read_value(json_object_array_get_idx(v, i), f, items + i * elem, path, err);
        if (rc == 0 || (f->type == PROTOBUF_C_TYPE_MESSAGE && *(void **)(items + i * elem)))
            *count = i + 1;
        if (rc) return -1;
        path[mark] = '\0';
    }
    return 0;
}

static int read_message(json_object *obj, const ProtobufCMessageDescriptor *desc,
                        ProtobufCMessage *msg, char *path, struct sbx_policy_error *err)
{
    json_object_object_foreach(obj, key, val)
    {
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name(desc, key);
        size_t mark = path_push(path, key, 0);
        if (!f) {
            /* Refused, never ignored: a misspelt limit would otherwise
             * silently fall back to the default. */
            return policy_fail(err, path, "unknown field");
        }
        int rc;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            rc = read_repeated(val, f, msg, path, err);
        } else {
            rc = read_value(val, f, (char *)msg + f->offset, path, err);
            /* proto2 optional scalars carry a has_ flag. */
            if (rc == 0 && f->type != PROTOBUF_C_TYPE_MESSAGE && f->type != PROTOBUF_C_TYPE_STRING)
                *(protobuf_c_boolean *)((char *)msg + f->quantifier_offset) = 1;
        }
        if (rc) return -1;
        path[mark] = '\0';
    }
    return 0;
}

int sbx_policy_from_json(const char *text, size_t len, Sbx__Policy **out,
                         struct sbx_policy_error *err)
{
    *out = NULL;
    if (len > SBX_POLICY_MAX_FILE_BYTES)
        return policy_fail(err, "", "policy larger than %u bytes", SBX_POLICY_MAX_FILE_BYTES);
    json_tokener *tok = json_tokener_new_ex(SBX_POLICY_MAX_DEPTH);
    if (!tok) return policy_fail(err, "", "out of memory");
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *root = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (!root || jerr != json_tokener_success) {
        json_object_put(root);
        if (jerr == json_tokener_continue)
            return policy_fail(err, "", "invalid JSON: unexpected end of input");
        return policy_fail(err, "", "invalid JSON at byte %zu: %s", end,
                           json_tokener_error_desc(jerr));
    }
    while (end < len && strchr(" \t\r\n", text[end]))
        end++;
    if (end < len) {
        json_object_put(root);
        return policy_fail(err, "", "invalid JSON: data after the policy at byte %zu", end);
    }
    if (!json_object_is_type(root, json_type_object)) {
        int rc = wrong_type(err, "policy", "an object", root);
        json_object_put(root);
        return rc;
    }

    Sbx__Policy *p = malloc(sizeof *p);
    if (!p) {
        json_object_put(root);
        return policy_fail(err, "", "out of memory");
    }
    sbx__policy__init(p);
    char path[PATH_MAX_LEN] = "";
    int rc = read_message(root, &sbx__policy__descriptor, &p->base, path, err);
    json_object_put(root);
    if (rc == 0) rc = sbx_policy_validate(p, err);
    if (rc) {
        sbx_policy_free(p);
        return -1;
    }
    *out = p;
    return 0;
}
