/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "vh-daemon.h"

/* Runs a host report at start, so Readiness has a value from the first call. */
int vh_bus_readiness_setup(VhDaemon *d);
/* Runs a host report again (a vfio module came or went) and emits
 * Readiness's PropertiesChanged when the verdict changed. */
int vh_bus_readiness_update(VhDaemon *d);

/* Logs the functions vfiohost bound that no process holds and no
 * assignment asks for (after the reconcile at start; docs/vms.md). */
void vh_bus_readiness_log_idle(VhDaemon *d);

int vh_bus_method_get_readiness(sd_bus_message *m, void *userdata, sd_bus_error *error);
int vh_bus_property_get_readiness(sd_bus *bus, const char *path, const char *interface, const char *property,
                                  sd_bus_message *reply, void *userdata, sd_bus_error *error);
