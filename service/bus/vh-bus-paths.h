/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include <systemd/sd-bus.h>

#include "vh-address.h"

/* Object paths, both ways: /org/vfiohost/device/<sd_bus_path_encode of the
 * address>, /org/vfiohost/group/<N>, /org/vfiohost/vm/<pid>,
 * /org/vfiohost/process/<pid>. A caller names objects by path, so the
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

/* A VM's object (VirtualMachine1) and another VFIO holder's (Process1). */
int vh_bus_vm_path(pid_t pid, char **ret);
int vh_bus_process_path(pid_t pid, char **ret);

/* The pid a path below prefix (VH_VM_PATH_PREFIX, VH_PROCESS_PATH_PREFIX)
 * names: 1, or 0 unless it is prefix "/" and a canonical decimal pid > 0. */
int vh_bus_pid_from_path(const char *path, const char *prefix, pid_t *ret);

/* Appends an "ao": the device objects of addresses (only PCI addresses
 * have one; others are left out), or the group objects of ids. */
int vh_bus_append_device_paths(sd_bus_message *m, char * const *addresses);
int vh_bus_append_group_paths(sd_bus_message *m, const unsigned *ids, size_t n);
