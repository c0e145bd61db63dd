/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include <systemd/sd-bus.h>

/* Reading a method's a{sv} options against a table: unknown keys, wrong
 * types and a key given twice are InvalidArgs naming what is known, so
 * every method answers the same way. (A repeated key is refused, not "the
 * last one wins": {dry-run: true, ..., dry-run: false} must not act.) At
 * most 64 options per table. */

typedef struct VhBusOption {
        const char *key;
        char type;                      /* 'b': bool *value; 'u': uint32_t *value;
                                         * 's': const char **value (valid during the call);
                                         * 'a' (as): char ***value, allocated: the caller frees it, also on error */
        void *value;
} VhBusOption;

int vh_bus_read_options(sd_bus_message *m, const VhBusOption *options, size_t n_options, sd_bus_error *error);

/* Appends {key: <as strv>} to an open a{sv} (a reply's "forced", ...). */
int vh_bus_append_strv_entry(sd_bus_message *m, const char *key, char **strv);
