/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The verbs. Each gets a connected bus and its own arguments (argv[0] is
 * the verb), reports its errors through ctl-output, and returns the exit
 * code (CTL_EXIT_*), since an exit code carries more than success or errno. */

#include <systemd/sd-bus.h>

int verb_status(sd_bus *bus, int argc, char **argv);
int verb_list(sd_bus *bus, int argc, char **argv);
int verb_show(sd_bus *bus, int argc, char **argv);
int verb_groups(sd_bus *bus, int argc, char **argv);
