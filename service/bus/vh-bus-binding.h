/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "vh-daemon.h"

int vh_bus_binding_setup(VhDaemon *d);
bool vh_bus_binding_group_busy(const VhDaemon *d, unsigned group);

/* Starts reconciling the journal on a worker thread (after the name is
 * taken, so activation never waits for it); Reconciling is true meanwhile
 * and calls on the groups involved get Busy. */
int vh_bus_binding_start_reconcile(VhDaemon *d);

/* Waits for every running operation (each write is bounded by the write
 * timeout), replies where the bus still allows, frees them. Every exit
 * path calls it before the state the workers use is freed. */
void vh_bus_binding_finish_all(VhDaemon *d);

int vh_bus_method_bind(sd_bus_message *m, void *userdata, sd_bus_error *error);
int vh_bus_method_unbind(sd_bus_message *m, void *userdata, sd_bus_error *error);
