/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* vfiohostctl list: every PCI function, one row each, in address order,
 * from a single GetManagedObjects call; SR-IOV VFs follow their PF,
 * indented, in the order of their index. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
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

static int add_row(CtlTable *t, const CtlObject *d, bool indent) {
        const char *driver = ctl_object_get_string(d, "Driver");
        const char *original = ctl_object_get_string(d, "OriginalDriver");
        int64_t group = ctl_object_get_int(d, "IommuGroup", -1);
        char class[8], ids[16], group_text[24] = "";
        _cleanup_free_ char *name = NULL, *driver_text = NULL, *address_text = NULL;
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

        if (indent && asprintf(&address_text, "  %s", ctl_object_get_string(d, "Address")) < 0)
                return -ENOMEM;
        r = ctl_table_add_cell(t, address_text ?: ctl_object_get_string(d, "Address"), NULL);
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

static const CtlObject *find_device(const CtlHost *h, const char *address) {
        for (size_t i = 0; i < h->n_devices; i++)
                if (strcmp(ctl_object_get_string(h->devices[i], "Address"), address) == 0)
                        return h->devices[i];
        return NULL;
}

/* A VF whose PF is listed goes under it, not in its own place. */
static bool listed_under_pf(const CtlHost *h, const CtlObject *d) {
        const char *pf = ctl_object_get_string(d, "PhysicalFunction");

        return *pf && find_device(h, pf);
}

/* Unknown indexes (-1) last; the devices come in address order. */
static int64_t sort_index(const CtlObject *vf) {
        int64_t index = ctl_object_get_int(vf, "VirtualFunctionIndex", -1);

        return index < 0 ? INT64_MAX : index;
}

static int add_virtfns(CtlTable *t, const CtlHost *h, const CtlObject *pf) {
        const char *address = ctl_object_get_string(pf, "Address");
        _cleanup_free_ const CtlObject **vfs = NULL;
        size_t n = 0;
        int r;

        vfs = calloc(h->n_devices + 1, sizeof(CtlObject *));
        if (!vfs)
                return -ENOMEM;
        /* Insertion by index, stable: the address breaks ties. */
        for (size_t i = 0; i < h->n_devices; i++) {
                size_t k;

                if (strcmp(ctl_object_get_string(h->devices[i], "PhysicalFunction"), address) != 0)
                        continue;
                for (k = n; k > 0 && sort_index(vfs[k - 1]) > sort_index(h->devices[i]); k--)
                        vfs[k] = vfs[k - 1];
                vfs[k] = h->devices[i];
                n++;
        }
        for (size_t k = 0; k < n; k++) {
                r = add_row(t, vfs[k], true);
                if (r < 0)
                        return r;
        }
        return 0;
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
                if (listed_under_pf(h, h->devices[i]))
                        continue;
                r = add_row(t, h->devices[i], false);
                if (r >= 0)
                        r = add_virtfns(t, h, h->devices[i]);
                if (r < 0)
                        return ctl_report_errno(r, "failed to build the table: %m");
        }

        r = ctl_table_print(t);
        if (r < 0)
                return ctl_report_errno(r, "failed to print the table: %m");

        return CTL_EXIT_SUCCESS;
}
