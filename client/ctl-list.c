/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* vfiohostctl list: every PCI function, one row each, in address order,
 * from a single GetManagedObjects call. */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ctl-bus.h"
#include "ctl-output.h"
#include "ctl-verbs.h"
#include "vh-names.h"

enum {
        COLUMN_ADDRESS,
        COLUMN_CLASS,
        COLUMN_IDS,
        COLUMN_NAME,
        COLUMN_DRIVER,
        COLUMN_GROUP,
        _COLUMN_MAX,
};

static const char * const headers[_COLUMN_MAX] = {
        [COLUMN_ADDRESS] = "ADDRESS",
        [COLUMN_CLASS]   = "CLASS",
        [COLUMN_IDS]     = "IDS",
        [COLUMN_NAME]    = "NAME",
        [COLUMN_DRIVER]  = "DRIVER",
        [COLUMN_GROUP]   = "GROUP",
};

static int add_row(CtlTable *t, const CtlObject *d) {
        const char *driver = ctl_object_get_string(d, "Driver");
        const char *original = ctl_object_get_string(d, "OriginalDriver");
        int64_t group = ctl_object_get_int(d, "IommuGroup", -1);
        char class[8], ids[16], group_text[24] = "";
        _cleanup_free_ char *name = NULL, *driver_text = NULL;
        int r;

        /* Base class and subclass, as lspci -n shows them: "0300". */
        snprintf(class, sizeof(class), "%04" PRIx64, (ctl_object_get_unsigned(d, "Class", 0) >> 8) & 0xffff);
        snprintf(ids, sizeof(ids), "%04" PRIx64 ":%04" PRIx64,
                 ctl_object_get_unsigned(d, "VendorId", 0) & 0xffff,
                 ctl_object_get_unsigned(d, "DeviceId", 0) & 0xffff);
        if (group >= 0)
                snprintf(group_text, sizeof(group_text), "%" PRIi64, group);
        if (asprintf(&name, "%s %s", ctl_object_get_string(d, "VendorName"),
                     ctl_object_get_string(d, "DeviceName")) < 0)
                return -ENOMEM;
        /* Bound by vfiohostd: say what unbind gives it back to; persisted:
         * its name, and its state unless applied. */
        {
                const char *persisted = ctl_object_get_string(d, "PersistentState");
                const char *pname = ctl_object_get_string(d, "Name");
                bool applied = strcmp(persisted, "applied") == 0;
                _cleanup_free_ char *mark = NULL;

                if (*persisted && asprintf(&mark, " [%s%s%s]", *pname ? pname : "persisted",
                                           applied ? "" : ": ", applied ? "" : persisted) < 0)
                        return -ENOMEM;
                if (((strcmp(driver, VH_DRIVER_VFIO_PCI) == 0 && *original) || mark) &&
                    asprintf(&driver_text, "%s%s%s%s%s", driver, *original ? " (was " : "", original,
                             *original ? ")" : "", strempty(mark)) < 0)
                        return -ENOMEM;
        }

        r = ctl_table_add_cell(t, ctl_object_get_string(d, "Address"), NULL);
        if (r >= 0)
                r = ctl_table_add_cell(t, class, NULL);
        if (r >= 0)
                r = ctl_table_add_cell(t, ids, NULL);
        if (r >= 0)
                r = ctl_table_add_cell(t, name, NULL);
        if (r >= 0)
                r = ctl_table_add_cell(t, driver_text ?: driver,
                                       strcmp(driver, VH_DRIVER_VFIO_PCI) == 0 ? ctl_ansi_green() : NULL);
        if (r >= 0)
                r = ctl_table_add_cell(t, group_text, NULL);
        return r;
}

int verb_list(sd_bus *bus, int argc, char **argv, const CtlOptions *options) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(ctl_host_freep) CtlHost *h = NULL;
        int r;

        r = ctl_bus_get_host(bus, &h, &error);
        if (r < 0)
                return ctl_report_error(&error);

        if (ctl_output_json()) {
                _cleanup_(json_object_putp) struct json_object *a = NULL;

                a = json_object_new_array();
                if (!a)
                        return ctl_report_errno(-ENOMEM, "failed to build JSON: %m");

                for (size_t i = 0; i < h->n_devices; i++) {
                        struct json_object *d = ctl_object_to_json(h->devices[i]);

                        if (!d || json_object_array_add(a, d) < 0) {
                                json_object_put(d);
                                return ctl_report_errno(-ENOMEM, "failed to build JSON: %m");
                        }
                }

                r = ctl_json_print(TAKE_PTR(a));
                if (r < 0)
                        return ctl_report_errno(r, "failed to print JSON: %m");
                return CTL_EXIT_SUCCESS;
        }

        _cleanup_(ctl_table_freep) CtlTable *t = ctl_table_new(_COLUMN_MAX, headers);
        if (!t)
                return ctl_report_errno(-ENOMEM, "failed to build the table: %m");
        /* Names are the long part; on a narrow terminal they give way. */
        ctl_table_set_ellipsize_column(t, COLUMN_NAME);

        for (size_t i = 0; i < h->n_devices; i++) {
                r = add_row(t, h->devices[i]);
                if (r < 0)
                        return ctl_report_errno(r, "failed to build the table: %m");
        }

        r = ctl_table_print(t);
        if (r < 0)
                return ctl_report_errno(r, "failed to print the table: %m");

        return CTL_EXIT_SUCCESS;
}
