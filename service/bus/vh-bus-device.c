/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "vh-address.h"
#include "vh-bus-objects.h"
#include "vh-macro.h"
#include "vh-names.h"
#include "vh-strv.h"

/* Getters read the field at the vtable's offset from the found device;
 * properties without a getter use sd-bus's own (strings NULL-safe). */
static int property_get_address(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const VhPciDevice *d = userdata;

        return sd_bus_message_append(reply, "s", d->address);
}

static int property_get_bool(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        /* sd-bus's automatic 'b' reads an int; ours are bool. */
        return sd_bus_message_append(reply, "b", (int) *(const bool *) userdata);
}

static int property_get_group(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *group = NULL;
        const VhPciDevice *d = userdata;
        int r;

        if (d->iommu_group < 0)
                return sd_bus_message_append(reply, "o", "/");

        r = vh_bus_group_path((unsigned) d->iommu_group, &group);
        if (r < 0)
                return r;
        return sd_bus_message_append(reply, "o", group);
}

static int property_get_virtual_functions(sd_bus *bus, const char *path, const char *interface, const char *property,
                                          sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const VhPciDevice *d = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "o");
        if (r < 0)
                return r;
        for (size_t i = 0; i < d->n_virtfns; i++) {
                _cleanup_free_ char *vf = NULL;

                r = vh_bus_device_path(d->virtfns[i].address, &vf);
                if (r < 0)
                        return r;
                r = sd_bus_message_append(reply, "o", vf);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

/* Also walked by ListDevices (vh-bus-device-list.c), so that its columns
 * are these properties, read by these getters. */
const sd_bus_vtable vh_bus_device_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Address", "s", property_get_address, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("VendorId", "q", NULL, offsetof(VhPciDevice, vendor_id), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("DeviceId", "q", NULL, offsetof(VhPciDevice, device_id), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("SubsystemVendorId", "q", NULL, offsetof(VhPciDevice, subsystem_vendor_id), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("SubsystemDeviceId", "q", NULL, offsetof(VhPciDevice, subsystem_device_id), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Revision", "y", NULL, offsetof(VhPciDevice, revision), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Class", "u", NULL, offsetof(VhPciDevice, class_code), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("VendorName", "s", NULL, offsetof(VhPciDevice, vendor_name), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("DeviceName", "s", NULL, offsetof(VhPciDevice, device_name), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("SubsystemVendorName", "s", NULL, offsetof(VhPciDevice, subsystem_vendor_name), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("SubsystemName", "s", NULL, offsetof(VhPciDevice, subsystem_name), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ClassName", "s", NULL, offsetof(VhPciDevice, class_name), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Driver", "s", NULL, offsetof(VhPciDevice, driver), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("OriginalDriver", "s", NULL, offsetof(VhPciDevice, original_driver), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("DriverOverride", "s", NULL, offsetof(VhPciDevice, driver_override), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("IommuGroup", "i", NULL, offsetof(VhPciDevice, iommu_group), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Group", "o", property_get_group, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("NumaNode", "i", NULL, offsetof(VhPciDevice, numa_node), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("BootVga", "b", property_get_bool, offsetof(VhPciDevice, boot_vga), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ResetMethods", "as", NULL, offsetof(VhPciDevice, reset_methods), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("D3coldAllowed", "b", property_get_bool, offsetof(VhPciDevice, d3cold_allowed), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("PhysicalFunction", "s", NULL, offsetof(VhPciDevice, physfn), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Parent", "s", NULL, offsetof(VhPciDevice, parent), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("SriovNumVfs", "u", NULL, offsetof(VhPciDevice, sriov_numvfs), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("SriovTotalVfs", "u", NULL, offsetof(VhPciDevice, sriov_totalvfs), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("VirtualFunctions", "ao", property_get_virtual_functions, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("VirtualFunctionIndex", "i", NULL, offsetof(VhPciDevice, vf_index), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("SriovDriversAutoprobe", "b", property_get_bool, offsetof(VhPciDevice, sriov_drivers_autoprobe),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("VfioGroupPath", "s", NULL, offsetof(VhPciDevice, vfio_group_path), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("VfioDevicePath", "s", NULL, offsetof(VhPciDevice, vfio_device_path), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Name", "s", NULL, offsetof(VhPciDevice, assignment_name), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("PersistentState", "s", NULL, offsetof(VhPciDevice, assignment_state), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_VTABLE_END
};

/* Resolves a path below /org/vfiohost/device to the device it names. */
static int device_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                              void **found, sd_bus_error *error) {
        char address[VH_ADDRESS_MAX];
        VhDaemon *daemon = userdata;
        VhPciDevice *d;
        int r;

        r = vh_bus_device_address_from_path(path, address);
        if (r <= 0)
                return r;

        d = vh_host_find_device(daemon->host, address);
        if (!d)
                return 0;

        *found = d;
        return 1;
}

static int device_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        _cleanup_strv_free_ char **l = NULL;
        VhDaemon *daemon = userdata;
        int r;

        l = calloc(daemon->host->n_devices + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;

        for (size_t i = 0; i < daemon->host->n_devices; i++) {
                r = vh_bus_device_path(daemon->host->devices[i]->address, &l[i]);
                if (r < 0)
                        return r;
        }

        *nodes = TAKE_PTR(l);
        return 1;
}

int vh_bus_device_register(VhDaemon *d) {
        int r;

        r = sd_bus_add_fallback_vtable(d->bus, NULL, VH_DEVICE_PATH_PREFIX, VH_DEVICE_INTERFACE,
                                       vh_bus_device_vtable, device_object_find, d);
        if (r < 0)
                return r;

        return sd_bus_add_node_enumerator(d->bus, NULL, VH_DEVICE_PATH_PREFIX, device_node_enumerator, d);
}
