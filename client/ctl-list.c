/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* vfiohostctl list: every PCI function, one row each, in address order,
 * from a single Manager1.ListDevices call; SR-IOV VFs follow their PF,
 * indented, in the order of their index. --tree: under the bridges they
 * sit behind (Device1.Parent), VFs under their PF, as lspci -t does;
 * --class: only one kind of function. Names are shortened and the name
 * gives way first on a narrow terminal (docs/client.md, "Tables"). */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-i18n.h"
#include "ctl-bus.h"
#include "ctl-output.h"
#include "ctl-pci-display.h"
#include "ctl-verbs.h"
#include "vh-names.h"

static const char * const headers_with_ids[] = { N_("ADDRESS"), N_("CLASS"), N_("IDS"), N_("NAME"), N_("DRIVER"), N_("GROUP") };
static const char * const headers_without_ids[] = { N_("ADDRESS"), N_("CLASS"), N_("NAME"), N_("DRIVER"), N_("GROUP") };

/* What the table prints, all a listing asks for (--json asks for all). */
static char * const table_properties[] = {
        (char *) "Address", (char *) "Class", (char *) "VendorId", (char *) "DeviceId", (char *) "VendorName",
        (char *) "DeviceName", (char *) "Driver", (char *) "OriginalDriver", (char *) "IommuGroup",
        (char *) "PersistentState", (char *) "Name", (char *) "PhysicalFunction",
        (char *) "VirtualFunctionIndex", (char *) "Parent", NULL
};

/* The IDS column only where it fits: a pipe, --full, or a wide terminal. */
#define IDS_MIN_COLUMNS 120

typedef struct ListContext {
        CtlTable *table;
        bool show_ids;
        const CtlClassFilter *filter;   /* NULL: every class */
} ListContext;

/* "NVIDIA GeForce RTX 4090": the short vendor and device names. */
static char *display_name(const CtlObject *d) {
        _cleanup_free_ char *vendor = ctl_short_vendor_name(ctl_object_get_string(d, "VendorName"));
        _cleanup_free_ char *device = ctl_short_device_name(ctl_object_get_string(d, "DeviceName"));
        char *name;

        if (!vendor || !device || asprintf(&name, "%s%s%s", vendor, *vendor && *device ? " " : "", device) < 0)
                return NULL;
        return name;
}

static int add_row(ListContext *c, const CtlObject *d, const char *prefix) {
        CtlTable *t = c->table;
        const char *driver = ctl_object_get_string(d, "Driver");
        const char *original = ctl_object_get_string(d, "OriginalDriver");
        int64_t group = ctl_object_get_int(d, "IommuGroup", -1);
        uint32_t class_code = (uint32_t) ctl_object_get_unsigned(d, "Class", 0);
        char ids[32], group_text[24] = "";
        _cleanup_free_ char *name = NULL, *driver_text = NULL, *address_text = NULL;
        int r;

        /* Class and ids as lspci -nn shows them: "0300 10de:2684". */
        snprintf(ids, sizeof(ids), "%04" PRIx32 " %04" PRIx64 ":%04" PRIx64, (class_code >> 8) & 0xffff,
                 ctl_object_get_unsigned(d, "VendorId", 0) & 0xffff,
                 ctl_object_get_unsigned(d, "DeviceId", 0) & 0xffff);
        if (group >= 0)
                snprintf(group_text, sizeof(group_text), "%" PRIi64, group);
        name = display_name(d);
        if (!name)
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

        if (prefix && asprintf(&address_text, "%s%s", prefix, ctl_object_get_string(d, "Address")) < 0)
                return -ENOMEM;
        r = ctl_table_add_cell(t, address_text ?: ctl_object_get_string(d, "Address"), NULL);
        if (r >= 0)
                r = ctl_table_add_cell(t, ctl_class_label(class_code), NULL);
        if (r >= 0 && c->show_ids)
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

static bool wanted(const ListContext *c, const CtlObject *d) {
        return !c->filter || ctl_class_filter_match(c->filter, (uint32_t) ctl_object_get_unsigned(d, "Class", 0));
}

/* pf's VFs, by index; NULL-terminated, NULL on OOM. */
static const CtlObject **virtfns_of(const CtlHost *h, const CtlObject *pf) {
        const char *address = ctl_object_get_string(pf, "Address");
        const CtlObject **vfs = calloc(h->n_devices + 1, sizeof(CtlObject *));
        size_t n = 0;

        if (!vfs)
                return NULL;
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
        return vfs;
}

static int add_virtfns(ListContext *c, const CtlHost *h, const CtlObject *pf) {
        _cleanup_free_ const CtlObject **vfs = virtfns_of(h, pf);
        int r;

        if (!vfs)
                return -ENOMEM;
        for (size_t k = 0; vfs[k]; k++) {
                if (!wanted(c, vfs[k]))
                        continue;
                r = add_row(c, vfs[k], "  ");
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---------- --tree ---------- */

/* Where a function hangs in the tree: a VF under its PF, the rest under
 * their bridge; "" for a root (a root bus, or a parent not listed). */
static const char *tree_parent(const CtlHost *h, const CtlObject *d) {
        const char *pf = ctl_object_get_string(d, "PhysicalFunction"), *parent;

        if (*pf && find_device(h, pf))
                return pf;
        parent = ctl_object_get_string(d, "Parent");
        return *parent && find_device(h, parent) ? parent : "";
}

/* Whether d or anything below it is wanted: a filtered tree keeps the
 * bridges that lead to what it shows. */
static bool subtree_wanted(const ListContext *c, const CtlHost *h, const CtlObject *d, unsigned depth) {
        const char *address = ctl_object_get_string(d, "Address");

        if (wanted(c, d))
                return true;
        if (depth > 32)                 /* a loop in a hostile tree */
                return false;
        for (size_t i = 0; i < h->n_devices; i++)
                if (strcmp(tree_parent(h, h->devices[i]), address) == 0 &&
                    subtree_wanted(c, h, h->devices[i], depth + 1))
                        return true;
        return false;
}

static int add_subtree(ListContext *c, const CtlHost *h, const char *parent, const char *indent, unsigned depth) {
        _cleanup_free_ const CtlObject **children = calloc(h->n_devices + 1, sizeof(CtlObject *));
        _cleanup_free_ const CtlObject **vfs = NULL;
        const CtlObject *pf = *parent ? find_device(h, parent) : NULL;
        size_t n = 0;
        int r;

        if (!children)
                return -ENOMEM;
        if (depth > 32)
                return 0;
        /* A PF's VFs by index, then the bridge's children by address. */
        if (pf) {
                vfs = virtfns_of(h, pf);
                if (!vfs)
                        return -ENOMEM;
                for (size_t k = 0; vfs[k]; k++)
                        if (subtree_wanted(c, h, vfs[k], depth))
                                children[n++] = vfs[k];
        }
        for (size_t i = 0; i < h->n_devices; i++) {
                const CtlObject *d = h->devices[i];

                if (*ctl_object_get_string(d, "PhysicalFunction") && pf &&
                    strcmp(ctl_object_get_string(d, "PhysicalFunction"), parent) == 0)
                        continue;
                if (strcmp(tree_parent(h, d), parent) == 0 && subtree_wanted(c, h, d, depth))
                        children[n++] = d;
        }
        for (size_t k = 0; k < n; k++) {
                bool last = k + 1 == n;
                _cleanup_free_ char *prefix = NULL, *child_indent = NULL;

                if (asprintf(&prefix, "%s%s", indent, depth == 0 ? "" : last ? "└─" : "├─") < 0 ||
                    asprintf(&child_indent, "%s%s", indent, depth == 0 ? "" : last ? "  " : "│ ") < 0)
                        return -ENOMEM;
                r = add_row(c, children[k], prefix);
                if (r >= 0)
                        r = add_subtree(c, h, ctl_object_get_string(children[k], "Address"), child_indent, depth + 1);
                if (r < 0)
                        return r;
        }
        return 0;
}

int verb_list(sd_bus *bus, int argc, char **argv, const CtlOptions *options) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(ctl_host_freep) CtlHost *h = NULL;
        _cleanup_(ctl_table_freep) CtlTable *t = NULL;
        CtlClassFilter filter;
        ListContext c = {};
        size_t columns = ctl_terminal_columns();
        int r;

        if (options->class_filter) {
                if (ctl_class_filter_parse(options->class_filter, &filter) < 0)
                        return ctl_report_usage("--class takes gpu, network, storage, usb, audio or a class code "
                                                "in hex (\"03\", \"0300\", \"030000\"), not '%s'",
                                                options->class_filter);
                c.filter = &filter;
        }

        /* Devices only, in columns (Manager1.ListDevices): groups and VMs
         * are not listed here. */
        r = ctl_bus_list_devices(bus, ctl_output_json() ? NULL : table_properties, &h, &error);
        if (r < 0)
                return ctl_report_error(&error);

        if (ctl_output_json()) {
                _cleanup_(json_object_putp) struct json_object *a = NULL;

                a = json_object_new_array();
                if (!a)
                        return ctl_report_errno(-ENOMEM, "failed to build JSON: %m");

                for (size_t i = 0; i < h->n_devices; i++) {
                        struct json_object *d;

                        if (!wanted(&c, h->devices[i]))
                                continue;
                        d = ctl_object_to_json(h->devices[i]);
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

        c.show_ids = columns == 0 || columns >= IDS_MIN_COLUMNS || ctl_output_full();
        t = c.show_ids ? ctl_table_new(ELEMENTSOF(headers_with_ids), headers_with_ids)
                       : ctl_table_new(ELEMENTSOF(headers_without_ids), headers_without_ids);
        if (!t)
                return ctl_report_errno(-ENOMEM, "failed to build the table: %m");
        c.table = t;
        /* The driver's "(was nvidia)" note gives way first (a plain driver
         * name stays whole), then the name; address, class and group never. */
        ctl_table_add_ellipsize_column(t, c.show_ids ? 4 : 3, 13);
        ctl_table_add_ellipsize_column(t, c.show_ids ? 3 : 2, 20);

        if (options->tree)
                r = add_subtree(&c, h, "", "", 0);
        else
                for (size_t i = 0; r >= 0 && i < h->n_devices; i++) {
                        if (listed_under_pf(h, h->devices[i]))
                                continue;
                        if (wanted(&c, h->devices[i]))
                                r = add_row(&c, h->devices[i], NULL);
                        if (r >= 0)
                                r = add_virtfns(&c, h, h->devices[i]);
                }
        if (r < 0)
                return ctl_report_errno(r, "failed to build the table: %m");

        r = ctl_table_print(t);
        if (r < 0)
                return ctl_report_errno(r, "failed to print the table: %m");

        return CTL_EXIT_SUCCESS;
}
