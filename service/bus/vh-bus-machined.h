/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include "vh-vms.h"

/* The names systemd-machined knows the VMs by (docs/vms.md, "Names"):
 * libvirt, systemd-vmspawn and others register each guest there as a
 * machine whose scope holds the VMM, under the name users see in virsh
 * and machinectl. Asked once per VM process, asynchronously and without
 * activating machined; a VM machined did not know is asked again when
 * machined announces a new machine (MachineNew), and a name goes when its
 * machine does (MachineRemoved). A name that arrives or goes is a
 * PropertiesChanged of VirtualMachine1.Name. */

typedef struct VhBusVms VhBusVms;
typedef struct VhBusMachined VhBusMachined;

/* Subscribes to machined's signals on the daemon's bus; NULL (no names,
 * logged) when the daemon has no bus or the match cannot be added. */
VhBusMachined *vh_bus_machined_new(VhBusVms *t);
VhBusMachined *vh_bus_machined_free(VhBusMachined *m);
static inline void vh_bus_machined_freep(VhBusMachined **m) {
        vh_bus_machined_free(*m);
}

/* After each scan: asks about the VMs not asked about yet, forgets those
 * gone (a pid reused by another process is another VM). */
void vh_bus_machined_sync(VhBusMachined *m, const VhVm *vms, size_t n);

/* machined's name for the VM, NULL while unknown or when it has none. */
const char *vh_bus_machined_name(const VhBusMachined *m, const VhVm *v);

/* What VirtualMachine1.Name says: machined's name, else the VMM's own
 * (QEMU's -name guest=), else the command. */
const char *vh_bus_vm_display_name(const VhBusVms *t, const VhVm *v);
