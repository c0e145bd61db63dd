/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* vfiohostctl persist, unpersist and persisted: persistent assignments —
 * a function put on vfio-pci whenever the same card is at its address,
 * after every boot and re-plug (docs/persistence.md). persist is a bind
 * (ctl-bind.c) that the daemon also saves. */

#include <stdio.h>
#include <string.h>

#include "ctl-i18n.h"
#include "ctl-bus.h"
#include "ctl-output.h"
#include "ctl-polkit-agent.h"
#include "ctl-verbs.h"

int verb_unpersist(sd_bus *bus, int argc, char **argv, const CtlOptions *options) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *address = NULL;
        int r;

        address = ctl_address_expand(argv[1]);
        if (!address)
                return ctl_report_errno(-ENOMEM, "failed to allocate memory: %m");

        (void) ctl_polkit_agent_open(options->ask_password);
        r = ctl_bus_clear_persistent(bus, address, options->ask_password, &error);
        ctl_polkit_agent_close();
        if (r < 0)
                return ctl_report_error(&error);

        if (ctl_output_json()) {
                struct json_object *j = json_object_new_object();

                if (!j || json_object_object_add(j, "unpersisted", json_object_new_string(address)) < 0) {
                        json_object_put(j);
                        return ctl_report_errno(-ENOMEM, "failed to build JSON: %m");
                }
                return ctl_json_print(j) < 0 ? CTL_EXIT_FAILURE : CTL_EXIT_SUCCESS;
        }
        printf(_("%s: no longer persisted; it stays on its driver until 'vfiohostctl unbind' or the next boot\n"),
               address);
        return CTL_EXIT_SUCCESS;
}

enum {
        COLUMN_ADDRESS,
        COLUMN_NAME,
        COLUMN_STATE,
        COLUMN_IDENTITY,
        _COLUMN_MAX,
};

static const char * const headers[_COLUMN_MAX] = {
        [COLUMN_ADDRESS]  = N_("ADDRESS"),
        [COLUMN_NAME]     = N_("NAME"),
        [COLUMN_STATE]    = N_("STATE"),
        [COLUMN_IDENTITY] = N_("CARD"),
};

static const char *state_color(const char *state) {
        if (strcmp(state, "applied") == 0)
                return ctl_ansi_green();
        if (strcmp(state, "mismatch") == 0 || strcmp(state, "refused") == 0)
                return ctl_ansi_red();
        return ctl_ansi_yellow();
}

int verb_persisted(sd_bus *bus, int argc, char **argv, const CtlOptions *options) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        CtlObject **entries = NULL;
        size_t n = 0;
        int r;

        r = ctl_bus_list_persistent(bus, &entries, &n, &error);
        if (r < 0)
                return ctl_report_error(&error);

        if (ctl_output_json()) {
                struct json_object *a = json_object_new_array();

                for (size_t i = 0; a && i < n; i++) {
                        struct json_object *o = json_object_new_object();

                        if (!o || ctl_json_add_others(o, entries[i]) < 0 || json_object_array_add(a, o) < 0) {
                                json_object_put(o);
                                json_object_put(a);
                                a = NULL;
                        }
                }
                ctl_object_array_free(entries, n);
                if (!a)
                        return ctl_report_errno(-ENOMEM, "failed to build JSON: %m");
                return ctl_json_print(a) < 0 ? CTL_EXIT_FAILURE : CTL_EXIT_SUCCESS;
        }

        {
                _cleanup_(ctl_table_freep) CtlTable *t = ctl_table_new(_COLUMN_MAX, headers);

                if (!t) {
                        ctl_object_array_free(entries, n);
                        return ctl_report_errno(-ENOMEM, "failed to build the table: %m");
                }
                ctl_table_set_ellipsize_column(t, COLUMN_IDENTITY);
                for (size_t i = 0; r >= 0 && i < n; i++) {
                        const char *state = ctl_object_get_string(entries[i], "state");

                        r = ctl_table_add_cell(t, ctl_object_get_string(entries[i], "address"), NULL);
                        if (r >= 0)
                                r = ctl_table_add_cell(t, ctl_object_get_string(entries[i], "name"), NULL);
                        if (r >= 0)
                                r = ctl_table_add_cell(t, state, state_color(state));
                        if (r >= 0)
                                r = ctl_table_add_cell(t, ctl_object_get_string(entries[i], "identity"), NULL);
                }
                if (r >= 0 && n > 0)
                        r = ctl_table_print(t);
                if (r < 0) {
                        ctl_object_array_free(entries, n);
                        return ctl_report_errno(r, "failed to print the table: %m");
                }
        }
        if (n == 0)
                printf(_("Nothing is persisted; 'vfiohostctl persist ADDRESS' keeps a device on vfio-pci across reboots.\n"));

        /* Why each one that is not applied is not, and what to do. */
        for (size_t i = 0; i < n; i++) {
                const char *state = ctl_object_get_string(entries[i], "state");

                if (strcmp(state, "applied") == 0)
                        continue;
                printf("\n%s%s%s: %s\n", ctl_ansi_bold(), ctl_object_get_string(entries[i], "address"),
                       ctl_ansi_normal(), state);
                ctl_print_wrapped(2, "  ", ctl_object_get_string(entries[i], "reason"));
        }
        ctl_object_array_free(entries, n);
        return CTL_EXIT_SUCCESS;
}
