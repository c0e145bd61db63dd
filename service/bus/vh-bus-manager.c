/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>

#include "config.h"
#include "vh-address.h"
#include "vh-bus-binding.h"
#include "vh-bus-hotplug.h"
#include "vh-bus-objects.h"
#include "vh-bus-persistence.h"
#include "vh-bus-readiness.h"
#include "vh-bus-static-setup.h"
#include "vh-bus-vf-count.h"
#include "vh-bus-vms.h"
#include "vh-macro.h"
#include "vh-names.h"
#include "vh-utf8.h"

static int method_get_device(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *path = NULL;
        char address[VH_ADDRESS_MAX];
        VhDaemon *d = userdata;
        int r;

        /* Validate before anything is built from the string. */
        r = vh_bus_read_address(d, m, address, error);
        if (r < 0)
                return r;

        if (!vh_host_find_device(d->host, address))
                return sd_bus_error_setf(error, VH_ERROR_NOT_FOUND,
                                         VH_ADDRESS_NOT_FOUND_FMT,
                                         address);

        r = vh_bus_device_path(address, &path);
        if (r < 0)
                return r;

        return sd_bus_reply_method_return(m, "o", path);
}

static int property_get_version(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", VERSION);
}

static int property_get_iommu_enabled(sd_bus *bus, const char *path, const char *interface, const char *property,
                                      sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        VhDaemon *d = userdata;

        return sd_bus_message_append(reply, "b", (int) d->host->iommu_enabled);
}

static int property_get_vfio_available(sd_bus *bus, const char *path, const char *interface, const char *property,
                                       sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        VhDaemon *d = userdata;

        return sd_bus_message_append(reply, "b", (int) d->host->vfio_available);
}

static int property_get_reconciling(sd_bus *bus, const char *path, const char *interface, const char *property,
                                    sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        VhDaemon *d = userdata;

        return sd_bus_message_append(reply, "b", (int) d->reconciling);
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("IommuEnabled", "b", property_get_iommu_enabled, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Reconciling", "b", property_get_reconciling, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("VfioAvailable", "b", property_get_vfio_available, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Readiness", "s", vh_bus_property_get_readiness, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("GetDevice",
                                SD_BUS_ARGS("s", address),
                                SD_BUS_RESULT("o", device),
                                method_get_device,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListDevices",
                                SD_BUS_ARGS("as", properties),
                                SD_BUS_RESULT("ao", devices, "a{sv}", columns),
                                vh_bus_method_list_devices,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetReadiness",
                                SD_BUS_ARGS("a{sv}", options),
                                SD_BUS_RESULT("s", verdict, "aa{sv}", checks),
                                vh_bus_method_get_readiness,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetStaticSetup",
                                SD_BUS_ARGS("a{sv}", options),
                                SD_BUS_RESULT("a{sv}", setup),
                                vh_bus_method_get_static_setup,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        /* Unprivileged at the bus level: polkit decides (vh-bus-polkit.c). */
        SD_BUS_METHOD_WITH_ARGS("Bind",
                                SD_BUS_ARGS("s", address, "a{sv}", options),
                                SD_BUS_RESULT("a{sv}", result),
                                vh_bus_method_bind,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Unbind",
                                SD_BUS_ARGS("s", address, "a{sv}", options),
                                SD_BUS_RESULT("a{sv}", result),
                                vh_bus_method_unbind,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetPersistent",
                                SD_BUS_ARGS("s", address, "a{sv}", options),
                                SD_BUS_RESULT("a{sv}", result),
                                vh_bus_method_set_persistent,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ClearPersistent",
                                SD_BUS_ARGS("s", address_or_name),
                                SD_BUS_NO_RESULT,
                                vh_bus_method_clear_persistent,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetVfCount",
                                SD_BUS_ARGS("s", pf_address, "u", count, "a{sv}", options),
                                SD_BUS_RESULT("a{sv}", result),
                                vh_bus_method_set_vf_count,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListPersistent",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("aa{sv}", assignments),
                                vh_bus_method_list_persistent,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Subscribe", "", "", vh_bus_method_subscribe, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Unsubscribe", "", "", vh_bus_method_unsubscribe, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("DeviceAdded", SD_BUS_ARGS("o", device), 0),
        SD_BUS_SIGNAL_WITH_ARGS("DeviceRemoved", SD_BUS_ARGS("o", device), 0),
        SD_BUS_SIGNAL_WITH_ARGS("DriverChanged", SD_BUS_ARGS("o", device, "s", old_driver, "s", new_driver), 0),
        SD_BUS_VTABLE_END
};

int vh_bus_manager_register(VhDaemon *d) {
        int r;

        r = sd_bus_add_object_vtable(d->bus, NULL, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, manager_vtable, d);
        if (r < 0)
                return r;

        /* GetManagedObjects on /org/vfiohost: everything for a listing in
         * one round trip. */
        r = sd_bus_add_object_manager(d->bus, NULL, VH_MANAGER_PATH);
        if (r < 0)
                return r;

        r = vh_bus_device_register(d);
        if (r < 0)
                return r;

        r = vh_bus_group_register(d);
        if (r < 0)
                return r;

        /* After Device1's and Group1's own: HeldBy comes last in each. */
        return vh_bus_vms_register(d);
}
