/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* vfiohostctl show ADDRESS: every property of one PCI function. */

#include <stdio.h>
#include <string.h>

#include "ctl-bus.h"
#include "ctl-output.h"
#include "ctl-verbs.h"
#include "vh-names.h"
#include "vh-strv.h"

/* Device object paths (VirtualFunctions) as the addresses they encode. */
static char *device_paths_to_string(char **paths) {
        _cleanup_strv_free_ char **addresses = NULL;

        addresses = calloc(1, sizeof(char *));
        if (!addresses)
                return NULL;
        STRV_FOREACH(path, paths) {
                _cleanup_free_ char *address = NULL;

                if (sd_bus_path_decode(*path, VH_DEVICE_PATH_PREFIX, &address) <= 0)
                        address = strdup(*path);
                if (!address || vh_strv_push(&addresses, TAKE_PTR(address)) < 0)
                        return NULL;
        }
        return vh_strv_join(addresses, ", ");
}

int verb_show(sd_bus *bus, int argc, char **argv, const CtlOptions *options) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(ctl_object_freep) CtlObject *d = NULL;
        _cleanup_free_ char *address = NULL;
        int r;

        address = ctl_address_expand(argv[1]);
        if (!address)
                return ctl_report_errno(-ENOMEM, "failed to allocate memory: %m");

        r = ctl_bus_get_device(bus, address, &d, &error);
        if (r < 0)
                return ctl_report_error(&error);

        if (ctl_output_json()) {
                struct json_object *j = ctl_object_to_json(d);

                if (!j)
                        return ctl_report_errno(-ENOMEM, "failed to build JSON: %m");
                r = ctl_json_print(j);
                if (r < 0)
                        return ctl_report_errno(r, "failed to print JSON: %m");
                return CTL_EXIT_SUCCESS;
        }

        printf("%s%s%s\n", ctl_ansi_bold(), ctl_object_get_string(d, "Address"), ctl_ansi_normal());

        for (size_t i = 0; i < d->n_properties; i++) {
                const CtlProperty *p = &d->properties[i];
                _cleanup_free_ char *value = NULL;

                /* A type the client cannot format, as in --json: leave it out
                 * rather than print a value that is not there. */
                if (p->type == '\0')
                        continue;

                value = strcmp(p->signature, "ao") == 0 ? device_paths_to_string(p->strv) : ctl_property_to_string(p);
                if (!value)
                        return ctl_report_errno(-ENOMEM, "failed to format %s: %m", p->name);

                printf("  %s: %s\n", p->name, *value ? value : "-");
        }

        return CTL_EXIT_SUCCESS;
}
