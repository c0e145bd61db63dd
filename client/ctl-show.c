/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* vfiohostctl show ADDRESS: one PCI function, every property. The text is
 * for people, boltctl-style: labels in words, values as a person reads
 * them ("none" for NUMA node -1, the group by number, holders by VM name),
 * related properties on one line. --json carries the D-Bus properties as
 * they are (docs/client.md). A property this client does not know (a
 * newer daemon's) is shown last by its D-Bus name, not dropped. */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "ctl-bus.h"
#include "ctl-i18n.h"
#include "ctl-output.h"
#include "ctl-pci-display.h"
#include "ctl-verbs.h"
#include "vh-names.h"
#include "vh-strv.h"

/* Wide enough for the longest label, so that the values line up. */
#define LABEL_WIDTH 18

/* The properties the labelled lines below cover; the rest go last. */
static const char * const shown_properties[] = {
        "Address", "VendorId", "DeviceId", "SubsystemVendorId", "SubsystemDeviceId", "Revision", "Class",
        "VendorName", "DeviceName", "SubsystemVendorName", "SubsystemName", "ClassName",
        "Driver", "OriginalDriver", "DriverOverride", "IommuGroup", "Group", "NumaNode", "BootVga",
        "ResetMethods", "D3coldAllowed", "PhysicalFunction", "Parent", "SriovNumVfs", "SriovTotalVfs",
        "VirtualFunctions", "VirtualFunctionIndex", "SriovDriversAutoprobe", "VfioGroupPath",
        "VfioDevicePath", "Name", "PersistentState", "HeldBy",
};

static void print_field(const char *label, const char *value) {
        printf("  %-*s %s\n", LABEL_WIDTH, label, value && *value ? value : "-");
}

_printf_(2, 3)
static void print_fieldf(const char *label, const char *fmt, ...) {
        _cleanup_free_ char *value = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&value, fmt, ap);
        va_end(ap);
        print_field(label, r >= 0 ? value : "?");
}

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

/* A holder as a person knows it: "VM win11 (pid 3456)", "nvidia-smi (pid
 * 812)". The name is asked of its object; a holder gone meanwhile is
 * still shown by the pid its path carries. */
static char *holder_to_string(sd_bus *bus, const char *path) {
        _cleanup_free_ char *pid = NULL, *name = NULL, *s = NULL;
        bool vm;
        int r;

        vm = sd_bus_path_decode(path, VH_VM_PATH_PREFIX, &pid) > 0;
        if (!vm && sd_bus_path_decode(path, VH_PROCESS_PATH_PREFIX, &pid) <= 0)
                return strdup(path);
        (void) sd_bus_get_property_string(bus, VH_BUS_NAME, path, vm ? VH_VM_INTERFACE : VH_PROCESS_INTERFACE,
                                          vm ? "Name" : "Command", NULL, &name);
        if (vm && name && *name)
                r = asprintf(&s, _("VM %s (pid %s)"), name, pid);
        else if (vm)
                r = asprintf(&s, _("VM (pid %s)"), pid);
        else if (name && *name)
                /* TRANSLATORS: a process that is not a VM holding a device: "nvidia-smi (pid 812)" */
                r = asprintf(&s, _("%s (pid %s)"), name, pid);
        else
                r = asprintf(&s, _("pid %s"), pid);
        if (r < 0)
                return NULL;
        return TAKE_PTR(s);
}

static char *holders_to_string(sd_bus *bus, char **paths) {
        _cleanup_strv_free_ char **holders = NULL;

        holders = calloc(1, sizeof(char *));
        if (!holders)
                return NULL;
        STRV_FOREACH(path, paths) {
                char *h = holder_to_string(bus, *path);

                if (!h || vh_strv_push(&holders, h) < 0) {
                        free(h);
                        return NULL;
                }
        }
        return vh_strv_join(holders, ", ");
}

/* "vfio-pci, was nvidia (driver_override vfio-pci)", "none": one whole
 * format per case, for translators. */
static void print_driver(const CtlObject *d) {
        const char *driver = ctl_object_get_string(d, "Driver");
        const char *original = ctl_object_get_string(d, "OriginalDriver");
        const char *override = ctl_object_get_string(d, "DriverOverride");
        const char *shown = *driver ? driver : _("none");
        bool was = *original && strcmp(original, driver) != 0;

        if (was && *override)
                print_fieldf(_("driver:"), _("%s, was %s (driver_override %s)"), shown, original, override);
        else if (was)
                print_fieldf(_("driver:"), _("%s, was %s"), shown, original);
        else if (*override)
                print_fieldf(_("driver:"), _("%s (driver_override %s)"), shown, override);
        else
                print_field(_("driver:"), shown);
}

static void print_identity(const CtlObject *d) {
        uint64_t class_code = ctl_object_get_unsigned(d, "Class", 0);
        const char *subsystem_vendor = ctl_object_get_string(d, "SubsystemVendorName");
        const char *subsystem = ctl_object_get_string(d, "SubsystemName");

        print_fieldf(_("vendor:"), "%s (%04" PRIx64 ")", ctl_object_get_string(d, "VendorName"),
                     ctl_object_get_unsigned(d, "VendorId", 0));
        print_fieldf(_("device:"), _("%s (%04" PRIx64 ", revision %02" PRIx64 ")"), ctl_object_get_string(d, "DeviceName"),
                     ctl_object_get_unsigned(d, "DeviceId", 0), ctl_object_get_unsigned(d, "Revision", 0));
        print_fieldf(_("subsystem:"), "%s%s%s (%04" PRIx64 ":%04" PRIx64 ")", subsystem_vendor,
                     *subsystem_vendor && *subsystem ? " " : "", subsystem,
                     ctl_object_get_unsigned(d, "SubsystemVendorId", 0),
                     ctl_object_get_unsigned(d, "SubsystemDeviceId", 0));
        print_fieldf(_("class:"), "%s (%06" PRIx64 ")", *ctl_object_get_string(d, "ClassName") ?
                     ctl_object_get_string(d, "ClassName") : ctl_class_label((uint32_t) class_code), class_code);
}

static void print_topology(const CtlObject *d) {
        int64_t group = ctl_object_get_int(d, "IommuGroup", -1);
        int64_t numa = ctl_object_get_int(d, "NumaNode", -1);
        const char *group_node = ctl_object_get_string(d, "VfioGroupPath");
        const char *device_node = ctl_object_get_string(d, "VfioDevicePath");
        const char *parent = ctl_object_get_string(d, "Parent");

        if (group < 0)
                print_field(_("IOMMU group:"), _("none (no active IOMMU)"));
        else
                print_fieldf(_("IOMMU group:"), "%" PRIi64, group);
        if (*group_node || *device_node)
                print_fieldf(_("VFIO nodes:"), "%s%s%s", group_node, *group_node && *device_node ? ", " : "",
                             device_node);
        print_field(_("parent:"), *parent ? parent : _("none (a root bus device)"));
        /* The kernel says -1 when the function has no NUMA affinity. */
        if (numa < 0)
                print_field(_("NUMA node:"), _("none"));
        else
                print_fieldf(_("NUMA node:"), "%" PRIi64, numa);
}

static void print_power(const CtlObject *d) {
        _cleanup_free_ char *resets = vh_strv_join(ctl_object_get_strv(d, "ResetMethods"), ", ");

        print_field(_("boot display:"), ctl_object_get_bool(d, "BootVga") ? _("yes (the firmware's console)") : _("no"));
        print_field(_("reset methods:"), resets && *resets ? resets : _("none (the kernel cannot reset it alone)"));
        print_field(_("D3cold:"), ctl_object_get_bool(d, "D3coldAllowed") ? _("allowed") : _("not allowed"));
}

static int print_sriov(const CtlObject *d) {
        const char *pf = ctl_object_get_string(d, "PhysicalFunction");
        uint64_t total = ctl_object_get_unsigned(d, "SriovTotalVfs", 0);

        if (*pf)
                print_fieldf(_("virtual function:"), _("%" PRIi64 " of %s"),
                             ctl_object_get_int(d, "VirtualFunctionIndex", -1), pf);
        if (total > 0) {
                _cleanup_free_ char *vfs = device_paths_to_string(ctl_object_get_strv(d, "VirtualFunctions"));

                if (!vfs)
                        return -ENOMEM;
                print_fieldf(_("SR-IOV:"), _("%" PRIu64 " of %" PRIu64 " virtual functions enabled, driver autoprobe %s"),
                             ctl_object_get_unsigned(d, "SriovNumVfs", 0), total,
                             ctl_object_get_bool(d, "SriovDriversAutoprobe") ? _("on") : _("off"));
                if (*vfs)
                        print_field(_("virtual functions:"), vfs);
        }
        return 0;
}

static int print_others(const CtlObject *d) {
        for (size_t i = 0; i < d->n_properties; i++) {
                const CtlProperty *p = &d->properties[i];
                _cleanup_free_ char *value = NULL, *label = NULL;
                bool known = false;

                for (size_t k = 0; k < ELEMENTSOF(shown_properties) && !known; k++)
                        known = strcmp(p->name, shown_properties[k]) == 0;
                /* A type the client cannot format, as in --json: leave it out
                 * rather than print a value that is not there. */
                if (known || p->type == '\0')
                        continue;
                value = strcmp(p->signature, "ao") == 0 ? device_paths_to_string(p->strv) : ctl_property_to_string(p);
                if (!value || asprintf(&label, "%s:", p->name) < 0)
                        return -ENOMEM;
                print_field(label, value);
        }
        return 0;
}

int verb_show(sd_bus *bus, int argc, char **argv, const CtlOptions *options) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(ctl_object_freep) CtlObject *d = NULL;
        _cleanup_free_ char *address = NULL, *vendor = NULL, *device = NULL, *held_by = NULL;
        const char *name;
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

        vendor = ctl_short_vendor_name(ctl_object_get_string(d, "VendorName"));
        device = ctl_short_device_name(ctl_object_get_string(d, "DeviceName"));
        held_by = holders_to_string(bus, ctl_object_get_strv(d, "HeldBy"));
        if (!vendor || !device || !held_by)
                return ctl_report_errno(-ENOMEM, "failed to allocate memory: %m");

        printf("%s%s%s  %s%s%s\n", ctl_ansi_bold(), ctl_object_get_string(d, "Address"), ctl_ansi_normal(),
               vendor, *vendor && *device ? " " : "", device);
        print_identity(d);
        print_driver(d);
        print_topology(d);
        print_power(d);
        if (print_sriov(d) < 0)
                return ctl_report_errno(-ENOMEM, "failed to allocate memory: %m");
        name = ctl_object_get_string(d, "Name");
        if (*name)
                print_fieldf(_("assignment:"), "%s%s%s%s", name,
                             *ctl_object_get_string(d, "PersistentState") ? " (" : "",
                             ctl_object_get_string(d, "PersistentState"),
                             *ctl_object_get_string(d, "PersistentState") ? ")" : "");
        print_field(_("held by:"), *held_by ? held_by : _("nobody"));
        if (print_others(d) < 0)
                return ctl_report_errno(-ENOMEM, "failed to allocate memory: %m");

        return CTL_EXIT_SUCCESS;
}
