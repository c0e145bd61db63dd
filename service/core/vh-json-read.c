/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vh-json-read.h"

/* A string, or NULL for JSON null or absent. -EBADMSG for any other type. */
int vh_json_get_string(json_object *o, const char *key, const char **ret) {
        json_object *v;

        *ret = NULL;
        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
                return 0;
        if (!json_object_is_type(v, json_type_string))
                return -EBADMSG;
        *ret = json_object_get_string(v);
        return 0;
}

/* A non-negative integer up to max; absent gives def (-EBADMSG when the
 * field is required, def < 0). */
int vh_json_get_uint(json_object *o, const char *key, int64_t max, int64_t def, uint64_t *ret) {
        json_object *v;
        int64_t i;

        if (!json_object_object_get_ex(o, key, &v)) {
                if (def < 0)
                        return -EBADMSG;
                *ret = (uint64_t) def;
                return 0;
        }
        if (!json_object_is_type(v, json_type_int))
                return -EBADMSG;
        errno = 0;
        i = json_object_get_int64(v);
        /* json-c clamps what does not fit in an int64 and says so in errno. */
        if (errno != 0 || i < 0 || i > max)
                return -EBADMSG;
        *ret = (uint64_t) i;
        return 0;
}

int vh_json_get_bool(json_object *o, const char *key, bool def, bool *ret) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v)) {
                *ret = def;
                return 0;
        }
        if (!json_object_is_type(v, json_type_boolean))
                return -EBADMSG;
        *ret = json_object_get_boolean(v);
        return 0;
}

/* "10de": four hex digits, as sysfs prints them without the 0x. */
int vh_json_get_pci_id(json_object *o, const char *key, uint16_t *ret) {
        const char *s;

        if (vh_json_get_string(o, key, &s) < 0 || !s || strlen(s) != 4 || strspn(s, "0123456789abcdefABCDEF") != 4)
                return -EBADMSG;
        *ret = (uint16_t) strtoul(s, NULL, 16);
        return 0;
}


/* The whole text must be one JSON value: trailing bytes are damage. */
json_object *vh_json_parse_whole(const char *content) {
        json_tokener *tok = json_tokener_new();
        json_object *o;
        const char *rest;
        size_t len = strlen(content);

        if (!tok)
                return NULL;
        o = json_tokener_parse_ex(tok, content, (int) len);
        if (!o || json_tokener_get_error(tok) != json_tokener_success) {
                json_object_put(o);
                json_tokener_free(tok);
                return NULL;
        }
        rest = content + json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
        if (rest[strspn(rest, " \t\r\n")]) {
                json_object_put(o);
                return NULL;
        }
        return o;
}
