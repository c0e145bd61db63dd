/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "vh-bus-paths.h"
#include "vh-daemon.h"

/* Each registers its vtable (and node enumerator) on d->bus. */
int vh_bus_manager_register(VhDaemon *d);
int vh_bus_device_register(VhDaemon *d);
int vh_bus_group_register(VhDaemon *d);
