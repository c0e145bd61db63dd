/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* Registers the org.vfiohost.Error.* ↔ errno map with sd-bus, so that
 * sd_bus_error_set_errno() and clients' sd_bus_error_get_errno() agree. */
int vh_bus_errors_register(void);

#include "vh-error.h"

/* The D-Bus error name for a core error code. */
const char *vh_bus_error_name(VhErrorCode code);
/* Sets error from a core error; returns its negative errno. */
int vh_bus_error_set(sd_bus_error *error, const VhError *e);
/* Replies to call with the error (for replies sent later). */
int vh_bus_reply_error(sd_bus_message *call, const VhError *e);
