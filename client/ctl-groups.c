/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* vfiohostctl groups: each IOMMU group, whether a VM can take it now and
 * why (not), and its members: a group is handed over as a whole. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ctl-i18n.h"
#include "ctl-bus.h"
#include "ctl-output.h"
#include "ctl-pci-display.h"
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
                printf(_("No IOMMU groups: %s\n"),
                       ctl_object_get_bool(h->manager, "IommuEnabled") ?
                       _("the IOMMU is enabled but the kernel made no groups.") :
                       _("the kernel has no active IOMMU (enable VT-d/AMD-Vi in the firmware, and intel_iommu=on on Intel)."));
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
                const char *assignability = ctl_object_get_string(g, "Assignability");
                const char *label, *color;
                char heading[64];
                size_t column;

                if (i > 0)
                        putchar('\n');

                /* "Not viable" says too little: bind the group and it is
                 * fine, or never pass it through (chipset). */
                if (strcmp(assignability, "never") == 0)
                        label = _("never pass through"), color = ctl_ansi_red();
                else if (strcmp(assignability, "bind-first") == 0)
                        label = _("not viable until bound"), color = ctl_ansi_yellow();
                else if (strcmp(assignability, "nothing") == 0)
                        label = _("nothing to assign"), color = "";
                else if (viable)
                        label = _("viable"), color = ctl_ansi_green();
                else                    /* an older daemon without Assignability */
                        label = _("not viable"), color = ctl_ansi_red();

                if (*type)
                        snprintf(heading, sizeof(heading), _("Group %" PRIi64 " (type %s)"), ctl_object_get_int(g, "Id", -1), type);
                else
                        snprintf(heading, sizeof(heading), _("Group %" PRIi64), ctl_object_get_int(g, "Id", -1));
                printf("%s%s%s: %s%s%s", ctl_ansi_bold(), heading, ctl_ansi_normal(), color, label,
                       *color ? ctl_ansi_normal() : "");
                column = strlen(heading) + 2 + strlen(label);
                if (*reason) {
                        /* Wrapped at words under the heading, never cut. */
                        fputs(" — ", stdout);
                        ctl_print_wrapped(column + 3, "    ", reason);
                } else
                        putchar('\n');

                STRV_FOREACH(a, ctl_object_get_strv(g, "Addresses")) {
                        const CtlObject *d = ctl_host_find_device(h, *a);
                        const char *driver = member_driver(h, *a);
                        _cleanup_free_ char *vendor = d ? ctl_short_vendor_name(ctl_object_get_string(d, "VendorName")) : NULL;
                        _cleanup_free_ char *device = d ? ctl_short_device_name(ctl_object_get_string(d, "DeviceName")) : NULL;

                        _cleanup_free_ char *name = NULL;

                        if (asprintf(&name, "%s%s%s", vendor ?: _("(not a known PCI function)"), vendor ? " " : "",
                                     strempty(device)) < 0)
                                return ctl_report_errno(-ENOMEM, "failed to allocate memory: %m");
                        printf("  %s  %s%-*s%s  ",
                               *a,
                               strcmp(driver, VH_DRIVER_VFIO_PCI) == 0 ? ctl_ansi_green() : "",
                               driver_width, driver,
                               strcmp(driver, VH_DRIVER_VFIO_PCI) == 0 ? ctl_ansi_normal() : "");
                        ctl_print_fitted(2 + strlen(*a) + 2 + (size_t) driver_width + 2, name);
                }
        }

        return CTL_EXIT_SUCCESS;
}
