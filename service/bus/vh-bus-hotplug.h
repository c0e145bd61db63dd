/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "vh-daemon.h"

/* uevents → the live model → signals (docs/hotplug.md). */

/* Opens the udev monitor; called before the first enumeration so nothing
 * falls in between. Only on the host root ("/", a umockdev testbed
 * included): a recorded tree under --root has no udev. A monitor that
 * cannot be opened is logged and the daemon goes on without hotplug. */
void vh_bus_hotplug_open(VhDaemon *d);

/* Watches the monitor on the event loop. */
int vh_bus_hotplug_setup(VhDaemon *d);

void vh_bus_hotplug_free(VhDaemon *d);

/* Manager1.Subscribe() and Unsubscribe(): both idempotent. A subscriber
 * keeps the daemon from exiting when idle until it unsubscribes or leaves
 * the bus. Signals go out whether anyone subscribed or not. */
int vh_bus_method_subscribe(sd_bus_message *m, void *userdata, sd_bus_error *error);
int vh_bus_method_unsubscribe(sd_bus_message *m, void *userdata, sd_bus_error *error);
bool vh_bus_hotplug_has_subscribers(const VhDaemon *d);
