/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

/* Strict readers for the daemon's own state files (the journal, the
 * persistent assignments): every field is checked, present with the wrong
 * type is damage (-EBADMSG), as is a value out of range. Absent optional
 * fields take their defaults. */

/* A string, or NULL for JSON null or absent. */
int vh_json_get_string(json_object *o, const char *key, const char **ret);
/* A non-negative integer up to max; absent gives def (-EBADMSG when the
 * field is required, def < 0). */
int vh_json_get_uint(json_object *o, const char *key, int64_t max, int64_t def, uint64_t *ret);
int vh_json_get_bool(json_object *o, const char *key, bool def, bool *ret);
/* "10de": four hex digits, as sysfs prints them without the 0x. */
int vh_json_get_pci_id(json_object *o, const char *key, uint16_t *ret);
/* content (NUL-terminated) parsed as exactly one JSON value, trailing
 * whitespace allowed; NULL otherwise. */
json_object *vh_json_parse_whole(const char *content);
