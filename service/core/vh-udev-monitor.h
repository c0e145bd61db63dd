/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "vh-address.h"

/* The daemon's one udev monitor: PCI uevents as udevd re-broadcasts them
 * (the "udev" source, after rules ran), filtered on subsystem "pci" in the
 * kernel and checked again here; and "module" events of the vfio modules,
 * which change whether VFIO is available. Created and receiving before the first
 * enumeration, so nothing falls in between (docs/hotplug.md). */

typedef enum VhUeventAction {
        VH_UEVENT_ADD,
        VH_UEVENT_REMOVE,
        VH_UEVENT_CHANGE,
        VH_UEVENT_MOVE,
        VH_UEVENT_BIND,
        VH_UEVENT_UNBIND,
        VH_UEVENT_OTHER,        /* online, offline, anything newer */
} VhUeventAction;

typedef struct VhUevent {
        VhUeventAction action;
        char address[VH_ADDRESS_MAX];   /* canonical; "" for a module event */
        char module[64];                /* a vfio or IOMMU module loaded or unloaded; "" otherwise */
} VhUevent;

/* A source of uevents: the real monitor, or a script in unit tests. Fills
 * ev and returns 1, returns 0 when nothing more is pending, or -errno
 * (-ENOBUFS: the kernel dropped events). An event that is not about a PCI
 * function or a vfio module (another subsystem, no address) is skipped by
 * returning 1 with ev->address and ev->module empty. */
typedef int (*VhUeventReceive)(void *source, VhUevent *ev);

typedef struct VhUdevMonitor VhUdevMonitor;

/* Opens the monitor with a receive buffer of buffer_size bytes (the kernel
 * clamps it to net.core.rmem_max unless we may force it). */
int vh_udev_monitor_new(size_t buffer_size, VhUdevMonitor **ret);
VhUdevMonitor *vh_udev_monitor_free(VhUdevMonitor *m);
static inline void vh_udev_monitor_freep(VhUdevMonitor **m) {
        vh_udev_monitor_free(*m);
}
int vh_udev_monitor_get_fd(const VhUdevMonitor *m);
/* The receive buffer the kernel granted (SO_RCVBUF reads back double). */
int vh_udev_monitor_get_buffer_size(const VhUdevMonitor *m);
/* The VhUeventReceive of a real monitor; source is the VhUdevMonitor. */
int vh_udev_monitor_receive(void *source, VhUevent *ev);

typedef void (*VhUeventHandler)(const VhUevent *ev, void *userdata);

/* Reads everything pending from receive(source), handing each PCI or
 * module event to handler. Lost events (ENOBUFS) are not fatal: *ret_overflowed is set and
 * reading goes on; the caller rescans. Returns the number of PCI events,
 * or -errno of any other receive failure. */
int vh_uevents_drain(VhUeventReceive receive, void *source, VhUeventHandler handler, void *userdata,
                     bool *ret_overflowed);

const char *vh_uevent_action_to_string(VhUeventAction a);
VhUeventAction vh_uevent_action_from_string(const char *s);
