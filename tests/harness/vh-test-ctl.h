/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What tests that run vfiohostctl check on its results: the exit status,
 * and that --json put one JSON document and nothing else on stdout.
 * Header-only: the harness library does not link json-c. */

#include <string.h>

#include <glib.h>
#include <json-c/json.h>

#include "vh-test-bus.h"

static inline void vh_test_run_assert_status(const VhTestRun *run, const char *what, int status) {
        if (run->status != status) {
                vh_test_run_print(run, what);
                g_error("%s: exit status %d, expected %d", what, run->status, status);
        }
}

static inline json_object *vh_test_run_json(const VhTestRun *run, const char *what) {
        json_tokener *tok = json_tokener_new();
        size_t len = strlen(run->out), end;
        json_object *j = json_tokener_parse_ex(tok, run->out, (int) len);

        end = json_tokener_get_parse_end(tok);
        if (!j || json_tokener_get_error(tok) != json_tokener_success) {
                vh_test_run_print(run, what);
                g_error("%s: stdout is not JSON", what);
        }
        for (size_t i = end; i < len; i++)
                if (!g_ascii_isspace(run->out[i])) {
                        vh_test_run_print(run, what);
                        g_error("%s: something after the JSON: \"%s\"", what, run->out + i);
                }
        json_tokener_free(tok);
        return j;
}

/* A member of an object, asserted to be of type t. */
static inline json_object *vh_test_json_get(json_object *o, const char *key, json_type t) {
        json_object *v = NULL;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, t))
                g_error("JSON key %s missing or not a %s in %s", key, json_type_to_name(t),
                        json_object_to_json_string(o));
        return v;
}
