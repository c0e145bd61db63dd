/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* Manager1.GetStaticSetup: the boot-time VFIO setup for review
 * (vh-static-setup.h). Read-only: it changes nothing on the host. */
int vh_bus_method_get_static_setup(sd_bus_message *m, void *userdata, sd_bus_error *error);
