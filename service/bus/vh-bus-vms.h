/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "vh-daemon.h"

/* Who holds what, on the bus (docs/vms.md, "On the bus"): VirtualMachine1
 * objects at /org/vfiohost/vm/<pid>, Process1 objects for the other VFIO
 * holders at /org/vfiohost/process/<pid>, and Device1/Group1.HeldBy.
 *
 * Kept current by events, not polling: inotify on the KVM, iommufd and
 * VFIO nodes beneath the root (an open or close of one), on dev/vfio and
 * dev/vfio/devices (nodes that come and go), and on process exit (a pidfd
 * per holder on the host root; beneath a fixture root, whose pids are
 * fake, the root's proc directory). Any event arms a short timer; when it
 * fires, one full vh_vms_scan is diffed against the last by pid and every
 * difference becomes its signal. */

/* Sets up the watches and seeds the list with a scan. Before the objects
 * are exported (vh_bus_vms_register): they read it. A watch that cannot
 * be set is logged; the objects still show what the scans find. */
int vh_bus_vms_setup(VhDaemon *d);
void vh_bus_vms_free(VhDaemon *d);

/* The VirtualMachine1 and Process1 vtables and node enumerators, and the
 * HeldBy property of Device1 and Group1. */
int vh_bus_vms_register(VhDaemon *d);

/* "PID", "NAME" pairs of the VMs systemd-machined names (VhBindPlan's
 * vm_names); *ret NULL when there are none. */
int vh_bus_vms_machined_names(const VhDaemon *d, char ***ret);

/* Full scans so far (the seed included), for tests and logs. */
uint64_t vh_bus_vms_scans(const VhDaemon *d);
