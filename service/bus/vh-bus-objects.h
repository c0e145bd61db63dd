/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "vh-bus-paths.h"
#include "vh-daemon.h"

/* Each registers its vtable (and node enumerator) on d->bus. */
int vh_bus_manager_register(VhDaemon *d);
int vh_bus_device_register(VhDaemon *d);
int vh_bus_group_register(VhDaemon *d);

/* Device1's properties: the device's own (userdata: the VhPciDevice) and
 * HeldBy (userdata: d->vms), in the order GetManagedObjects gives them. */
extern const sd_bus_vtable vh_bus_device_vtable[];
extern const sd_bus_vtable vh_bus_device_held_by_vtable[];

/* Manager1.ListDevices (vh-bus-device-list.c). */
int vh_bus_method_list_devices(sd_bus_message *m, void *userdata, sd_bus_error *error);
