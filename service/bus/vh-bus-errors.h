/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* Registers the org.vfiohost.Error.* ↔ errno map with sd-bus, so that
 * sd_bus_error_set_errno() and clients' sd_bus_error_get_errno() agree. */
int vh_bus_errors_register(void);
