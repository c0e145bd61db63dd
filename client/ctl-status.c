/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* vfiohostctl status: the host in a few lines. The counts come from the
 * same objects that list and groups show, so the summary always agrees
 * with the details (fwupd#6253). */

#include <string.h>

#include "ctl-bus.h"
#include "ctl-i18n.h"
#include "ctl-output.h"
#include "ctl-verbs.h"
#include "vh-names.h"

static int json_add_count(struct json_object *j, const char *key, size_t n) {
        struct json_object *v = json_object_new_int64((int64_t) n);

        if (!v || json_object_object_add(j, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static void print_field(const char *label, const char *color, const char *value) {
        printf("%-16s %s%s%s\n", label, strempty(color), value, *strempty(color) ? ctl_ansi_normal() : "");
}

static void print_yes_no(const char *label, bool b) {
        print_field(label, b ? ctl_ansi_green() : ctl_ansi_red(), b ? _("yes") : _("no"));
}

static void print_count(const char *label, size_t n) {
        char buf[32];

        snprintf(buf, sizeof(buf), "%zu", n);
        print_field(label, NULL, buf);
}

int verb_status(sd_bus *bus, int argc, char **argv, const CtlOptions *options) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(ctl_host_freep) CtlHost *h = NULL;
        size_t n_viable = 0, n_vfio = 0;
        int r;

        r = ctl_bus_get_host(bus, &h, &error);
        if (r < 0)
                return ctl_report_error(&error);

        /* Groups a VM can take: a bridge-only group is viable but gives
         * nothing (older daemons without Assignability: Viable). */
        for (size_t i = 0; i < h->n_groups; i++) {
                const char *a = ctl_object_get_string(h->groups[i], "Assignability");

                if (*a ? strcmp(a, "assignable") == 0 : ctl_object_get_bool(h->groups[i], "Viable"))
                        n_viable++;
        }
        for (size_t i = 0; i < h->n_devices; i++)
                if (strcmp(ctl_object_get_string(h->devices[i], "Driver"), VH_DRIVER_VFIO_PCI) == 0)
                        n_vfio++;

        if (ctl_output_json()) {
                _cleanup_(json_object_putp) struct json_object *j = NULL;

                /* Every Manager1 property (version, iommu_enabled, ...), then the counts. */
                j = ctl_object_to_json(h->manager);
                if (!j ||
                    json_add_count(j, "devices", h->n_devices) < 0 ||
                    json_add_count(j, "groups", h->n_groups) < 0 ||
                    json_add_count(j, "viable_groups", n_viable) < 0 ||
                    json_add_count(j, "vfio_devices", n_vfio) < 0)
                        return ctl_report_errno(-ENOMEM, "failed to build JSON: %m");

                r = ctl_json_print(TAKE_PTR(j));
                if (r < 0)
                        return ctl_report_errno(r, "failed to print JSON: %m");
                return CTL_EXIT_SUCCESS;
        }

        print_field(_("Version:"), NULL, ctl_object_get_string(h->manager, "Version"));
        print_yes_no(_("IOMMU enabled:"), ctl_object_get_bool(h->manager, "IommuEnabled"));
        print_yes_no(_("VFIO available:"), ctl_object_get_bool(h->manager, "VfioAvailable"));
        print_count(_("PCI functions:"), h->n_devices);
        print_count(_("IOMMU groups:"), h->n_groups);
        print_count(_("Viable groups:"), n_viable);
        print_count(_("On vfio-pci:"), n_vfio);
        {
                /* The host checks' verdict, as in --json's "readiness". */
                const char *verdict = ctl_object_get_string(h->manager, "Readiness");

                if (*verdict)
                        print_field(_("Readiness:"), strcmp(verdict, "ready") == 0 ? ctl_ansi_green() : ctl_ansi_red(),
                                    /* TRANSLATORS: the verdict, as vfiohostctl check prints it */
                                    strcmp(verdict, "ready") == 0 ? _("READY") :
                                    strcmp(verdict, "not-ready") == 0 ? _("NOT READY (see 'vfiohostctl check')") : verdict);
        }

        return CTL_EXIT_SUCCESS;
}
