/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* vfiohostctl groups: each IOMMU group, whether a VM can take it now and
 * why (not), and its members: a group is handed over as a whole. */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ctl-bus.h"
#include "ctl-output.h"
#include "ctl-verbs.h"
#include "vh-names.h"
#include "vh-strv.h"

/* Group1 as JSON: the generic conversion, except that the members appear
 * once, by address, as "devices"; their object paths mean nothing to a
 * script that does not speak D-Bus. */
static struct json_object *group_to_json(const CtlObject *g) {
        _cleanup_(json_object_putp) struct json_object *j = NULL;
        struct json_object *addresses;

        j = ctl_object_to_json(g);
        if (!j)
                return NULL;

        json_object_object_del(j, "devices");
        if (json_object_object_get_ex(j, "addresses", &addresses)) {
                json_object_get(addresses);
                json_object_object_del(j, "addresses");
                if (json_object_object_add(j, "devices", addresses) < 0) {
                        json_object_put(addresses);
                        return NULL;
                }
        }

        return TAKE_PTR(j);
}

static int print_json(const CtlHost *h) {
        _cleanup_(json_object_putp) struct json_object *a = NULL;
        int r;

        a = json_object_new_array();
        if (!a)
                return ctl_report_errno(-ENOMEM, "failed to build JSON: %m");

        for (size_t i = 0; i < h->n_groups; i++) {
                struct json_object *g = group_to_json(h->groups[i]);

                if (!g || json_object_array_add(a, g) < 0) {
                        json_object_put(g);
                        return ctl_report_errno(-ENOMEM, "failed to build JSON: %m");
                }
        }

        r = ctl_json_print(TAKE_PTR(a));
        if (r < 0)
                return ctl_report_errno(r, "failed to print JSON: %m");
        return CTL_EXIT_SUCCESS;
}

static const char *member_driver(const CtlHost *h, const char *address) {
        const CtlObject *d = ctl_host_find_device(h, address);
        const char *driver = d ? ctl_object_get_string(d, "Driver") : "";

        return *driver ? driver : "-";
}

int verb_groups(sd_bus *bus, int argc, char **argv, const CtlOptions *options) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(ctl_host_freep) CtlHost *h = NULL;
        int driver_width = 0;
        int r;

        r = ctl_bus_get_host(bus, &h, &error);
        if (r < 0)
                return ctl_report_error(&error);

        if (ctl_output_json())
                return print_json(h);

        /* Silence would look like a broken client; say what empty means. */
        if (h->n_groups == 0) {
                printf("No IOMMU groups: %s\n",
                       ctl_object_get_bool(h->manager, "IommuEnabled") ?
                       "the IOMMU is enabled but the kernel made no groups." :
                       "the kernel has no active IOMMU (enable VT-d/AMD-Vi in the firmware, and intel_iommu=on on Intel).");
                return CTL_EXIT_SUCCESS;
        }

        /* One driver column for all groups, so members line up down the page. */
        for (size_t i = 0; i < h->n_groups; i++)
                STRV_FOREACH(a, ctl_object_get_strv(h->groups[i], "Addresses")) {
                        int w = (int) strlen(member_driver(h, *a));

                        if (w > driver_width)
                                driver_width = w;
                }

        for (size_t i = 0; i < h->n_groups; i++) {
                const CtlObject *g = h->groups[i];
                const char *type = ctl_object_get_string(g, "Type");
                const char *reason = ctl_object_get_string(g, "ViabilityReason");
                bool viable = ctl_object_get_bool(g, "Viable");

                if (i > 0)
                        putchar('\n');

                printf("%sGroup %" PRIi64 "%s", ctl_ansi_bold(), ctl_object_get_int(g, "Id", -1), ctl_ansi_normal());
                if (*type)
                        printf(" (type %s)", type);
                printf(": %s%s%s", viable ? ctl_ansi_green() : ctl_ansi_red(),
                       viable ? "viable" : "not viable", ctl_ansi_normal());
                if (*reason)
                        printf(" — %s", reason);
                putchar('\n');

                STRV_FOREACH(a, ctl_object_get_strv(g, "Addresses")) {
                        const CtlObject *d = ctl_host_find_device(h, *a);
                        const char *driver = member_driver(h, *a);

                        printf("  %s  %s%-*s%s  %s%s%s\n",
                               *a,
                               strcmp(driver, VH_DRIVER_VFIO_PCI) == 0 ? ctl_ansi_green() : "",
                               driver_width, driver,
                               strcmp(driver, VH_DRIVER_VFIO_PCI) == 0 ? ctl_ansi_normal() : "",
                               d ? ctl_object_get_string(d, "VendorName") : "(not a known PCI function)",
                               d ? " " : "",
                               d ? ctl_object_get_string(d, "DeviceName") : "");
                }
        }

        return CTL_EXIT_SUCCESS;
}
