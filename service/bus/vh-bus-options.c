/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh-bus-options.h"
#include "vh-macro.h"
#include "vh-utf8.h"

static const char *type_name(char type) {
        return type == 'b' ? "a boolean (b)" : type == 'a' ? "an array of strings (as)" :
               type == 'u' ? "an unsigned 32-bit integer (u)" : "a string (s)";
}

static const char *type_signature(char type) {
        return type == 'b' ? "b" : type == 'a' ? "as" : type == 'u' ? "u" : "s";
}

static int unknown_option(const char *key, const VhBusOption *options, size_t n, sd_bus_error *error) {
        char known[256] = "", quoted[VH_EXCERPT_SIZE];
        size_t used = 0;

        for (size_t i = 0; i < n && used < sizeof(known); i++)
                used += (size_t) snprintf(known + used, sizeof(known) - used, "%s%s (%s)", i > 0 ? ", " : "",
                                          options[i].key, type_signature(options[i].type));
        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown option '%s'; known options: %s.",
                                 vh_utf8_excerpt(key, quoted), known);
}

int vh_bus_read_options(sd_bus_message *m, const VhBusOption *options, size_t n_options, sd_bus_error *error) {
        uint64_t seen = 0;
        int r;

        assert(n_options <= 64);

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;

        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const VhBusOption *o = NULL;
                const char *key;
                size_t index = 0;

                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < n_options && !o; i++)
                        if (strcmp(options[i].key, key) == 0) {
                                o = &options[i];
                                index = i;
                        }
                if (!o)
                        return unknown_option(key, options, n_options, error);
                if (seen & (UINT64_C(1) << index))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Option '%s' is given more than once; give each option once.", o->key);
                seen |= UINT64_C(1) << index;

                r = sd_bus_message_enter_container(m, 'v', type_signature(o->type));
                if (r == -ENXIO || r == -EINVAL)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Option '%s' must be %s.",
                                                 o->key, type_name(o->type));
                if (r < 0)
                        return r;

                if (o->type == 'b') {
                        int v;

                        r = sd_bus_message_read(m, "b", &v);
                        if (r >= 0)
                                *(bool *) o->value = v;
                } else if (o->type == 'u')
                        r = sd_bus_message_read(m, "u", (uint32_t *) o->value);
                else if (o->type == 'a') {
                        char ***l = o->value;

                        r = sd_bus_message_read_strv(m, l);
                        /* An empty array reads as NULL: given is given. */
                        if (r >= 0 && !*l && !(*l = calloc(1, sizeof(char *))))
                                r = -ENOMEM;
                } else
                        r = sd_bus_message_read(m, "s", (const char **) o->value);
                if (r < 0)
                        return r;

                r = sd_bus_message_exit_container(m);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;

        return sd_bus_message_exit_container(m);
}

int vh_bus_append_strv_entry(sd_bus_message *m, const char *key, char **strv) {
        int r;

        r = sd_bus_message_open_container(m, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", key);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "as");
        if (r >= 0)
                r = sd_bus_message_append_strv(m, strv);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}
