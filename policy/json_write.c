/* Writing a policy as JSON, through the same descriptors the reader uses,
 * so that what `sbx policy check` prints reads back as the same policy. */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "policy/internal.h"

static json_object *message_to_json(const ProtobufCMessage *msg);

static json_object *value_to_json(const ProtobufCFieldDescriptor *f, const void *v)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_BOOL: return json_object_new_boolean(*(const protobuf_c_boolean *)v);
    case PROTOBUF_C_TYPE_UINT32: return json_object_new_uint64(*(const uint32_t *)v);
    case PROTOBUF_C_TYPE_UINT64: return json_object_new_uint64(*(const uint64_t *)v);
    case PROTOBUF_C_TYPE_STRING: return json_object_new_string(*(char *const *)v);
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumValue *ev =
            protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int *)v);
        return ev ? json_object_new_string(ev->name) : json_object_new_int(*(const int *)v);
    }
    case PROTOBUF_C_TYPE_MESSAGE: return message_to_json(*(ProtobufCMessage *const *)v);
    default: return NULL;
    }
}

static size_t value_size(const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_UINT32: return sizeof(uint32_t);
    case PROTOBUF_C_TYPE_UINT64: return sizeof(uint64_t);
    case PROTOBUF_C_TYPE_ENUM: return sizeof(int);
    default: return sizeof(void *);
    }
}

static json_object *message_to_json(const ProtobufCMessage *msg)
{
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    json_object *obj = json_object_new_object();
    if (!obj) return NULL;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *base = (const char *)msg + f->offset;
        json_object *v = NULL;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)((const char *)msg + f->quantifier_offset);
            const char *items = *(char *const *)base;
            v = json_object_new_array_ext((int)n);
            for (size_t k = 0; v && k < n; k++) {
                json_object *e = value_to_json(f, items + k * value_size(f));
                if (!e || json_object_array_add(v, e)) {
                    json_object_put(e);
                    json_object_put(v);
                    v = NULL;
                }
            }
        } else if (f->type == PROTOBUF_C_TYPE_MESSAGE || f->type == PROTOBUF_C_TYPE_STRING) {
            if (!*(void *const *)base) continue; /* absent */
            v = value_to_json(f, base);
        } else {
            if (!*(const protobuf_c_boolean *)((const char *)msg + f->quantifier_offset))
                continue; /* absent */
            v = value_to_json(f, base);
        }
        if (!v || json_object_object_add(obj, f->name, v)) {
            json_object_put(v);
            json_object_put(obj);
            return NULL;
        }
    }
    return obj;
}

char *sbx_policy_to_json(const Sbx__Policy *p)
{
    json_object *obj = message_to_json(&p->base);
    if (!obj) return NULL;
    const char *text = json_object_to_json_string_ext(
        obj, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
    char *copy = text ? strdup(text) : NULL;
    json_object_put(obj);
    return copy;
}
