/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "vh-daemon.h"

int vh_bus_binding_setup(VhDaemon *d);
bool vh_bus_binding_group_busy(const VhDaemon *d, unsigned group);

int vh_bus_method_bind(sd_bus_message *m, void *userdata, sd_bus_error *error);
int vh_bus_method_unbind(sd_bus_message *m, void *userdata, sd_bus_error *error);
