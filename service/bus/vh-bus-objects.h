/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "vh-daemon.h"

/* Object paths: /org/vfiohost/device/<encoded address>, /org/vfiohost/group/<N>. */
int vh_bus_device_path(const char *address, char **ret);
int vh_bus_group_path(unsigned id, char **ret);

/* Each registers its vtable (and node enumerator) on d->bus. */
int vh_bus_manager_register(VhDaemon *d);
int vh_bus_device_register(VhDaemon *d);
int vh_bus_group_register(VhDaemon *d);
