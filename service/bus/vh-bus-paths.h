/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "vh-address.h"

/* Object paths, both ways: /org/vfiohost/device/<sd_bus_path_encode of the
 * address>, /org/vfiohost/group/<N>. A caller names objects by path, so the
 * parsing direction takes untrusted input (tests/fuzz/fuzz-object-path.c). */

int vh_bus_device_path(const char *address, char **ret);
int vh_bus_group_path(unsigned id, char **ret);

/* The canonical address a device path names: 1, or 0 when path is not
 * exactly the path vh_bus_device_path() gives for a valid address (no other
 * spelling of it). Negative on OOM. */
int vh_bus_device_address_from_path(const char *path, char ret[VH_ADDRESS_MAX]);

/* The group number a group path names: 1, or 0 when path is not exactly
 * VH_GROUP_PATH_PREFIX "/" followed by a canonical decimal number. */
int vh_bus_group_id_from_path(const char *path, unsigned *ret);
